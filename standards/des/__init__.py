"""Kyoto Protocol Data Exchange Standards (DES): carbonlink's XSD, code lists and message reader/writer.

The DES was the SOAP message set between Kyoto registries and the International Transaction Log.
carbonlink renders its ProposalRequest and NotificationRequest messages as document-literal XML
(``des-1.1.xsd``); :mod:`standards.des.messages` reads and writes them as plain dicts keyed by
the DES element names, :mod:`standards.des.codelists` names their codes and
:mod:`standards.des.schema` validates them.
"""

from standards.des.codelists import CodeLists, default_code_lists
from standards.des.messages import MESSAGE_TYPES, Message, read_document, read_message, write_document
from standards.des.schema import NAMESPACE, SchemaProblem, schema_problems, xpath_of

__all__ = [
    "MESSAGE_TYPES",
    "NAMESPACE",
    "CodeLists",
    "Message",
    "SchemaProblem",
    "default_code_lists",
    "read_document",
    "read_message",
    "schema_problems",
    "write_document",
    "xpath_of",
]
