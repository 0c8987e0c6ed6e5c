"""Registry serial numbers: parse into named parts plus an integer unit range, format, split, merge.

Each registry writes a unit block as one string whose tokens name the batch, project, country,
vintage and the first and last unit. A :class:`SerialLayout` describes one spelling with a small
template (``{name}`` placeholders, everything else literal) and a pattern per placeholder; a
:class:`Serial` is one parsed block. Formatting a parsed serial gives back the exact input::

    >>> s = parse_serial("ACR-US-1185-2025-3078-1 to 85847")
    >>> s.scheme, s.first, s.last, s.quantity, s.part("project")
    ('acr', 1, 85847, 85847, '1185')
    >>> [str(b) for b in s.split(1000)]
    ['ACR-US-1185-2025-3078-1 to 1000', 'ACR-US-1185-2025-3078-1001 to 85847']

Built-in layouts follow the registries' public exports as CarbonPlan's OffsetsDB collects them
(github.com/carbonplan/offsets-db-data: Verra, Gold Standard and GS-held CERs, ACR, CAR, ART),
the Climate Action Reserve serial number guide, and the UNDP registries' source code
(github.com/undp/carbon-registry, github.com/undp/undp-national-carbon-registry); each layout
names its source in ``reference`` and ``docs/serials.md`` lists them. Schemes nobody has published, such as the
Article 6.4 mechanism registry's A6.4ER identifiers, are added from a JSON file
(:func:`load_layouts`, or :attr:`standards.Options.serial_layouts`, which the edge reads from
``CARBONLINK_SERIAL_LAYOUTS``); see
``docs/serials.md``.
"""

from standards.serials._catalogue import (
    LAYOUTS_ENV,
    MAX_SERIAL_LENGTH,
    SerialCatalogue,
    build_serial,
    default_catalogue,
    layouts_from_json,
    load_layouts,
    parse_serial,
)
from standards.serials._errors import (
    InvalidSerial,
    SerialBlockError,
    SerialLayoutError,
    SerialQuantityMismatch,
    UnknownSerialScheme,
)
from standards.serials._layout import Serial, SerialLayout

__all__ = [
    "LAYOUTS_ENV",
    "MAX_SERIAL_LENGTH",
    "InvalidSerial",
    "Serial",
    "SerialBlockError",
    "SerialCatalogue",
    "SerialLayout",
    "SerialLayoutError",
    "SerialQuantityMismatch",
    "UnknownSerialScheme",
    "build_serial",
    "default_catalogue",
    "layouts_from_json",
    "load_layouts",
    "parse_serial",
]
