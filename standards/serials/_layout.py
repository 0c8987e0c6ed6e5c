"""A serial layout (template plus field patterns) and the parsed serial it yields."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from standards.serials._errors import InvalidSerial, SerialBlockError, SerialLayoutError, SerialQuantityMismatch

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


@dataclass(frozen=True, eq=False)
class SerialLayout:
    """One spelling of one registry's serial numbers.

    ``template`` holds ``{name}`` placeholders and literal text; ``fields`` gives each placeholder
    a regular expression (no capturing groups). A placeholder used twice must repeat the same text
    (a Kyoto range repeats the identifier around the unit serial). ``first`` is required; without
    ``last`` the serial names one unit. ``quantity_checked`` is false where the range is not the
    block's size (UNDP v1 ranges cover the estimated credits of a whole programme).
    """

    scheme: str
    variant: str
    template: str
    fields: Mapping[str, str]
    example: str
    description: str = ""
    reference: str = ""
    quantity_checked: bool = True
    names: tuple[str, ...] = field(init=False)
    regex: re.Pattern[str] = field(init=False)
    _first_at: int = field(init=False)
    _last_at: int = field(init=False)
    _index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        pattern: list[str] = []
        names: list[str] = []
        pos = 0
        for match in PLACEHOLDER.finditer(self.template):
            pattern.append(re.escape(self.template[pos:match.start()]))
            name = match[1]
            if name not in self.fields:
                raise SerialLayoutError(f"layout {self.variant}: placeholder {{{name}}} has no pattern")
            if name in names:
                pattern.append(f"(?P={name})")
            else:
                names.append(name)
                pattern.append(f"(?P<{name}>{self.fields[name]})")
            pos = match.end()
        pattern.append(re.escape(self.template[pos:]))
        if "first" not in names:
            raise SerialLayoutError(f"layout {self.variant}: the template has no {{first}} placeholder")
        try:
            regex = re.compile("".join(pattern) + r"\Z", re.ASCII)
        except re.error as exc:
            raise SerialLayoutError(f"layout {self.variant}: bad field pattern ({exc})") from exc
        if regex.groups != len(names):
            raise SerialLayoutError(f"layout {self.variant}: field patterns must not capture groups")
        object.__setattr__(self, "names", tuple(names))
        object.__setattr__(self, "regex", regex)
        object.__setattr__(self, "_index", {name: i for i, name in enumerate(names)})
        object.__setattr__(self, "_first_at", names.index("first"))
        object.__setattr__(self, "_last_at", names.index("last") if "last" in names else -1)
        parsed = self.match(self.example)
        if parsed is None or parsed.format() != self.example:
            raise SerialLayoutError(f"layout {self.variant}: example {self.example!r} does not round-trip")

    def __repr__(self) -> str:
        return f"SerialLayout({self.variant!r})"

    @property
    def has_range(self) -> bool:
        return "last" in self.names

    def match(self, text: str) -> Serial | None:
        """The parsed serial, or ``None`` when ``text`` does not have this layout."""
        m = self.regex.match(text)
        if m is None:
            return None
        values: tuple[str, ...] = m.groups()
        first = int(values[self._first_at])
        last = int(values[self._last_at]) if self._last_at >= 0 else first
        if last < first:
            raise InvalidSerial(f"{text!r} runs backwards: its last unit {last} is before its first {first}")
        return Serial(self, values, first, last)

    def format(self, parts: Mapping[str, str]) -> str:
        return PLACEHOLDER.sub(lambda m: parts[m[1]], self.template)

    def as_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "variant": self.variant, "template": self.template,
                "fields": dict(self.fields), "example": self.example, "description": self.description,
                "reference": self.reference, "quantity_checked": self.quantity_checked}


def _digits_like(number: int, original: str) -> str:
    """Write ``number`` zero-padded to the width of ``original`` when that had leading zeros."""
    if len(original) > 1 and original.startswith("0"):
        return str(number).zfill(len(original))
    return str(number)


@dataclass(frozen=True, slots=True)
class Serial:
    """A parsed serial: its layout, its part values as written (in ``layout.names`` order), the range."""

    layout: SerialLayout
    values: tuple[str, ...]
    first: int
    last: int

    @property
    def parts(self) -> tuple[tuple[str, str], ...]:
        """``(name, text)`` pairs in template order."""
        return tuple(zip(self.layout.names, self.values, strict=True))

    @property
    def scheme(self) -> str:
        return self.layout.scheme

    @property
    def variant(self) -> str:
        return self.layout.variant

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1

    def part(self, name: str) -> str | None:
        index = self.layout._index.get(name)
        return None if index is None else self.values[index]

    def as_dict(self) -> dict[str, str]:
        return dict(self.parts)

    @property
    def series(self) -> tuple[object, ...]:
        """Everything but the unit range: only blocks of one series compare, split and merge."""
        skip = (self.layout._first_at, self.layout._last_at)
        return (self.layout.variant, *(v for i, v in enumerate(self.values) if i not in skip))

    @property
    def vintage(self) -> int | None:
        """The vintage year: the ``vintage`` part, or the year of a ``DDMMYYYY`` ``vintage_end``."""
        raw = self.part("vintage")
        if raw is not None and raw.isdigit():
            return int(raw)
        end = self.part("vintage_end")
        if end is not None and len(end) == 8 and end.isdigit():
            return int(end[4:])
        return None

    def format(self) -> str:
        return self.layout.format(dict(self.parts))

    def __str__(self) -> str:
        return self.format()

    def check_quantity(self, quantity: int | Decimal | str) -> None:
        """Raise :class:`SerialQuantityMismatch` when the range length is not ``quantity``."""
        if not self.layout.quantity_checked:
            return
        if not isinstance(quantity, str) and quantity == self.last - self.first + 1:
            return
        try:
            stated = Decimal(str(quantity).replace(",", ""))
        except InvalidOperation as exc:
            raise SerialQuantityMismatch(f"quantity {quantity!r} is not a number") from exc
        if stated != self.quantity:
            raise SerialQuantityMismatch(
                f"serial {self.format()} covers {self.quantity} units ({self.last} - {self.first} + 1) "
                f"but the quantity is {quantity}"
            )

    def with_range(self, first: int, last: int) -> Serial:
        """The same series with another unit range."""
        if first < 0 or last < first:
            raise SerialBlockError(f"{first}-{last} is not a valid unit range (first <= last)")
        if not self.layout.has_range and first != last:
            raise SerialBlockError(f"a {self.variant} serial names one unit; it cannot hold {first}-{last}")
        values = list(self.values)
        values[self.layout._first_at] = _digits_like(first, values[self.layout._first_at])
        if self.layout._last_at >= 0:
            values[self.layout._last_at] = _digits_like(last, values[self.layout._last_at])
        return Serial(self.layout, tuple(values), first, last)

    def overlaps(self, other: Serial) -> bool:
        return self.series == other.series and self.first <= other.last and other.first <= self.last

    def contains(self, other: Serial) -> bool:
        return self.series == other.series and self.first <= other.first and other.last <= self.last

    def split(self, quantity: int) -> tuple[Serial, Serial]:
        """The first ``quantity`` units and the rest (the holder keeps the lower range, as in UNDP's
        ``serial-number-management.service.ts``)."""
        if not 0 < quantity < self.quantity:
            raise SerialBlockError(f"cannot split a block of {self.quantity} units at {quantity}")
        cut = self.first + quantity
        return self.with_range(self.first, cut - 1), self.with_range(cut, self.last)

    def merge(self, other: Serial) -> Serial:
        """Join two adjacent blocks of one series into one."""
        if self.series != other.series:
            raise SerialBlockError(f"{self} and {other} are not in the same series")
        lo, hi = (self, other) if self.first <= other.first else (other, self)
        if lo.last + 1 != hi.first:
            raise SerialBlockError(f"blocks {lo.first}-{lo.last} and {hi.first}-{hi.last} are not adjacent")
        return lo.with_range(lo.first, hi.last)
