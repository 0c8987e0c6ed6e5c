"""What a message does to the sandbox's holdings, decided before anything is written.

:func:`plan` walks a message's actions in order against a working copy of the blocks they touch,
and returns either coded reasons for refusing the whole message (findings of the ``sandbox``
rule catalogue, pointing at ``/actions/<i>``) or the blocks as they stand afterwards. The store
writes that result in one transaction, so a message is applied completely or not at all.

Direction of each action, for a registry of Party ``party``:

* ``First transfer``, ``Transfer``, ``Acquisition``: a *credit* when ``party`` is the acquiring
  Party (or when the sandbox has no Party: every delivered transfer is incoming); an outgoing
  *debit* when ``party`` is the transferring Party (for a first transfer, the first transferring
  Party when no transferring Party is given); otherwise ``SANDBOX.WRONG_REGISTRY``.
* ``Use``, ``Cancellation``, ``Voluntary Cancellation``, ``Retirement``: a final *debit*.
* ``Authorization``, ``Issuance``: ``SANDBOX.UNSUPPORTED_KIND``.

:func:`plan_blocks` does the same for a crediting-programme transfer (unit blocks identified by serial,
no actions, findings pointing at ``/units/<i>``): inbound every block is a credit, outgoing a reserve.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from gateway.sandbox.errors import SandboxError, UnitsUnidentified
from gateway.sandbox.units import HELD, PENDING, Block, Units, merge_all, quantity_checked, serial_units, units_of
from standards.errors import CarbonlinkError
from standards.findings import Finding, Layer, Location, RuleCatalogue, Severity
from standards.model import Action, ActionType, Metric, UnitBlock

CATALOGUE = RuleCatalogue("sandbox")
_REF = "carbonlink sandbox registry (docs/sandbox.md)"


def _rule(rule_id: str, title: str) -> Any:
    return CATALOGUE.add(rule_id, severity=Severity.ERROR, layer=Layer.CROSS_RECORD, title=title, reference=_REF)


MALFORMED = _rule("SANDBOX.MALFORMED", "The message cannot be read in this registry's format")
UNSUPPORTED_KIND = _rule("SANDBOX.UNSUPPORTED_KIND", "This registry does not take this kind of message or action")
UNKNOWN_UNITS = _rule("SANDBOX.UNKNOWN_UNITS", "The units cannot be identified, or this registry never held them")
UNITS_NOT_HELD = _rule("SANDBOX.UNITS_NOT_HELD", "The units are not (all) held here, free, in the account named")
OVERLAPPING_BLOCKS = _rule("SANDBOX.OVERLAPPING_BLOCKS", "Incoming units overlap units this registry already has")
WRONG_REGISTRY = _rule("SANDBOX.WRONG_REGISTRY", "This registry is neither the acquiring nor the transferring one")
QUANTITY_MISMATCH = CATALOGUE.add(
    "SANDBOX.QUANTITY_MISMATCH", severity=Severity.ERROR, layer=Layer.FIELD,
    title="The stated quantity differs from the number of units in the range",
    reference="one unit per serial number (for ITMOs: one per t CO2 eq, Quantity = LastID - FirstID + 1; "
              "a sensible check, not an official rule: --no-quantity-check turns it off)")

CREDIT_KINDS = frozenset({ActionType.FIRST_TRANSFER, ActionType.TRANSFER, ActionType.ACQUISITION})
FINAL_KINDS = frozenset({ActionType.USE, ActionType.CANCELLATION, ActionType.VOLUNTARY_CANCELLATION,
                         ActionType.RETIREMENT})

#: The journal's ``type`` of a unit block moved by a crediting-programme transfer.
CREDITING_TRANSFER = "Crediting transfer"

Mode = Literal["inbound", "outgoing"]
Direction = Literal["credit", "debit", "final", "reserve"]


@dataclass(frozen=True, slots=True)
class Step:
    """One applied action."""

    action: int
    action_type: str
    direction: str
    units: str
    quantity: int
    account: str

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "type": self.action_type, "direction": self.direction,
                "units": self.units, "quantity": self.quantity, "account": self.account}


@dataclass(slots=True)
class Plan:
    findings: list[Finding] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    series: set[str] = field(default_factory=set)
    after: list[Block] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.findings


class _Refusal(SandboxError):
    """One action or block refused; the planner turns ``finding`` into the verdict's reason."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message, code=finding.rule, findings=[finding])
        self.finding = finding


