"""The serial catalogue: layouts by scheme, parsing with a quantity check, and configured layouts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from standards._options import current_options
from standards.safeio import load_json, read_bytes
from standards.serials._builtin import builtin_layouts
from standards.serials._errors import InvalidSerial, SerialLayoutError, UnknownSerialScheme
from standards.serials._layout import Serial, SerialLayout

#: The variable the edge reads into :attr:`standards.Options.serial_layouts`.
LAYOUTS_ENV = "CARBONLINK_SERIAL_LAYOUTS"
#: Longer text is refused before any pattern runs (real serials are under 120 characters).
MAX_SERIAL_LENGTH = 512


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
            candidates = [layout for name in scheme for layout in self._candidates(name)]
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


def default_catalogue() -> SerialCatalogue:
    """Built-in layouts, then those in :attr:`standards.Options.serial_layouts` (if set)."""
    return _catalogue(current_options().serial_layouts)


@lru_cache(maxsize=8)
def _catalogue(layouts_file: Path | None) -> SerialCatalogue:
    """One catalogue per layouts file, built on first use (keyed on the option, not the environment)."""
    catalogue = SerialCatalogue(builtin_layouts())
    if layouts_file is not None:
        for layout in load_layouts(layouts_file):
            catalogue.add(layout)
    return catalogue


def parse_serial(text: str, scheme: str | Iterable[str] | None = None, *,
                 quantity: int | Decimal | str | None = None) -> Serial:
    """Parse a serial with the default catalogue; see :meth:`SerialCatalogue.parse`."""
    return default_catalogue().parse(text, scheme, quantity=quantity)
