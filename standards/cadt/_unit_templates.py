"""Unit records of a stream built from a template per group of blocks (:class:`UnitTemplates`).

The blocks of one issuance in one state (a Verra issuance split by its retirements) give v2 unit records
that differ only in the block's own values: its serial, bounds, count and id, and its status date, reason,
beneficiary and owner when it has them. :class:`~standards.cadt.stream_v2.V2UnitStream` builds a unit of a
group it has not seen the whole way (mapping, linking, validation); when that unit changed nothing the next
unit of its group depends on (no record, slot, issuance or finding added: the stream's *steady state*),
its record, its losses and the linker's counts become the group's template; so does the unit that built the
issuance it is linked to, with no finding, less what building the issuance counted once (the stream's
``_built_once``). The next units of the group
copy the template and set their own values, and only those values are validated, by the very checks the
validator applies to those fields (type, length, date, range, decimal places; the serial range across
bounds and count). A value those checks would refuse, or any value they do not cover, sends the unit the
whole way instead, which reports it. So what a template writes is what the whole way writes; the tests
(tests/standards/test_cadt_unit_templates.py) hold the two equal on real exports and hostile rows.

A group is everything the whole way reads from a block but those values: the block's other fields, the
serial's text around ``-<first>-<last>-`` (with the length of each bound), whether each optional value is
given, and the ``extra`` columns (their values only where the mapping or the linker reads them, the
vocabulary's ``unitColumns``; the others become losses by their name alone). A block whose ``extra`` holds
a v2 field or a resource, or whose serial does not write its own range once, has no group.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

import orjson

from standards.cadt._record_ids import id_maker
from standards.cadt.common import MOVES_V1_TO_V2, json_number
from standards.cadt.spec import FieldSpec, VersionSpec
from standards.cadt.validate import parse_date
from standards.cadt.validate._base import PARTY_FIELDS, PARTY_LIST_FIELDS, ValidatorBase
from standards.cadt.vocab import Vocabulary
from standards.model import UnitBlock

#: Templates kept at once (the oldest group is dropped beyond that: its next block goes the whole way).
MAX_TEMPLATES = 1024
#: Sets of optional values a template keeps (see :attr:`UnitTemplate.memo`): with at most MAX_TEMPLATES
#: templates, at most 16,384 layouts of a few hundred bytes each.
MEMO_SIZE = 16
#: The per-block values a template writes that are the block's own, in this order (see :meth:`UnitTemplate.write`).
_OWN = ("unitSerialId", "unitStartBlock", "unitEndBlock", "unitCount", "cadTrustUnitId")
#: Types of optional values a layout is kept for: those whose equal values render alike (a ``datetime`` is
#: not equal to a ``date``; ``bool`` is not here, so ``True`` and ``1`` never share a layout).
_MEMO_TYPES = frozenset({str, date})
_MISSING: Any = object()
_ONCE: Any = object()

#: The UnitBlock fields a group is keyed on; with the per-block ones below, every field of the model.
_GROUP_FIELDS = ("registry", "project_id", "project_name", "country", "vintage", "unit_type", "status",
                 "issuance_date", "link", "account", "itmo_reference", "corresponding_adjustment")
#: Optional per-block values and the v2 field each is written to.
_OPTIONAL = (("status_date", "unitStatusDate"), ("status_reason", "unitStatusReason"),
             ("beneficiary", "unitRetirementBeneficiary"), ("owner", "unitCurrentOwner"))
_BLOCK_FIELDS = ("serial", "first_id", "last_id", "quantity", "extra", *(name for name, _ in _OPTIONAL))
#: False when the model has a field this module does not know: then no block has a group.
KNOWN_MODEL = set(UnitBlock.model_fields) == {*_GROUP_FIELDS, *_BLOCK_FIELDS}

Check = Callable[[Any], bool]
_dumps = orjson.dumps


@dataclass(slots=True)
class UnitTemplate:
    """What the whole way gave one unit of a group, for the group's next units."""

    order: tuple[str, ...]  # the v2 fields given per block, in the record's order
    unit_id: Callable[[str], tuple[str, int]] | None  # cadTrustUnitId (and its first 64 bits) of a serial
    optional: tuple[tuple[str, str], ...]  # (UnitBlock field, v2 field) given per block
    checks: tuple[tuple[str, Check], ...]  # v2 field -> the validator's verdict on a block's value (see _KEYED)
    losses: tuple[tuple[str, str], ...]  # (loss field, reason), each named by the block's serial
    counts: tuple[tuple[Counter[str], str, int], ...]  # what the linker counts: (its counter, what, by how much)
    issuance: str | None
    parts: tuple[bytes, ...] = ()  # the rendered record cut where the per-block values go (no ``%`` doubled)
    slot: Any = None  # the project slot the linker completed the unit with (None: no linking)
    held: tuple[Any, ...] = ()  # what a block may fall back on in that slot, when the template was made
    #: The per-block values that are the block's own (not optional), by their place in :data:`_OWN`, in the
    #: record's order; and the checks of those of them :meth:`write` must judge, by the same places.
    own: Callable[[tuple[Any, ...]], tuple[Any, ...]] = tuple
    own_places: tuple[int, ...] = ()  # those places themselves
    own_checks: tuple[tuple[int, Check], ...] = ()
    optional_checks: tuple[tuple[int, Check], ...] = ()  # by the place in :attr:`optional`
    #: Every per-block value in the record's order, from the block's own values followed by its optional ones
    full: Callable[[tuple[Any, ...]], tuple[Any, ...]] = tuple
    #: The block's optional values (as the block holds them) -> the record with them set, as a function of the
    #: block's own values (:func:`_joiner`; None: a check refuses one of them; ``_ONCE``: seen once, passed).
    #: At most :data:`MEMO_SIZE` kept.
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    #: Units written from this template whose losses and counts are not yet added (see
    #: :meth:`standards.cadt.stream_v2.V2UnitStream.settle`); only once every loss field names no more ids.
    replayed: int = 0
    saturated: bool = False
    counted: bool = False  # whether ``unitCount`` is given per block (set from :attr:`order`)
    optional_of: Callable[[Mapping[str, Any]], tuple[Any, ...]] = tuple  # a block's optional values (set)

    def __post_init__(self) -> None:
        self.counted = "unitCount" in self.order
        names = tuple(name for name, _key in self.optional)
        if len(names) > 1:
            self.optional_of = itemgetter(*names)
        elif names:
            self.optional_of = _one(names[0])
        else:
            self.optional_of = _empty

    def render(self, values: dict[str, Any]) -> bytes:
        """The record with the block's ``values``, as :func:`standards.cadt.stream_v2.render` writes it."""
        return _interleaved(self.parts, map(_dumps, map(values.__getitem__, self.order)))

    def write(self, given: Mapping[str, Any], start: str, end: str) -> tuple[bytes, int] | None:
        """What :meth:`render` writes for the values :meth:`UnitTemplates.fill` gives the block whose field
        values are ``given`` (``start``/``end``: its bounds as text), with the first 64 bits of its
        ``cadTrustUnitId`` (-1: none); None exactly when ``fill`` gives None. The same checks, on the same
        values: the optional values' verdicts and rendering are kept by their values (a check depends on the
        value alone), the count is ``fill``'s (a whole Decimal equal to the range's size is ``json_number``'s
        int of it)."""
        first, last = given["first_id"], given["last_id"]
        if last < first:
            return None
        serial = given["serial"]
        count: int | None = None
        if self.counted:
            count = last - first + 1
            if given["quantity"] != count:
                return None  # fill: a float, or an int other than the range's size
        if self.unit_id is not None:
            unit_id, head = self.unit_id(serial)
        else:
            unit_id, head = None, -1
        own = (serial, start, end, count, unit_id)
        for place, check in self.own_checks:
            if not check(own[place]):
                return None
        optional = self.optional_of(given)
        # a layout is kept only for values of exactly these types: a value of another type that equals one
        # (a str subclass) is judged anew
        memoable = _MEMO_TYPES.issuperset(map(type, optional))
        layout = self.memo.get(optional, _MISSING) if memoable else _MISSING
        if layout is None:
            return None
        if layout is not _MISSING and layout is not _ONCE:
            return layout(own), head
        values = tuple(value.isoformat() if isinstance(value, date) else value for value in optional)
        refused = any(not check(values[place]) for place, check in self.optional_checks)
        if memoable:
            # a set of values seen once is only marked; its layout is made the second time (blocks whose
            # values are all different, a beneficiary per block, are rendered whole at no extra cost)
            self._remember(optional, None if refused else self._layout_for(values) if layout is _ONCE else _ONCE)
        if refused:
            return None
        return _interleaved(self.parts, map(_dumps, self.full(own + values))), head

    def _remember(self, optional: tuple[Any, ...], layout: Any) -> None:
        if len(self.memo) >= MEMO_SIZE:
            self.memo.clear()
        self.memo[optional] = layout

    def _layout_for(self, values: tuple[Any, ...]) -> Callable[[tuple[Any, ...]], bytes]:
        """The record with the optional ``values`` (as written) set, as a function of the block's own values
        (the 5-tuple of :data:`_OWN`): the pieces between the own values' places, each joined once."""
        by_key = dict(zip((key for _name, key in self.optional), values, strict=True))
        pieces, piece = [], [self.parts[0]]
        for name, part in zip(self.order, self.parts[1:], strict=True):
            if name in by_key:
                piece.append(_dumps(by_key[name]))
            else:
                pieces.append(b"".join(piece))
                piece = []
            piece.append(part)
        pieces.append(b"".join(piece))
        return _joiner(tuple(pieces), self.own_places)


