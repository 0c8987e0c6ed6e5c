"""Where ``carbonlink translate`` writes its output: stdout, one file, or several files into the folder or ``.zip``
archive the user named (never several files under a name that looks like one file)."""

from __future__ import annotations

import sys
from pathlib import Path

from adapters.translate import pack_files
from gateway.cli._common import CliUsageError, fail


def is_folder_or_archive(output: Path) -> bool:
    """Whether ``-o`` names a folder (an existing one, or a name without extension) or a ``.zip`` archive."""
    return output.is_dir() or output.suffix == "" or output.suffix.lower() == ".zip"


def write_output(data: bytes, files: dict[str, bytes], output: Path | None, single_name: str) -> list[str]:
    """Write the output: stdout, one file, or several files into the folder or ``.zip`` archive named.

    Several files are never written to a name that looks like one file (``-o out.csv``): that is a
    usage error naming the fix."""
    if output is None:
        if files:
            raise fail(CliUsageError(f"the output is {len(files)} files ({', '.join(files)}); name a folder or a "
                                     ".zip archive with -o", code="CLI.OUTPUT_FILES"))
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return ["<stdout>"]
    if output.suffix.lower() == ".zip":
        output.write_bytes(pack_files(files or {single_name: data}))
        return [str(output)]
    if files:
        if not is_folder_or_archive(output):
            raise fail(CliUsageError(
                f"the output is {len(files)} files ({', '.join(files)}), and {output} names one file; name a "
                f"folder (-o {output.with_suffix('')}) or a .zip archive (-o {output.with_suffix('.zip')})",
                code="CLI.OUTPUT_FILES"))
        output.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (output / name).write_bytes(content)
        return [str(output / name) for name in files]
    output.write_bytes(data)
    return [str(output)]
