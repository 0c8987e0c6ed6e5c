"""Loading mappings: the built-in ones, files (YAML or JSON), and the configured one (adapter options)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from adapters._options import Options, current_options
from adapters.spreadsheet_mapping._compile import CompiledMapping, compile_mapping
from adapters.spreadsheet_mapping._model import (
    DEFAULT_MAPPING,
    MAPPINGS,
    MAX_MAPPING_BYTES,
    MappingError,
    SpreadsheetMapping,
)
from standards import InputError, load_json, read_bytes

# --------------------------------------------------------------------------- loading


def builtin_mappings() -> list[str]:
    """Names of the mappings shipped with carbonlink."""
    return sorted(p.name.removesuffix(".yaml") for p in MAPPINGS.iterdir() if p.name.endswith(".yaml"))


def _pydantic_problems(exc: ValidationError) -> list[tuple[str, str]]:
    out = []
    for err in exc.errors():
        key = ""
        for part in err["loc"]:
            key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key (see docs/adapters/spreadsheet.md for the keys a mapping may use)"
        elif err["type"] == "missing":
            message = "this key is required"
        out.append((key, message))
    return out


def mapping_from_data(data: object, *, source: str = "<mapping>") -> CompiledMapping:
    """Check and compile a mapping given as a dict (already read from YAML or JSON)."""
    if not isinstance(data, dict):
        raise MappingError(source, [("", "a mapping must be a YAML/JSON object with keys such as 'columns'")])
    try:
        spec = SpreadsheetMapping.model_validate(data)
    except ValidationError as exc:
        raise MappingError(source, _pydantic_problems(exc)) from exc
    return compile_mapping(spec, source=source)


class _PlainYamlLoader(yaml.SafeLoader):
    """YAML without aliases: ``*name`` references could expand a small file into a huge mapping."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a mapping",
                                              event.start_mark)
        return super().compose_node(parent, index)


def parse_mapping_text(raw: bytes, *, source: str) -> CompiledMapping:
    """Read a YAML or JSON mapping document."""
    if raw.lstrip().startswith(b"{"):
        try:
            data = load_json(raw, what=f"mapping {source}")
        except InputError as exc:
            raise MappingError(source, [("", exc.message)]) from exc
    else:
        try:
            data = yaml.load(raw.decode("utf-8-sig"), Loader=_PlainYamlLoader)  # a SafeLoader without aliases
        except UnicodeDecodeError as exc:
            raise MappingError(source, [("", "the mapping file is not UTF-8 text")]) from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise MappingError(source, [("", f"not valid YAML{where}: {getattr(exc, 'problem', exc)}")]) from exc
    return mapping_from_data(data, source=source)


def load_mapping(ref: str | Path | SpreadsheetMapping | CompiledMapping | dict[str, Any]) -> CompiledMapping:
    """A mapping from a built-in name, a file path, a dict, or a :class:`SpreadsheetMapping`."""
    if isinstance(ref, CompiledMapping):
        return ref
    if isinstance(ref, SpreadsheetMapping):
        return compile_mapping(ref, source=f"<{ref.name}>")
    if isinstance(ref, dict):
        return mapping_from_data(ref)
    text = str(ref)
    if isinstance(ref, str) and re.fullmatch(r"[a-z0-9][a-z0-9-]*", text):
        resource = MAPPINGS / f"{text}.yaml"
        if resource.is_file():
            return parse_mapping_text(resource.read_bytes(), source=f"built-in {text!r}")
        if not Path(text).exists():
            raise MappingError(text, [("", f"no built-in mapping named {text!r} and no such file "
                                           f"(built-in: {', '.join(builtin_mappings())})")])
    try:
        raw = read_bytes(Path(text), limit=MAX_MAPPING_BYTES)
    except InputError as exc:
        raise MappingError(text, [("", exc.message)]) from exc
    return parse_mapping_text(raw, source=text)


def configured_mapping(options: Options | None = None) -> CompiledMapping:
    """The mapping named by :attr:`adapters.Options.spreadsheet_mapping` of ``options`` (default: the
    options in force; ``CARBONLINK_SPREADSHEET_MAPPING`` at the edge), else the built-in ministry ledger."""
    return load_mapping((options or current_options()).spreadsheet_mapping or DEFAULT_MAPPING)
