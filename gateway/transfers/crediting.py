"""Crediting-programme transfers: unit blocks (Verra VCUs, Gold Standard VERs, ACR/CAR/ART credits, ...)
moving from the registry that holds them to another registry (docs/transfers.md,
"Crediting-programme transfers").

A ``transfers`` message whose document carries unit blocks (``CanonicalDocument.units``) and no
actions is one. It names no Article 6 Party, so the checks are its own:

* every block is identified by its ``serial``, read by the serial library (:mod:`standards.serials`);
  ``first_id``/``last_id``, when given, must be the serial's range, and ``quantity``, when
  given, its length (for schemes whose range is the block size); no two blocks overlap;
* every block's ``registry`` is the sender: its participant id or its Party registry id;
* the receiver is named by ``Carbonlink-Receiver`` (nothing in the message names it);
* the translation to the receiver's format must carry every block.

:class:`CreditingPlanner` is the planner the transfer service is given for these; delivery, signing,
receipt, idempotency and evidence are the transfer path's own.
"""

from __future__ import annotations

import itertools

from gateway.protocol import MessageKind
from gateway.transfers._plan import Plan, SourceMessage, units_moved
from gateway.transfers._router import Router
from gateway.transfers._translator import Translator
from gateway.transfers.errors import KindMismatch, SenderMismatch
from gateway.trust.directory import Participant
from standards.errors import CarbonlinkError, ValidationFailed
from standards.findings import Finding, Layer, Location, Rule, RuleCatalogue, Severity
from standards.model import CanonicalDocument, UnitBlock
from standards.serials import Serial, default_catalogue

CATALOGUE = RuleCatalogue("crediting")
_REFERENCE = "carbonlink crediting-programme transfers (docs/transfers.md); serial layouts: docs/serials.md"


def _rule(code: str, layer: Layer, title: str) -> Rule:
    """An error rule of this catalogue (every crediting check refuses the message)."""
    return CATALOGUE.add(code, severity=Severity.ERROR, layer=layer, reference=_REFERENCE, title=title)


SERIAL_REQUIRED = _rule("CREDITING.SERIAL_REQUIRED", Layer.STRUCTURE,
                        "A unit block in a crediting-programme transfer is identified by its serial number")
SERIAL_INVALID = _rule("CREDITING.SERIAL_INVALID", Layer.FIELD, "The serial number is not one of a known serial scheme")
RANGE_MISMATCH = _rule("CREDITING.RANGE_MISMATCH", Layer.FIELD,
                       "first_id/last_id differ from the range in the serial number")
QUANTITY_MISMATCH = _rule("CREDITING.QUANTITY_MISMATCH", Layer.FIELD,
                          "The quantity differs from the number of units in the serial range")
OVERLAPPING_BLOCKS = _rule("CREDITING.OVERLAPPING_BLOCKS", Layer.CROSS_RECORD, "Two blocks of the message overlap")


def is_crediting_transfer(document: CanonicalDocument) -> bool:
    """Unit blocks and no actions: nothing in it names an Article 6 Party."""
    return bool(document.units) and not document.actions


def _serial(index: int, block: UnitBlock) -> tuple[Serial | None, list[Finding]]:
    where = Location(pointer=f"/units/{index}")
    if not block.serial:
        return None, [SERIAL_REQUIRED.finding(
            f"units[{index}] has no serial number; a crediting-programme transfer identifies each block by its "
            "serial (range-only blocks are not taken: their registry is the originating one)", where)]
    try:
        serial = default_catalogue().parse(block.serial.strip())
    except CarbonlinkError as exc:
        return None, [SERIAL_INVALID.finding(f"units[{index}]: {exc.message}", Location(
            pointer=f"/units/{index}/serial"))]
    found: list[Finding] = []
    if serial.last < serial.first:
        found.append(SERIAL_INVALID.finding(f"units[{index}]: serial {block.serial} runs backwards "
                                            f"({serial.first} > {serial.last})", Location(
                                                pointer=f"/units/{index}/serial")))
    for name, value, expected in (("first_id", block.first_id, serial.first),
                                  ("last_id", block.last_id, serial.last)):
        if value is not None and value != expected:
            found.append(RANGE_MISMATCH.finding(f"units[{index}].{name} is {value}, but serial {block.serial} "
                                                f"says {expected}", Location(pointer=f"/units/{index}/{name}")))
    if block.quantity is not None and serial.layout.quantity_checked and block.quantity != serial.quantity:
        found.append(QUANTITY_MISMATCH.finding(
            f"units[{index}].quantity is {block.quantity}, but serial {block.serial} covers {serial.quantity} units",
            Location(pointer=f"/units/{index}/quantity")))
    return (None if found else serial), found


def check_blocks(units: list[UnitBlock]) -> list[Serial]:
    """The serial of every block; ValidationFailed (422) with a finding per problem otherwise."""
    findings: list[Finding] = []
    serials: list[tuple[int, Serial]] = []
    for index, block in enumerate(units):
        serial, found = _serial(index, block)
        findings += found
        if serial is not None:
            serials.append((index, serial))
    by_series: dict[tuple[object, ...], list[tuple[int, Serial]]] = {}
    for index, serial in serials:
        by_series.setdefault(serial.series, []).append((index, serial))
    for group in by_series.values():
        group.sort(key=lambda item: item[1].first)
        for (i, low), (j, high) in itertools.pairwise(group):
            if high.first <= low.last:
                findings.append(OVERLAPPING_BLOCKS.finding(
                    f"units[{j}] ({high}) overlaps units[{i}] ({low})", Location(pointer=f"/units/{j}")))
    if findings:
        raise ValidationFailed("the crediting-programme transfer has malformed unit blocks", findings=findings)
    return [serial for _, serial in serials]


def check_holder(sender: Participant, units: list[UnitBlock]) -> None:
    """Every block must be held in the sender: its ``registry`` is the sender's id or Party registry id."""
    names = {sender.id, sender.party_registry_id}
    for index, block in enumerate(units):
        if block.registry is None:
            raise SenderMismatch(f"units[{index}] does not name the registry holding it; the gateway cannot check "
                                 "the sender")
        if block.registry not in names:
            raise SenderMismatch(f"units[{index}] is held in {block.registry!r}, but the sender is {sender.id!r} "
                                 f"(registry {sender.party_registry_id})")


class CreditingPlanner:
    """Plans a crediting-programme transfer: block and holder checks, routed by ``Carbonlink-Receiver``,
    translated so that every block arrives."""

    def __init__(self, router: Router, translator: Translator) -> None:
        self.router = router
        self.translator = translator

    def accepts(self, document: CanonicalDocument) -> bool:
        return is_crediting_transfer(document)

    def plan(self, sender: Participant, kind: MessageKind, message: SourceMessage, receiver_hint: str | None) -> Plan:
        if kind is not MessageKind.TRANSFERS:
            raise KindMismatch(f"the message carries unit blocks and no actions: a crediting-programme transfer, "
                               f"which travels as a transfers message, not {kind.value}")
        document = message.document
        check_blocks(document.units)
        check_holder(sender, document.units)
        receiver = self.router.by_parties(sender, kind, set(), receiver_hint)
        outbound, medium, losses = self.translator.write(document, receiver, records="units")
        return Plan(message.format, message.medium, receiver, outbound, medium, losses, message.findings,
                    units=units_moved(sender, document))