def _where(i: int) -> Location:
    return Location(pointer=f"/actions/{i}")


def _block(i: int) -> Location:
    return Location(pointer=f"/units/{i}")


def direction(action: Action, i: int, party: str | None, mode: Mode) -> Direction:
    kind = action.action_type
    if kind in FINAL_KINDS:
        if mode == "outgoing":
            raise _Refusal(UNSUPPORTED_KIND.finding(
                f"a {kind.value} is recorded here, not sent out as a transfer", _where(i)))
        return "final"
    if kind not in CREDIT_KINDS:
        raise _Refusal(UNSUPPORTED_KIND.finding(
            f"this registry does not take {kind.value} actions (only transfers, acquisitions, uses, "
            "cancellations and retirements)", _where(i)))
    transferring = action.transferring_party
    if transferring is None and kind is ActionType.FIRST_TRANSFER:
        transferring = action.first_transferring_party
    outgoing: Direction = "reserve" if mode == "outgoing" else "debit"
    if party is None:
        return outgoing if mode == "outgoing" else "credit"
    if mode == "inbound" and action.acquiring_party == party:
        return "credit"
    if transferring == party and action.acquiring_party != party:
        return outgoing
    raise _Refusal(WRONG_REGISTRY.finding(
        f"this registry ({party}) is neither the acquiring Party ({action.acquiring_party or 'none given'}) "
        f"nor the transferring Party ({transferring or 'none given'}) of this {kind.value}", _where(i)))


def _account(action: Action) -> str | None:
    return action.units.account if action.units is not None and action.units.account else None


def _stated_quantity(action: Action, units: Units) -> Decimal | None:
    """The quantity the action states for its units, when it should equal the range length."""
    if units.kind == "itmo":
        return None if action.metric is Metric.NON_GHG else action.quantity
    if not quantity_checked(units):
        return None
    stated = action.units.quantity if action.units is not None else None
    return stated if stated is not None else action.quantity


def check_quantity(action: Action, units: Units, i: int) -> None:
    stated = _stated_quantity(action, units)
    if stated is not None and stated != units.quantity:
        raise _Refusal(QUANTITY_MISMATCH.finding(
            f"the action states a quantity of {stated} but {units.label()} holds {units.quantity} units", _where(i)))


def plan(actions: Sequence[Action], *, party: str | None, default_account: str, mode: Mode, ref: str,
         load: Callable[[Iterable[str]], list[Block]], quantity_check: bool = True) -> Plan:
    """Decide what ``actions`` do; ``load(series)`` returns the current blocks of those series."""
    result = Plan()
    todo: list[tuple[int, Action, Direction, Units]] = []
    for i, action in enumerate(actions):
        try:
            way = direction(action, i, party, mode)
            units = units_of(action)
            if quantity_check:
                check_quantity(action, units, i)
        except _Refusal as exc:
            result.findings.append(exc.finding)
            continue
        except UnitsUnidentified as exc:
            result.findings.append(UNKNOWN_UNITS.finding(exc.message, _where(i)))
            continue
        todo.append((i, action, way, units))
        result.series.add(units.series)
    working = load(result.series) if result.series else []
    for i, action, way, units in todo:
        account = _account(action)
        try:
            if way == "credit":
                working = _credit(working, units, account or default_account, _where(i))
                account = account or default_account
            else:
                working, account = _debit(working, units, account, _where(i),
                                          pending_ref=ref if way == "reserve" else None)
        except _Refusal as exc:
            result.findings.append(exc.finding)
            continue
        result.steps.append(Step(i, action.action_type.value, way, units.label(), units.quantity, account))
    if not result.findings:
        result.after = merge_all(working)
    return result


