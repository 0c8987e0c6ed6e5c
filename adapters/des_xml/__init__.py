"""The ``des-xml`` adapter: Kyoto Protocol DES messages (document-literal XML) <-> the canonical model.

Reading: the XML is parsed securely (:func:`standards.safeio.parse_xml`: no DTD, no entities, no
network), validated against ``standards/des/des-1.1.xsd`` (lxml first, xmlschema for the XPath of
every problem), checked against the DES code lists, then mapped:

* every unit block of a ``ProposalRequest`` becomes one :class:`~standards.model.Action` (action type
  from the transaction type, serial range in ``units``); the DES values with no canonical home are
  kept in ``Action.extra["des"]``;
* every ``NotificationRequest`` (the ITL's or a registry's answer about a transaction) becomes one
  *answer record*: a :class:`~standards.model.UnitBlock` in ``document.units`` whose ``status`` and
  ``status_reason`` carry the outcome and whose ``extra["des"]`` carries the whole answer.

Writing does the reverse. DES carries Kyoto units only: an ITMO (or any unit without a Kyoto unit
type) is never written with a Kyoto unit type; it is left out and reported as a loss.
"""

from __future__ import annotations

from adapters.des_xml._adapter import DesXmlAdapter, adapter
from adapters.des_xml._rules import DES, FORMAT, MAX_FINDINGS, RULES, SOAP_ENVELOPES, STANDARD

__all__ = [
    "DES",
    "FORMAT",
    "MAX_FINDINGS",
    "RULES",
    "SOAP_ENVELOPES",
    "STANDARD",
    "DesXmlAdapter",
    "adapter",
]
