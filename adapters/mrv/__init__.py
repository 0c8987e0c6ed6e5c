"""The ``mrv`` adapter: carbonlink's own MRV documents (``standards/mrv/schema``) as JSON.

One document, or a JSON array of documents of any kind (report, verification statement, issuance
request, issuance notice), each read with :func:`standards.mrv.read_document` (bounded, structure
then the document's own checks). See :mod:`adapters.mrv._base` for what ``parse`` gives.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

from adapters.mrv._base import MrvAdapterBase, MrvRead, MrvReadOnly, MrvSource, project_of
from standards import Finding, InputTooLarge, MalformedInput, Medium, UnknownFormat, decode_text
from standards.findings import Location
from standards.mrv import MAX_DOCUMENT_BYTES, RULES, read_document

#: Most documents one ``mrv`` input may hold.
MAX_DOCUMENTS = 1000
#: Largest ``mrv`` input (bytes).
MAX_INPUT_BYTES = 4 * MAX_DOCUMENT_BYTES


def _refuse_constant(name: str) -> Any:
    raise MalformedInput(f"{name} is not a JSON number (NaN and Infinity are refused)", code="MRV.NOT_FINITE")


def load_exact_json(data: bytes, *, what: str = "input") -> Any:
    """JSON with decimals kept exact (never through a binary float), NaN/Infinity and deep nesting refused."""
    text = decode_text(data, what=what)
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise MalformedInput(f"{what} nests too deeply", code="INPUT.JSON") from exc
    except json.JSONDecodeError as exc:
        raise MalformedInput(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                             code="INPUT.JSON") from exc


def _under(finding: Finding, index: int) -> Finding:
    return replace(finding, location=Location(pointer=f"/{index}{finding.location.pointer}"))


class MrvJsonAdapter(MrvAdapterBase):
    """carbonlink MRV documents v1 as JSON."""

    name = "mrv"
    description = ("carbonlink MRV documents v1 (monitoring report, verification statement, issuance request and "
                   "notice) as JSON; read only")
    rules = RULES

    def read_mrv(self, data: bytes, *, medium: Medium) -> MrvRead:
        if medium is not Medium.JSON:
            raise UnknownFormat(f"the mrv format is JSON, not {medium.value}")
        if len(data) > MAX_INPUT_BYTES:
            raise InputTooLarge(f"an mrv input is at most {MAX_INPUT_BYTES} bytes, not {len(data)}")
        parsed = load_exact_json(data, what="mrv input")  # unreadable input is an InputError, as for every reader
        if not isinstance(parsed, list):
            result = read_document(parsed)
            return MrvRead([] if result.document is None else [result.document], list(result.findings))
        items = parsed
        if len(items) > MAX_DOCUMENTS:
            raise InputTooLarge(f"an mrv input holds at most {MAX_DOCUMENTS} documents, not {len(items)}")
        read = MrvRead()
        for index, item in enumerate(items):
            result = read_document(item if isinstance(item, dict) else {"kind": None})
            if result.document is not None:
                read.documents.append(result.document)
            read.findings.extend(_under(f, index) for f in result.findings)
        return read


adapter = MrvJsonAdapter()

__all__ = ["MAX_DOCUMENTS", "MAX_INPUT_BYTES", "MrvAdapterBase", "MrvJsonAdapter", "MrvRead", "MrvReadOnly",
           "MrvSource", "adapter", "load_exact_json", "project_of"]
