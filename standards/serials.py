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
(:func:`load_layouts`, or the ``CARBONLINK_SERIAL_LAYOUTS`` environment variable); see
``docs/serials.md``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from standards.errors import CarbonlinkError, MalformedInput, UnknownFormat
from standards.safeio import load_json, read_bytes

__all__ = [
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

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
LAYOUTS_ENV = "CARBONLINK_SERIAL_LAYOUTS"
#: Longer text is refused before any pattern runs (real serials are under 120 characters).
MAX_SERIAL_LENGTH = 512


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
        for match in _PLACEHOLDER.finditer(self.template):
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
        return _PLACEHOLDER.sub(lambda m: parts[m[1]], self.template)

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
        """The first ``quantity`` units and the rest (the holder keeps the lower range, UNDP §13.6)."""
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


class SerialCatalogue:
    """Layouts by scheme; parsing tries a scheme's variants in order."""

    def __init__(self, layouts: Iterable[SerialLayout] = ()) -> None:
        self._layouts: list[SerialLayout] = []
        self._by_scheme: dict[str | None, tuple[SerialLayout, ...]] = {}
        for layout in layouts:
            self.add(layout)

    def add(self, layout: SerialLayout) -> None:
        if any(existing.variant == layout.variant for existing in self._layouts):
            raise SerialLayoutError(f"layout {layout.variant} is declared twice")
        self._layouts.append(layout)
        self._by_scheme.clear()

    def _candidates(self, scheme: str | None) -> tuple[SerialLayout, ...]:
        found = self._by_scheme.get(scheme)
        if found is None:
            found = self._by_scheme[scheme] = tuple(self.layouts(scheme))
        return found

    def __iter__(self) -> Iterator[SerialLayout]:
        return iter(self._layouts)

    def schemes(self) -> list[str]:
        return list(dict.fromkeys(layout.scheme for layout in self._layouts))

    def layouts(self, scheme: str | None = None) -> list[SerialLayout]:
        if scheme is None:
            return list(self._layouts)
        found = [layout for layout in self._layouts if layout.scheme == scheme]
        if not found:
            raise UnknownSerialScheme(
                f"no serial scheme named {scheme!r} (known: {', '.join(self.schemes())})")
        return found

    def variant(self, name: str) -> SerialLayout:
        for layout in self._layouts:
            if layout.variant == name:
                return layout
        raise UnknownSerialScheme(f"no serial layout named {name!r}")

    def parse(self, text: str, scheme: str | Iterable[str] | None = None, *,
              quantity: int | Decimal | str | None = None) -> Serial:
        """Parse ``text`` (trying ``scheme``'s layouts, or all) and check it against ``quantity``."""
        if len(text) > MAX_SERIAL_LENGTH:
            raise InvalidSerial(f"a serial of {len(text)} characters is longer than {MAX_SERIAL_LENGTH}")
        candidates: Iterable[SerialLayout]
        if isinstance(scheme, str) or scheme is None:
            candidates = self._candidates(scheme)
        else:
            candidates = [layout for name in scheme for layout in self.layouts(name)]
        for layout in candidates:
            serial = layout.match(text)
            if serial is not None:
                if quantity is not None:
                    serial.check_quantity(quantity)
                return serial
        wanted = scheme if isinstance(scheme, str) else "any known" if scheme is None else "/".join(scheme)
        shown = text if len(text) <= 120 else text[:117] + "..."
        raise InvalidSerial(f"{shown!r} is not a {wanted} serial number")


def build_serial(layout: SerialLayout, parts: Mapping[str, object]) -> Serial:
    """Make a serial from its parts (``first``/``last`` as integers or text) and check the result."""
    missing = [name for name in layout.names if name not in parts]
    if missing:
        raise InvalidSerial(f"a {layout.variant} serial needs {', '.join(missing)}")
    text = layout.format({name: str(parts[name]) for name in layout.names})
    serial = layout.match(text)
    if serial is None:
        raise InvalidSerial(f"the parts give {text!r}, which is not a valid {layout.variant} serial")
    return serial


def _layout(scheme: str, variant: str, template: str, fields: Mapping[str, str], example: str,
            description: str, reference: str, *, quantity_checked: bool = True) -> SerialLayout:
    return SerialLayout(scheme, variant, template, dict(fields), example, description, reference,
                        quantity_checked)


_NUM = r"\d+"
_CC2 = r"[A-Z]{2}"
_VERRA_FIELDS = {
    "batch": _NUM, "first": _NUM, "last": _NUM, "program": r"[A-Z]{2,5}", "unit_type": r"[A-Z]{3,4}",
    "code": _NUM, "system": r"[A-Z]{3}", "country": _CC2, "scope": r"\d{1,2}", "project": _NUM,
    "vintage_start": r"\d{8}", "vintage_end": r"\d{8}", "certified": r"[01]",
}
_APX_RANGE = {"to": " to ", "dash": "-"}
_KYOTO_FIELDS = {"country": _CC2, "unit_type": r"\d", "first": _NUM, "last": _NUM,
                 "original_cp": r"\d", "applicable_cp": r"\d", "lulucf": _NUM, "project": _NUM}
_KYOTO_ID = "{country}-{unit_type}-%s-{original_cp}-{applicable_cp}-{lulucf}-{project}"


#: Public sources the built-in layouts cite.
_OFFSETS_DB = "CarbonPlan OffsetsDB, github.com/carbonplan/offsets-db-data"
_KYOTO_DES = ("Kyoto unit identifier elements: UNFCCC Data Exchange Standards for registry systems under the "
              "Kyoto Protocol")


def _builtin_layouts() -> list[SerialLayout]:
    ref_v = (f"{_OFFSETS_DB} (Verra VCU serials); variants as parsed by github.com/stellarcarbon/sc-audit "
             "(VcsSerialNumber)")
    out = [
        _layout("verra", "verra-13",
                "{batch}-{first}-{last}-{program}-{unit_type}-{code}-{system}-{country}-{scope}-{project}"
                "-{vintage_start}-{vintage_end}-{certified}", _VERRA_FIELDS,
                "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
                "Verra VCU block, 13 tokens", ref_v),
        _layout("verra", "verra-12-no-program",
                "{batch}-{first}-{last}-{unit_type}-{code}-{system}-{country}-{scope}-{project}"
                "-{vintage_start}-{vintage_end}-{certified}", _VERRA_FIELDS,
                "8040-449402275-449402275-VCU-042-MER-PE-14-1360-01072013-30062014-1",
                "legacy Verra VCU block without the programme code", ref_v),
        _layout("verra", "verra-12-no-scope",
                "{batch}-{first}-{last}-{program}-{unit_type}-{code}-{system}-{country}-{project}"
                "-{vintage_start}-{vintage_end}-{certified}", _VERRA_FIELDS,
                "19902-1139690318-1139925921-VCS-VCU-500-VER-US-3352-01012024-31122024-0",
                "Verra VCU block from the S&P-hosted registry, without the sectoral scope", ref_v),
        _layout("gold-standard", "gold-standard-9",
                "{registry_code}-{unit_code}-{country}-GS{project}-{type_code}-{vintage}-{batch}-{first}-{last}",
                {"registry_code": r"GS\d+", "unit_code": _NUM, "country": _CC2, "project": _NUM,
                 "type_code": _NUM, "vintage": r"\d{4}", "batch": _NUM, "first": _NUM, "last": _NUM},
                "GS1-1-UG-GS11236-16-2024-30307-1-19149", "Gold Standard VER block, 9 tokens",
                f"{_OFFSETS_DB} (Gold Standard serials)"),
        _layout("kyoto", "kyoto-range", (_KYOTO_ID % "{first}") + " - " + (_KYOTO_ID % "{last}"),
                _KYOTO_FIELDS, "RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014",
                "Kyoto/CDM unit identifiers as a range (CERs held in Gold Standard)",
                f"{_OFFSETS_DB} (Gold Standard CERs); {_KYOTO_DES}"),
        _layout("kyoto", "kyoto-unit", _KYOTO_ID % "{first}", _KYOTO_FIELDS, "RW-5-1463953-2-2-0-7014",
                "one Kyoto/CDM unit identifier", f"{_OFFSETS_DB} (Gold Standard CERs); {_KYOTO_DES}"),
    ]
    apx_fields = {"country": _CC2, "project": _NUM, "vintage": r"\d{4}", "batch": _NUM, "first": _NUM,
                  "last": _NUM, "unit_type": r"1|ROC", "type_code": _NUM, "developer": _NUM,
                  "state": r"[A-Z]{2}", "program": r"ART|FCPF"}
    apx = {
        "acr": ("ACR-{country}-{project}-{vintage}-{batch}-{first}%s{last}",
                {"to": "ACR-FR-1129-2025-2917-30932 to 35143", "dash": "ACR-US-192-2010-203-1-5000"},
                f"{_OFFSETS_DB} (ACR serials); dash range: "
                "help.cloverly.com/knowledge/registry-serial-number-ranges"),
        "car": ("CAR-{unit_type}-{country}-{project}-{type_code}-{developer}-{state}-{vintage}-{batch}"
                "-{first}%s{last}",
                {"to": "CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000",
                 "dash": "CAR-ROC-US-2056-129-2283-WV-2025-8969-1-260294"},
                "climateactionreserve.org/how/projects/serial-number-guide/; "
                f"{_OFFSETS_DB} (CAR serials)"),
        "art": ("{program}-{country}-{project}-{vintage}-{batch}-{first}%s{last}",
                {"to": "ART-GY-102-2021-11-2759599 to 2760598", "dash": "FCPF-CI-130-2023-20-1-46404"},
                f"{_OFFSETS_DB} (ART TREES serials)"),
    }
    for scheme, (template, examples, ref) in apx.items():
        for sep_name, sep in _APX_RANGE.items():
            used = {n: apx_fields[n] for n in _PLACEHOLDER.findall(template)}
            out.append(_layout(scheme, f"{scheme}-{sep_name}", template % sep, used, examples[sep_name],
                               f"{scheme.upper()} block, range written '{sep.strip() or '-'}'", ref))
    out.append(_layout(
        "undp-v2", "undp-v2",
        "{cooperative_approach}-{originating_party}-{first_transferring_party}-{project}-{first}-{last}-{vintage}",
        {"cooperative_approach": r"CA[0-9A-Z]{4}", "originating_party": r"[A-Z]{2,3}",
         "first_transferring_party": r"[A-Z]{2,3}", "project": _NUM, "first": _NUM, "last": _NUM,
         "vintage": r"\d{4}"},
        "CA0004-VU-CH-356-3001-5000-2024", "UNDP National Carbon Registry v2 (ITMO-style) block",
        "github.com/undp/undp-national-carbon-registry (serial-number-management.service.ts, README); "
        "ITMO identifier elements: decision 6/CMA.4, annex I, para 5"))
    out.append(_layout(
        "undp-v1", "undp-v1", "{country}-{unit}-{scope}-{project}-{year}-{reserved}-{first}-{last}",
        {"country": _CC2, "unit": r"[A-Z][A-Z0-9]*", "scope": r"\d{1,2}", "project": _NUM,
         "year": r"\d{4}", "reserved": r"\d", "first": _NUM, "last": _NUM},
        "VU-ITMO-11-356-2022-0-27-35",
        "UNDP carbon registry v1 programme serial (range = country-cumulative estimate, not a block size)",
        "github.com/undp/carbon-registry (libs/serial-number-gen, README and generator.ts)",
        quantity_checked=False))
    return out


def layouts_from_json(data: Any, *, source: str = "layout file") -> list[SerialLayout]:
    """Layouts from the JSON shape ``{"layouts": [{scheme, variant, template, fields, example, ...}]}``."""
    if not isinstance(data, dict) or not isinstance(data.get("layouts"), list):
        raise SerialLayoutError(f"{source}: expected an object with a 'layouts' list")
    out: list[SerialLayout] = []
    for index, item in enumerate(data["layouts"]):
        where = f"{source} layouts[{index}]"
        if not isinstance(item, dict):
            raise SerialLayoutError(f"{where}: expected an object")
        try:
            fields = item["fields"]
            if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
                raise SerialLayoutError(f"{where}: 'fields' must map names to regular expressions")
            out.append(SerialLayout(
                scheme=str(item["scheme"]), variant=str(item.get("variant", item["scheme"])),
                template=str(item["template"]), fields=dict(fields), example=str(item["example"]),
                description=str(item.get("description", "")), reference=str(item.get("reference", "")),
                quantity_checked=bool(item.get("quantity_checked", True))))
        except KeyError as exc:
            raise SerialLayoutError(f"{where}: missing {exc.args[0]!r}") from exc
    return out


def load_layouts(path: str | Path) -> list[SerialLayout]:
    """Read configured layouts (for schemes such as A6.4ER) from a JSON file."""
    return layouts_from_json(load_json(read_bytes(path), what=str(path)), source=str(path))


_DEFAULT: SerialCatalogue | None = None


def default_catalogue() -> SerialCatalogue:
    """Built-in layouts, then those in the file named by ``CARBONLINK_SERIAL_LAYOUTS`` (if set)."""
    global _DEFAULT
    if _DEFAULT is None:
        catalogue = SerialCatalogue(_builtin_layouts())
        configured = os.environ.get(LAYOUTS_ENV)
        if configured:
            for layout in load_layouts(configured):
                catalogue.add(layout)
        _DEFAULT = catalogue
    return _DEFAULT


def parse_serial(text: str, scheme: str | Iterable[str] | None = None, *,
                 quantity: int | Decimal | str | None = None) -> Serial:
    """Parse a serial with the default catalogue; see :meth:`SerialCatalogue.parse`."""
    return default_catalogue().parse(text, scheme, quantity=quantity)
