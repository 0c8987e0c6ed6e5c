"""The inputs of `validate` and `translate`: reading files (one, several CSV exports of a registry, a folder)
and recognising their format when the user does not name it."""

from __future__ import annotations

from pathlib import Path

from adapters import AdapterCatalog, RegistryAdapter, default_catalog
from adapters.translate import FormatNotDetected, detect_format
from gateway.cli._common import err
from standards.codec import Medium
from standards.errors import UnknownFormat
from standards.safeio import read_bytes


def input_medium(path: Path, override: str | None) -> Medium:
    if override:
        try:
            return Medium(override.lower())
        except ValueError as exc:
            raise UnknownFormat(f"unknown medium {override!r} (json, csv, xlsx, xml)") from exc
    if path.is_dir():
        return Medium.CSV
    return Medium.from_name(path)


def read_input(path: Path, medium: Medium) -> bytes:
    if path.is_dir():
        from standards.tabular import pack_csv_directory

        return pack_csv_directory(path)
    return read_bytes(path)


def read_inputs(files: list[Path], medium: Medium) -> bytes:
    """One input as :func:`read_input` reads it; several CSV exports packed as one folder of CSV tables."""
    if len(files) == 1:
        return read_input(files[0], medium)
    from standards.tabular import pack_csv_files

    return pack_csv_files(files)


#: How much of one large CSV export format detection reads (its header and first rows name the format).
DETECTION_SAMPLE_BYTES = 1024 * 1024


def detection_sample(files: list[Path], medium: Medium) -> tuple[bytes, bool]:
    """What format detection reads, and whether it is the whole input: the first whole lines of one large CSV
    export (so that a file over the whole-file limit can still stream), else the input as translate reads it."""
    file = files[0]
    if len(files) == 1 and medium is Medium.CSV and file.is_file() and file.stat().st_size > DETECTION_SAMPLE_BYTES:
        with file.open("rb") as handle:
            head = handle.read(DETECTION_SAMPLE_BYTES)
        return head[: head.rfind(b"\n") + 1] or head, False
    return read_inputs(files, medium), True


def detected_format(data: bytes, medium: Medium) -> tuple[RegistryAdapter, str]:
    """The adapter that recognises ``data`` and how to name it: a format, else a bundled spreadsheet mapping."""
    from adapters._detect_mapping import detect_spreadsheet_mapping

    try:
        name = detect_format(data, medium=medium)
    except FormatNotDetected:
        register = detect_spreadsheet_mapping(data, medium=medium)
        if register is None:
            raise
        return register, f"spreadsheet (mapping {register.mapping.spec.name})"
    return default_catalog().get(name), name


def detected_source(files: list[Path], data: bytes, medium: Medium) -> tuple[RegistryAdapter, str]:
    """The source adapter detected for ``translate`` without ``--from``, named on stderr."""
    try:
        adapter, name = detected_format(data, medium)
    except FormatNotDetected as exc:
        raise FormatNotDetected(exc.message.replace("--format", "--from")) from exc
    err.print(f"carbonlink: {', '.join(map(str, files))}: detected format {name} (name another with --from)",
              markup=False)
    return adapter, name


def with_detected(catalog: AdapterCatalog | None, adapter: RegistryAdapter | None,
                   detected: str | None) -> AdapterCatalog | None:
    """The catalogue, with the bundled spreadsheet mapping detection found in place of the configured one."""
    if adapter is None or detected == adapter.name:
        return catalog
    base = catalog or default_catalog()
    return AdapterCatalog(adapters={**base.adapters, adapter.name: adapter}, distributions=dict(base.distributions))
