"""Validating DES documents against ``des-1.1.xsd``.

lxml's validator answers the common case (valid) fast; only when it says no does
:mod:`xmlschema` walk the document again to name every problem with an XPath.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import xmlschema
from lxml import etree

NAMESPACE = "urn:KyotoProtocol:RegistrySystem:ITL:DocLit:1.1:0.0"
PREFIX = "des"
XSD_NAME = "des-1.1.xsd"
#: At most this many schema problems are reported for one document.
MAX_PROBLEMS = 100


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    xpath: str
    message: str
    line: int | None


def _xsd_bytes() -> bytes:
    return (resources.files("standards.des") / XSD_NAME).read_bytes()


@lru_cache(maxsize=1)
def lxml_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.fromstring(_xsd_bytes(), parser))


@lru_cache(maxsize=1)
def detailed_schema() -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(_xsd_bytes().decode("utf-8"), allow="none", defuse="always")


def xpath_of(element: etree._Element) -> str:
    """A readable XPath: ``/des:ProposalRequest/des:proposedTransaction/.../des:TransactionUnitBlock[2]``."""
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        qname = etree.QName(node)
        name = f"{PREFIX}:{qname.localname}" if qname.namespace == NAMESPACE else qname.localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))


def _describe(error: xmlschema.XMLSchemaValidationError) -> str:
    elem = error.elem
    name = etree.QName(elem).localname if isinstance(elem, etree._Element) else "element"
    reason = (error.reason or error.message).replace(f"{{{NAMESPACE}}}", f"{PREFIX}:")
    if reason.startswith("invalid literal for int()"):
        reason = "it is not a whole number"
    if isinstance(error, xmlschema.XMLSchemaChildrenValidationError):
        return f"<{name}> does not have the elements the DES schema expects: {reason}"
    text = elem.text if isinstance(elem, etree._Element) else None
    if text is not None and len(elem) == 0:
        return f"<{name}> has the value {text.strip()[:60]!r}, which the DES schema refuses: {reason}"
    return f"<{name}>: {reason}"


def schema_problems(root: etree._Element) -> list[SchemaProblem]:
    """Every schema problem of a document (empty when it is valid), each with an XPath."""
    if lxml_schema().validate(root):
        return []
    problems: list[SchemaProblem] = []
    for error in detailed_schema().iter_errors(root):
        elem = error.elem
        if isinstance(elem, etree._Element):
            problems.append(SchemaProblem(xpath_of(elem), _describe(error), elem.sourceline))
        else:
            problems.append(SchemaProblem(error.path or "/", _describe(error), None))
        if len(problems) >= MAX_PROBLEMS:
            break
    if not problems:  # the two validators disagree: report what lxml saw
        log: Any = lxml_schema().error_log  # the stubs do not declare last_error
        entry = log.last_error
        if entry is not None:
            problems.append(SchemaProblem(str(entry.path or "/"), str(entry.message), int(entry.line)))
    return problems
