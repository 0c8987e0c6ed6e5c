"""Walking a DES message: element nodes with locations, and the small value readers the reader and
writer share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from standards import (
    Location,
    UnknownParty,
    to_alpha3,
)
from standards.des.codelists import CodeLists
from standards.des.messages import (
    BATCH,
    MESSAGE_TYPES,
    Message,
)
from standards.des.schema import NAMESPACE, PREFIX, xpath_of


@dataclass(frozen=True, slots=True)
class _Node:
    """An element with its XPath, built while walking down (no sibling scans per finding)."""

    element: etree._Element
    xpath: str

    def child(self, name: str) -> _Node:
        """The (single) child element ``name``; the node itself when it is absent."""
        tag = f"{{{NAMESPACE}}}{name}"
        for candidate in self.element:
            if candidate.tag == tag:
                return _Node(candidate, f"{self.xpath}/{PREFIX}:{name}")
        return self

    def items(self, wrapper: str, name: str) -> list[_Node]:
        """The ``name`` items of the array element ``wrapper``, with positional XPaths."""
        holder = self.child(wrapper)
        if holder is self:
            return []
        tag = f"{{{NAMESPACE}}}{name}"
        found = [c for c in holder.element if c.tag == tag]
        base = f"{holder.xpath}/{PREFIX}:{name}"
        if len(found) == 1:
            return [_Node(found[0], base)]
        return [_Node(c, f"{base}[{i}]") for i, c in enumerate(found, start=1)]


def _location(node: _Node | etree._Element | None, pointer: str = "") -> Location:
    if node is None:
        return Location(pointer=pointer)
    element, xpath = (node.element, node.xpath) if isinstance(node, _Node) else (node, xpath_of(node))
    line = element.sourceline
    return Location(pointer=pointer, xpath=xpath, line=line if isinstance(line, int) else None)


def _message_nodes(root: etree._Element, messages: list[Message]) -> list[_Node]:
    """Each message's node: the root itself, or its positional place in a MessageBatch."""
    if etree.QName(root).localname != BATCH:
        return [_Node(root, f"/{PREFIX}:{etree.QName(root).localname}")]
    totals = {kind: sum(1 for m in messages if m.type == kind) for kind in MESSAGE_TYPES}
    seen = dict.fromkeys(MESSAGE_TYPES, 0)
    nodes = []
    for message in messages:
        seen[message.type] += 1
        step = message.type if totals[message.type] == 1 else f"{message.type}[{seen[message.type]}]"
        assert message.element is not None
        nodes.append(_Node(message.element, f"/{PREFIX}:{BATCH}/{PREFIX}:{step}"))
    return nodes


def _party(code: str, codes: CodeLists) -> str | None:
    """The alpha-3 Party of an alpha-2 registry code; None for special codes (CDM, EU, ITL)."""
    if code in codes.raw.get("registryCodes", {}).get("special", []):
        return None
    try:
        return to_alpha3(code)[0] if len(code) == 2 else None
    except UnknownParty:
        return None


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