def _credit(working: list[Block], units: Units, account: str, where: Location) -> list[Block]:
    clash = [b for b in working if b.overlaps(units)]
    if clash:
        held = "; ".join(f"{b.label()} ({b.status}, account {b.account})" for b in clash[:3])
        raise _Refusal(OVERLAPPING_BLOCKS.finding(
            f"incoming units {units.label()} overlap units this registry already has: {held}", where))
    return [*working, Block.of(units, account)]


def _debit(working: list[Block], units: Units, account: str | None, where: Location, *,
           pending_ref: str | None) -> tuple[list[Block], str]:
    same_series = [b for b in working if b.series == units.series]
    if not same_series:
        raise _Refusal(UNKNOWN_UNITS.finding(
            f"this registry holds no units of the series of {units.label()}", where))
    touching = sorted((b for b in same_series if b.overlaps(units)), key=lambda b: b.first)
    covered = sum(min(b.last, units.last) - max(b.first, units.first) + 1 for b in touching)
    if covered != units.quantity:
        raise _Refusal(UNITS_NOT_HELD.finding(
            f"{units.quantity - covered} of the {units.quantity} units {units.label()} are not held here", where))
    pending = [b for b in touching if b.status == PENDING]
    if pending:
        raise _Refusal(UNITS_NOT_HELD.finding(
            f"units {units.label()} are pending an outgoing transfer (message {pending[0].ref})", where))
    accounts = {b.account for b in touching}
    if account is not None and accounts != {account}:
        raise _Refusal(UNITS_NOT_HELD.finding(
            f"units {units.label()} are held in account(s) {', '.join(sorted(accounts))}, not {account}", where))
    rest = [b for b in working if b not in touching]
    for block in touching:
        remainders, piece = block.carve(max(block.first, units.first), min(block.last, units.last))
        rest.extend(remainders)
        if pending_ref is not None:
            rest.append(Block(piece.kind, piece.series, piece.first, piece.last, piece.vintage, piece.account,
                              PENDING, pending_ref, piece.template))
    return rest, account or ", ".join(sorted(accounts))


def plan_blocks(blocks: Sequence[UnitBlock], *, default_account: str, mode: Mode, ref: str,
                load: Callable[[Iterable[str]], list[Block]], quantity_check: bool = True) -> Plan:
    """A crediting-programme transfer (unit blocks, no actions; docs/transfers.md): inbound, every block is
    credited to ``default_account`` (a block's ``account`` is the sender's); outgoing, every block becomes a
    pending debit of the account it names (or of wherever it is held)."""
    result = Plan()
    todo: list[tuple[int, UnitBlock, Units]] = []
    for i, block in enumerate(blocks):
        where = _block(i)
        try:
            if not block.serial:
                raise UnitsUnidentified("the unit block has no serial number (a crediting-programme transfer "
                                        "identifies its blocks by serial)")
            units = serial_units(block.serial)
        except UnitsUnidentified as exc:
            result.findings.append(UNKNOWN_UNITS.finding(exc.message, where))
            continue
        except CarbonlinkError as exc:
            result.findings.append(UNKNOWN_UNITS.finding(f"the serial number cannot be read: {exc.message}", where))
            continue
        if quantity_check and block.quantity is not None and quantity_checked(units) \
                and block.quantity != units.quantity:
            result.findings.append(QUANTITY_MISMATCH.finding(
                f"the block states a quantity of {block.quantity} but {units.label()} holds {units.quantity} units",
                where))
            continue
        todo.append((i, block, units))
        result.series.add(units.series)
    working = load(result.series) if result.series else []
    for i, block, units in todo:
        try:
            if mode == "inbound":
                way, account = "credit", default_account
                working = _credit(working, units, account, _block(i))
            else:
                way = "reserve"
                working, account = _debit(working, units, block.account, _block(i), pending_ref=ref)
        except _Refusal as exc:
            result.findings.append(exc.finding)
            continue
        result.steps.append(Step(i, CREDITING_TRANSFER, way, units.label(), units.quantity, account))
    if not result.findings:
        result.after = merge_all(working)
    return result


def release(blocks: Iterable[Block]) -> list[Block]:
    """Pending blocks back to held (the outgoing transfer was rejected)."""
    return [Block(b.kind, b.series, b.first, b.last, b.vintage, b.account, HELD, None, b.template) for b in blocks]