class UnitTemplates:
    """The groups of a stream's units and their templates (see the module docstring)."""

    def __init__(self, spec: VersionSpec, validator: ValidatorBase) -> None:
        entity = spec.entities["unit"]
        self._blocked = frozenset({*entity.by_name, *MOVES_V1_TO_V2["unit"], *spec.resources})
        self._relevant: dict[str | None, tuple[str, ...]] = {}
        self._templates: dict[tuple[Any, ...], UnitTemplate] = {}
        self._by_mark: dict[Any, tuple[Any, ...]] = {}  # a reader's mark of a group -> its key (see key_by)
        self._checks: dict[str, Check | None] = {}
        plan = validator._plan(entity)
        ordered = {name for f in plan.ordered for name in (f.name, f.after)}
        checked = {f.name for f in plan.checked}
        self._usable = KNOWN_MODEL and not validator.request and not plan.children
        self.bounds = ("", "")
        for name in ("unitSerialId", "unitStartBlock", "unitEndBlock", "unitCount", "cadTrustUnitId",
                     *(key for _, key in _OPTIONAL)):
            f = entity.by_name.get(name)
            self._checks[name] = None if f is None or name in ordered else _value_check(f, name in checked)
        #: Fields whose check reads only the value's type and length (text that is not a date).
        self._by_length = frozenset(name for name, check in self._checks.items() if check is not None
                                    and entity.by_name[name].kind in ("string", "text"))

    # -- groups ---------------------------------------------------------------------------------

    def key(self, unit: UnitBlock, vocab: Vocabulary | None) -> tuple[Any, ...] | None:
        """The group of ``unit``, or None when it has none. Its bounds as text stay in :attr:`bounds` (for
        :meth:`fill`)."""
        return self.key_of(unit.__dict__, vocab)

    def key_of(self, given: Mapping[str, Any], vocab: Vocabulary | None) -> tuple[Any, ...] | None:
        """:meth:`key` of the block whose field values are ``given`` (every field of the model, as the
        block holds them: a block's ``__dict__``, or the values a reader builds a block from)."""
        serial, first, last = given["serial"], given["first_id"], given["last_id"]
        if serial is None or first is None or last is None or not self._usable:
            return None
        self.bounds = first_text, last_text = str(first), str(last)
        cut = f"-{first_text}-{last_text}-"
        head, sep, tail = serial.partition(cut)
        if not sep or cut in tail:
            return None
        extra = given["extra"]
        if not self._blocked.isdisjoint(extra):
            return None
        relevant = self._relevant.get(given["registry"])
        if relevant is None:
            relevant = self._relevant[given["registry"]] = _columns(vocab)
        return (_group(given), given["status_date"] is None, given["status_reason"] is None,
                given["beneficiary"] is None, given["owner"] is None, given["quantity"] is None, head, tail,
                len(first_text), len(last_text), tuple(extra), tuple(map(extra.get, relevant)))

    def key_by(self, mark: Any, given: Mapping[str, Any], vocab: Vocabulary | None) -> tuple[Any, ...] | None:
        """:meth:`key_of` of a block its reader marked ``mark`` (see :class:`adapters.registry_exports.PendingBlock`):
        blocks with equal marks have the same key, but where their own range is written in the serial's tail
        (no key then); the key of the first is kept by its mark (at most :data:`MAX_TEMPLATES` kept), unless one
        of the columns the key reads (the vocabulary's) is one whose value the mark does not hold."""
        key = self._by_mark.get(mark)
        if key is not None:
            bounds = str(given["first_id"]), str(given["last_id"])
            if f"-{bounds[0]}-{bounds[1]}-" not in key[_KEY_TAIL]:
                self.bounds = bounds
                return key
        key = self.key_of(given, vocab)
        if key is not None and set(self._relevant[given["registry"]]).isdisjoint(mark[-1]):
            if len(self._by_mark) >= MAX_TEMPLATES:
                self._by_mark.clear()
            self._by_mark[mark] = key
        return key

    def get(self, key: tuple[Any, ...]) -> UnitTemplate | None:
        try:
            return self._templates.get(key)
        except TypeError:  # a value that cannot be hashed (a list kept in a column the linker reads): no group
            return None

    def keep(self, key: tuple[Any, ...], template: UnitTemplate) -> None:
        try:
            hash(key)
        except TypeError:
            return
        if len(self._templates) >= MAX_TEMPLATES:
            del self._templates[next(iter(self._templates))]
        self._templates[key] = template

    # -- templates ------------------------------------------------------------------------------

    def template(self, unit: UnitBlock, record: dict[str, Any], rendered: bytes, vocab: Vocabulary | None,
                 losses: list[tuple[str, str, str]], counts: tuple[tuple[Counter[str], str, int], ...],
                 issuance: str | None) -> UnitTemplate | None:
        """The template of the unit just built the whole way into ``record`` (written as ``rendered``), or
        None when ``record`` is not the template with the unit's own values set (a value from elsewhere), a
        check cannot judge them, or the template does not write ``rendered`` back."""
        serial = str(unit.serial)
        if any(rid != serial for _name, rid, _reason in losses):
            return None
        optional = tuple((name, key) for name, key in _OPTIONAL if getattr(unit, name) is not None)
        per_block = {"unitSerialId", "unitStartBlock", "unitEndBlock", *(key for _, key in optional)}
        if unit.quantity is not None:
            per_block.add("unitCount")
        unit_id = id_maker(vocab.name, "unit") if vocab is not None and "cadTrustUnitId" in record else None
        if unit_id is not None:
            per_block.add("cadTrustUnitId")
        if not per_block <= set(record):
            return None
        checks: list[tuple[str, Check]] = []
        keyed: list[tuple[str, Check]] = []
        for name in per_block:
            check = self._checks.get(name)
            if check is None:
                return None
            (keyed if name in _KEYED and name in self._by_length else checks).append((name, check))
        order = tuple(name for name in record if name in per_block)
        parts, piece = [], [b"    {\n"]
        for i, (name, value) in enumerate(record.items()):
            piece.append(b",\n      " if i else b"      ")
            piece.append(_dumps(name) + b": ")
            if name in per_block:
                parts.append(b"".join(piece))
                piece = []
            else:
                piece.append(_dumps(value))
        piece.append(b"\n    }")
        parts.append(b"".join(piece))
        own_names = tuple(name for name in order if name in _OWN)
        own_places = tuple(_OWN.index(name) for name in own_names)
        by_check = dict(checks)
        made = UnitTemplate(order, unit_id, optional, tuple(checks),
                            tuple((n, r) for n, _, r in losses), counts, issuance, tuple(parts),
                            own=itemgetter(*own_places), own_places=own_places,
                            own_checks=tuple((_OWN.index(name), by_check[name]) for name in own_names
                                             if name in by_check),
                            optional_checks=tuple((place, by_check[key]) for place, (_name, key)
                                                  in enumerate(optional) if key in by_check),
                            full=itemgetter(*(_OWN.index(name) if name in _OWN
                                              else len(_OWN) + [key for _n, key in optional].index(name)
                                              for name in order)))
        if len(own_names) < 2 or len(made.own_checks) + len(made.optional_checks) != len(checks):
            return None  # every value given per block is the block's own or optional; write() needs a tuple
        values = self.fill(made, unit.__dict__)
        if values is None or not all(check(values[name]) for name, check in keyed) \
                or any(values[name] != record[name] or type(values[name]) is not type(record[name])
                       for name in order) or made.render(values) != rendered \
                or values.get("cadTrustUnitIdHead", -1) != _head(record.get("cadTrustUnitId")) \
                or made.write(unit.__dict__, *self.bounds_of(unit)) != (rendered, _head(record.get("cadTrustUnitId"))):
            return None
        return made

    @staticmethod
    def bounds_of(unit: UnitBlock) -> tuple[str, str]:
        return str(unit.first_id), str(unit.last_id)

    @staticmethod
    def fill(template: UnitTemplate, given: Mapping[str, Any],
             bounds: tuple[str, str] | None = None) -> dict[str, Any] | None:
        """The v2 values of the block whose field values are ``given`` (of the template's group; see
        :meth:`key_of`) that the block gives, or None when a check refuses one of them. ``bounds``: its first
        and last unit as text, when :meth:`key_of` just gave them."""
        serial = given["serial"]
        first, last = given["first_id"], given["last_id"]
        start, end = bounds or (str(first), str(last))
        values: dict[str, Any] = {"unitSerialId": serial, "unitStartBlock": start, "unitEndBlock": end}
        quantity = given["quantity"]
        if quantity is not None:
            values["unitCount"] = json_number(quantity)
        if template.unit_id is not None:
            values["cadTrustUnitId"], values["cadTrustUnitIdHead"] = template.unit_id(serial)
        for name, key in template.optional:
            value = given[name]
            values[key] = value.isoformat() if isinstance(value, date) else value
        for key, check in template.checks:
            if not check(values[key]):
                return None
        # the serial range rule (FieldRules._serial_range), on bounds written by str(int)
        if last < first:
            return None
        count = values.get("unitCount")
        if count is not None and (type(count) is not int or count != last - first + 1):
            return None
        return values


