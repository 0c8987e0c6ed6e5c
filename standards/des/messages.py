"""Reading and writing DES messages as plain values keyed by the DES element names.

One table (:data:`STRUCTURES`) lists every element of every type in schema order; the reader and
the writer both follow it, so a message read and written again keeps its elements and order.
Values are ``str``, ``int``, :class:`~datetime.date` or :class:`~datetime.datetime`; nested types
are dicts; arrays are lists of dicts. An optional element that is absent has no key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from lxml import etree

from standards.des.schema import NAMESPACE
from standards.errors import InvalidValue

#: (element name, kind, optional). Kind is a scalar kind, a type name, or ``list:<type name>``.
FieldDef = tuple[str, str, bool]

_HEADER: tuple[FieldDef, ...] = (
    ("from", "string", False),
    ("to", "string", False),
    ("majorVersion", "int", False),
    ("minorVersion", "int", False),
    ("messageDateTime", "dateTime", True),
)


def _account(side: str) -> tuple[FieldDef, ...]:
    """The optional account type and identifier of the ``transferring`` or ``acquiring`` side."""
    return ((f"{side}RegistryAccountType", "int", True), (f"{side}RegistryAccountIdentifier", "int", True))


_BLOCK_ID: tuple[FieldDef, ...] = (
    ("unitSerialBlockStart", "int", False),
    ("unitSerialBlockEnd", "int", False),
    ("originatingRegistryCode", "string", False),
)

STRUCTURES: dict[str, tuple[FieldDef, ...]] = {
    "ProposalRequest": (*_HEADER, ("proposedTransaction", "ProposalTransaction", False)),
    "ProposalTransaction": (
        ("transactionIdentifier", "string", False),
        ("transactionType", "int", False),
        ("suppTransactionType", "int", True),
        ("transferringRegistryCode", "string", False),
        *_account("transferring"),
        ("acquiringRegistryCode", "string", False),
        *_account("acquiring"),
        ("notificationIdentifier", "int", True),
        ("proposalUnitBlocks", "list:TransactionUnitBlock", False),
    ),
    "TransactionUnitBlock": (
        *_BLOCK_ID,
        ("unitType", "int", False),
        ("suppUnitType", "int", True),
        ("originalCommitPeriod", "int", False),
        ("applicableCommitPeriod", "int", False),
        ("LULUCFActivity", "int", True),
        ("projectIdentifier", "int", True),
        ("track", "int", True),
        ("blockRole", "string", True),
        *_account("transferring"),
        *_account("acquiring"),
        ("yearInCommitmentPeriod", "int", True),
        ("installationIdentifier", "int", True),
        ("expiryDate", "date", True),
    ),
    "NotificationRequest": (
        *_HEADER,
        ("transactionIdentifier", "string", False),
        ("transactionStatus", "int", False),
        ("partyType", "int", False),
        ("evaluationResult", "list:EvaluationResult", False),
    ),
    "EvaluationResult": (
        ("responseCode", "int", False),
        ("unitBlockIdentifiers", "list:UnitBlockIdentifier", True),
    ),
    "UnitBlockIdentifier": _BLOCK_ID,
}

MESSAGE_TYPES = ("ProposalRequest", "NotificationRequest")
BATCH = "MessageBatch"

_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$"
)
_DATE_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)(?:Z|[+-]\d\d:\d\d)?$")


class DesMessageError(InvalidValue):
    """A message that is not one carbonlink reads or writes (an unknown request type, a required value missing)."""

    code = "DES.MESSAGE"


class DesValueError(InvalidValue):
    """A value the schema accepts but carbonlink cannot represent (e.g. year 0001-BC, 24:00:00)."""

    code = "DES.VALUE"

    def __init__(self, message: str, element: etree._Element) -> None:
        super().__init__(message)
        self.element = element


@dataclass(slots=True)
class Message:
    """One DES request: its type, its values by element name and the element it was read from."""

    type: str
    values: dict[str, Any]
    element: etree._Element | None = field(default=None, compare=False, repr=False)


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _parse_datetime(text: str, element: etree._Element) -> datetime:
    match = _DATETIME_RE.match(text.strip())
    if match is None:
        raise DesValueError(f"{text!r} is not a date and time carbonlink can read", element)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz: timezone | None = None
    if zone == "Z":
        tz = UTC
    elif zone:
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz)
    except ValueError as exc:
        raise DesValueError(f"{text!r} is not a valid date and time ({exc})", element) from exc


def _parse_date(text: str, element: etree._Element) -> date:
    match = _DATE_RE.match(text.strip())
    if match is None:
        raise DesValueError(f"{text!r} is not a date carbonlink can read", element)
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise DesValueError(f"{text!r} is not a valid date ({exc})", element) from exc


def _read_scalar(kind: str, element: etree._Element) -> Any:
    text = element.text or ""
    if kind == "string":
        return text.strip()
    if kind == "int":
        return int(text.strip())
    if kind == "date":
        return _parse_date(text, element)
    if kind == "dateTime":
        return _parse_datetime(text, element)
    raise AssertionError(f"unknown kind {kind}")


_NS = f"{{{NAMESPACE}}}"
_KINDS: dict[str, dict[str, str]] = {t: {name: kind for name, kind, _o in fields} for t, fields in STRUCTURES.items()}


def _read(type_name: str, element: etree._Element) -> dict[str, Any]:
    kinds = _KINDS[type_name]
    found: dict[str, Any] = {}
    cut = len(_NS)
    for node in element:
        tag = node.tag
        if not isinstance(tag, str) or not tag.startswith(_NS):
            continue
        name = tag[cut:]
        kind = kinds.get(name)
        if kind is None or name in found:
            continue
        if kind.startswith("list:"):
            item_type = kind[5:]
            item_tag = _NS + item_type
            found[name] = [_read(item_type, item) for item in node if item.tag == item_tag]
        elif kind in STRUCTURES:
            found[name] = _read(kind, node)
        elif kind == "int":
            found[name] = int((node.text or "").strip())
        else:
            found[name] = _read_scalar(kind, node)
    if len(found) > 1:
        return {name: found[name] for name, _kind, _optional in STRUCTURES[type_name] if name in found}
    return found


def read_message(element: etree._Element) -> Message:
    """Read a schema-valid ProposalRequest or NotificationRequest element."""
    name = etree.QName(element).localname
    if name not in MESSAGE_TYPES:
        raise DesMessageError(f"{name} is not a DES message")
    return Message(name, _read(name, element), element)


def read_document(root: etree._Element) -> list[Message]:
    """The messages of a schema-valid document: one request, or every request of a MessageBatch."""
    if etree.QName(root).localname == BATCH:
        return [read_message(child) for child in root if isinstance(child.tag, str)]
    return [read_message(root)]


def _render_scalar(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write(type_name: str, values: dict[str, Any], parent: etree._Element) -> None:
    for name, kind, optional in STRUCTURES[type_name]:
        value = values.get(name)
        if value is None:
            if not optional:
                raise DesMessageError(f"{type_name}.{name} is required")
            continue
        child = etree.SubElement(parent, _q(name))
        if kind.startswith("list:"):
            item_type = kind[5:]
            for item in value:
                _write(item_type, item, etree.SubElement(child, _q(item_type)))
        elif kind in STRUCTURES:
            _write(kind, value, child)
        else:
            child.text = _render_scalar(value)


def build_element(message: Message) -> etree._Element:
    element = etree.Element(_q(message.type), nsmap={None: NAMESPACE})  # type: ignore[dict-item]
    _write(message.type, message.values, element)
    return element


def write_document(messages: list[Message]) -> bytes:
    """One message as its own document; several (or none) in a MessageBatch."""
    if len(messages) == 1:
        root = build_element(messages[0])
    else:
        root = etree.Element(_q(BATCH), nsmap={None: NAMESPACE})  # type: ignore[dict-item]
        for message in messages:
            root.append(build_element(message))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
