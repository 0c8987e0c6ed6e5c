"""The coded errors of serial-number parsing, formatting and block arithmetic."""

from __future__ import annotations

from standards.errors import CarbonlinkError, MalformedInput, UnknownFormat


class InvalidSerial(MalformedInput):
    """The text is not a serial number of the expected scheme."""

    code = "SERIAL.INVALID"


class SerialQuantityMismatch(MalformedInput):
    """A serial range's length disagrees with the quantity stated beside it."""

    code = "SERIAL.QUANTITY"


class SerialBlockError(CarbonlinkError):
    """A block operation that cannot be done (split outside the block, merge of non-adjacent blocks)."""

    code = "SERIAL.BLOCK"


class SerialLayoutError(CarbonlinkError):
    """A layout definition (built-in or configured) is inconsistent."""

    code = "SERIAL.LAYOUT"


class UnknownSerialScheme(UnknownFormat):
    code = "SERIAL.UNKNOWN_SCHEME"