_group = itemgetter(*_GROUP_FIELDS)
#: The place of the serial's text after ``-<first>-<last>-`` in a group's key (see UnitTemplates.key_of).
_KEY_TAIL = 7


def _interleaved(parts: tuple[bytes, ...], values: Iterable[bytes]) -> bytes:
    """``parts`` with one of ``values`` between each two: ``b"%b".join(parts) % tuple(values)`` without the
    ``%`` formatting (a ``%`` of a part's own is not doubled here)."""
    pieces = [parts[0]]
    for value, part in zip(values, parts[1:], strict=True):
        pieces.append(value)
        pieces.append(part)
    return b"".join(pieces)


def _joiner(parts: tuple[bytes, ...], places: tuple[int, ...]) -> Callable[[tuple[Any, ...]], bytes]:
    """The function of a block's own values (``own``, by the places of :data:`_OWN`) that writes ``parts``
    with the JSON of ``own[place]`` for each of ``places`` between each two (as :func:`_interleaved`); the
    common cases as one ``join`` of a tuple display."""
    if len(places) == 5:
        p0, p1, p2, p3, p4, p5 = parts
        i0, i1, i2, i3, i4 = places

        def five(own: tuple[Any, ...]) -> bytes:
            return b"".join((p0, _dumps(own[i0]), p1, _dumps(own[i1]), p2, _dumps(own[i2]), p3, _dumps(own[i3]),
                             p4, _dumps(own[i4]), p5))
        return five
    if len(places) == 4:
        q0, q1, q2, q3, q4 = parts
        j0, j1, j2, j3 = places

        def four(own: tuple[Any, ...]) -> bytes:
            return b"".join((q0, _dumps(own[j0]), q1, _dumps(own[j1]), q2, _dumps(own[j2]), q3, _dumps(own[j3]),
                             q4))
        return four
    pick = itemgetter(*places)
    return lambda own: _interleaved(parts, map(_dumps, pick(own)))


