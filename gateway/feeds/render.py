"""Feed items out to a standard's shape, through the standards' public codecs.

``cadt-v2``: the CAD Trust v2 codec (:class:`standards.cadt.codec.CadtV2Codec`, ``to_native``) writes the
``project`` and ``unit`` records; an issuance (the canonical model has no issuance entity: it is an action
of type ``Issuance``) is its issued block with a v2 ``issuance`` record linked by ``cadTrustIssuanceId``,
which the codec carries. ``cadt-v1``: :class:`~standards.cadt.codec.CadtV1Codec` (``projects``, ``units``;
v1 has no issuance resource). ``canonical``: the merged canonical record itself. Every field a target
cannot hold is counted in ``losses`` (field -> records), never dropped silently.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel

from gateway.feeds.errors import FeedQueryInvalid
from gateway.feeds.keys import SEP
from gateway.feeds.merge import Item
from standards.cadt.codec import CadtV1Codec, CadtV2Codec
from standards.cadt.common import LossLog
from standards.cadt.spec import load_spec
from standards.model import Action, CanonicalDocument, Project, UnitBlock

STANDARDS = ("cadt-v2", "cadt-v1", "canonical")
#: (standard, kind) -> the native resource a feed item's record is.
RESOURCES = {("cadt-v2", "projects"): "project", ("cadt-v2", "units"): "unit", ("cadt-v2", "issuances"): "issuance",
             ("cadt-v1", "projects"): "projects", ("cadt-v1", "units"): "units"}
CANONICAL_KINDS = ("projects", "units", "issuances", "actions")
_NAMESPACE = uuid.UUID("5b0c3a52-9a4e-4c55-8d0c-6a1f1c7e2b16")


def check(standard: str, kind: str) -> None:
    if standard == "canonical" and kind in CANONICAL_KINDS:
        return
    if (standard, kind) not in RESOURCES:
        offered = ", ".join(f"{s}/{k}" for s, k in RESOURCES) + ", canonical/" + "|".join(CANONICAL_KINDS)
        raise FeedQueryInvalid(f"there is no {standard} feed of {kind} (feeds: {offered})")


def columns(standard: str, kind: str) -> list[str]:
    """The record's columns in the standard's field order (CSV and XLSX headers)."""
    if standard == "canonical":
        models: dict[str, type[BaseModel]] = {"projects": Project, "units": UnitBlock}
        model = models.get(kind, Action)
        return [name for name in model.model_fields if name != "extra"]
    version = "v2" if standard == "cadt-v2" else "v1"
    entity = RESOURCES[(standard, kind)]
    spec = load_spec(version)
    return list(spec.entities[spec.resources.get(entity, entity)].by_name)


def readable_key(key: str) -> str:
    return key.replace(SEP, " ")


@dataclass(slots=True)
class Rendered:
    """Feed items of one batch in the target shape, and what the target could not hold."""

    records: list[dict[str, Any]]
    related: list[dict[str, Any] | None]
    losses: dict[str, int] = field(default_factory=dict)


def render(standard: str, kind: str, items: Sequence[Item]) -> Rendered:
    """The native record of every item, in order."""
    if standard == "canonical":
        return Rendered([dict(item.fields()) for item in items], [None] * len(items))
    return native(standard, kind, [item.record() for item in items], [item.key for item in items])[0]


def native(standard: str, kind: str, records: Sequence[BaseModel], keys: Sequence[str]
           ) -> tuple[Rendered, list[list[str]]]:
    """Records of one kind in ``standard``'s shape, and per record the fields the standard could not hold."""
    losses = LossLog()
    if kind == "issuances":
        rendered, rids = _issuances(records, keys, losses)
    else:
        codec = CadtV2Codec() if standard == "cadt-v2" else CadtV1Codec()
        resource = RESOURCES[(standard, kind)]
        document = CanonicalDocument(**{kind: list(records)})
        out = codec.to_native(document, losses).get(resource, [])
        if len(out) != len(records):  # the codec merged records sharing a primary key: one by one
            out = [codec.to_native(CanonicalDocument(**{kind: [r]}), losses)[resource][0] for r in records]
        rendered = Rendered(out, [None] * len(records), _counted(losses))
        rids = [_rid(r, i) for i, r in enumerate(records)]
    lost = {name: set(ids) for name, ids in losses.fields.items()}
    return rendered, [[name for name, ids in lost.items() if rid in ids] for rid in rids]