def _empty(_given: Mapping[str, Any]) -> tuple[Any, ...]:
    return ()


def _one(name: str) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    return lambda given: (given[name],)
#: v2 fields whose length is the same for every block of a group: the serial (its text around the range and
#: the bounds' lengths are part of the group), the bounds, the id (a UUID). A check that reads only a value's
#: type and length gives each of them the verdict it gave the template's; :meth:`UnitTemplates.fill` skips it.
_KEYED = frozenset({"unitSerialId", "unitStartBlock", "unitEndBlock", "cadTrustUnitId"})


def _head(unit_id: Any) -> int:
    """The first 64 bits of a unit id (the stream keeps them to find a repeated id), or -1 when it has none."""
    return int(unit_id[:8] + unit_id[9:13] + unit_id[14:18], 16) if unit_id is not None else -1


def _columns(vocab: Vocabulary | None) -> tuple[str, ...]:
    """Every ``extra`` column the linker reads through the vocabulary's ``unitColumns``."""
    if vocab is None:
        return ()
    names: set[str] = set()
    for value in vocab.table("unitColumns").values():
        names.update([value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]
                     if isinstance(value, list) else [])
    return tuple(sorted(names))


def _value_check(f: FieldSpec, checked: bool) -> Check | None:
    """Whether one value of field ``f`` passes every check the validator applies to it (structure,
    picklist, field rules), for the kinds and values judged here; None when this field is not judged here
    (a picklist, a Party code, a kind or rule this does not cover). Conservative: False sends the unit
    the whole way, which reports what is wrong."""
    if (f.picklist and f.enforced) or f.name in PARTY_FIELDS | PARTY_LIST_FIELDS or f.child:
        return None
    if f.kind in ("string", "text", "date"):
        if f.decimal_places is not None or f.range is not None:
            return None
        limit, non_empty, is_date = f.max_length if checked else None, f.non_empty and checked, f.kind == "date"

        def text(value: Any) -> bool:
            return (type(value) is str and (limit is None or len(value) <= limit) and not (non_empty and value == "")
                    and (not is_date or not checked or parse_date(value) is not None))
        if not (is_date and checked):
            return text
        known: dict[str, bool] = {}  # a date's verdict by its text (dates repeat across blocks)

        def date_text(value: Any) -> bool:
            if type(value) is not str:
                return False
            verdict = known.get(value)
            if verdict is None:
                verdict = text(value)
                if len(known) < 4096:
                    known[value] = verdict
            return verdict
        return date_text
    if f.kind == "decimal":
        if f.max_length is not None or f.non_empty:
            return None
        bounds = f.range if checked else None

        def number(value: Any) -> bool:  # an int has no decimal places, so no places rule refuses it
            return type(value) is int and (bounds is None or bounds[0] <= value <= bounds[1])
        return number
    return None