def _rid(record: BaseModel, i: int) -> str:
    """The id the codecs name a record by in their loss log."""
    if isinstance(record, Project):
        return record.project_id or f"#{i}"
    return getattr(record, "serial", None) or f"#{i}"


def prerender(kind: str, records: Sequence[BaseModel], keys: Sequence[str]) -> list[bytes]:
    """Per record, its shape in every standard that has a feed of ``kind`` (kept with the row, so a feed of
    records from one source streams without translating, or even parsing, again). Per standard one entry
    ``RS standard US losses US fragment`` (ASCII record and unit separators, which serialized JSON never holds
    raw), where ``losses`` is a JSON list of the fields the standard could not hold and ``fragment`` is the
    serialized ``"record":{...}`` member, followed by ``,"related":{...}`` when there is one: ready to be
    written into a feed line as it is (:func:`shape_parts`)."""
    out: list[list[bytes]] = [[] for _ in records]
    for standard in ("cadt-v2", "cadt-v1"):
        if (standard, kind) not in RESOURCES or not records:
            continue
        rendered, lost = native(standard, kind, records, keys)
        for i, (record, related) in enumerate(zip(rendered.records, rendered.related, strict=True)):
            fragment = b'"record":' + orjson.dumps(record)
            if related:
                fragment += b',"related":' + orjson.dumps(related)
            out[i].append(_RS + standard.encode() + _US + orjson.dumps(lost[i]) + _US + fragment)
    return [b"".join(o) for o in out]


_RS, _US = b"\x1e", b"\x1f"


def shape_parts(stored: bytes, standard: str) -> tuple[bytes, bytes]:
    """``(losses JSON, fragment)`` of ``standard`` in a row's stored shapes (:func:`prerender`)."""
    marker = _RS + standard.encode() + _US
    start = stored.find(marker)
    if start < 0:
        raise FeedQueryInvalid(f"the stored record has no {standard} shape")
    start += len(marker)
    end = stored.find(_RS, start)
    lost, _, fragment = stored[start:end if end >= 0 else len(stored)].partition(_US)
    return lost, fragment


def shape(stored: bytes, standard: str) -> tuple[Any, Any, list[str]]:
    """``(record, related, losses)`` of ``standard`` in a row's stored shapes."""
    lost, fragment = shape_parts(stored, standard)
    members = orjson.loads(b"{" + fragment + b"}")
    return members["record"], members.get("related"), orjson.loads(lost)


def _issuances(records: Sequence[BaseModel], keys: Sequence[str], losses: LossLog) -> tuple[Rendered, list[str]]:
    units = []
    for action, key in zip(records, keys, strict=True):
        assert isinstance(action, Action)
        issuance_id = str(uuid.uuid5(_NAMESPACE, key))
        block = action.units or UnitBlock()
        itmo = action.itmo_block()
        label = block.serial or (f"{itmo.first_id()}..{itmo.last_id()}" if itmo else readable_key(key))
        link = {"cadTrustIssuanceId": issuance_id, "issuanceId": label,
                "issuanceDate": action.date.date().isoformat()}
        units.append(block.model_copy(update={
            "first_id": block.first_id if block.first_id is not None else action.first_id,
            "last_id": block.last_id if block.last_id is not None else action.last_id,
            "quantity": block.quantity if block.quantity is not None else action.quantity,
            "vintage": block.vintage if block.vintage is not None else action.vintage,
            "serial": label, "registry": None, "extra": {"issuance": [link], "cadTrustIssuanceId": issuance_id}}))
    output = CadtV2Codec().to_native(CanonicalDocument(units=units), losses)
    issued, unit_records = output.get("issuance", []), output.get("unit", [])
    rendered = Rendered(list(issued), [{"unit": [u]} for u in unit_records], _counted(losses))
    return rendered, [str(u.serial) for u in units]


def _counted(losses: LossLog) -> dict[str, int]:
    return {name: len(ids) for name, ids in sorted(losses.fields.items())}


__all__ = [
    "CANONICAL_KINDS",
    "RESOURCES",
    "STANDARDS",
    "Rendered",
    "check",
    "columns",
    "native",
    "prerender",
    "readable_key",
    "render",
    "shape",
    "shape_parts",
]
