"""AEF V2 rows <-> the canonical model.

:func:`tables_to_document` expects rows that passed the structure layer (typed values, see
:mod:`standards.aef.structure`); :func:`document_to_tables` writes ``NA`` into every
conditional field whose condition does not apply, as the AEF requires.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from standards.aef.tables import NA, TABLES, AefTables, Row, TableSpec
from standards.aef.vocab import NOMENCLATURE
from standards.errors import InvalidValue
from standards.model import (
    Action,
    ActionType,
    Authorization,
    AuthorizedEntity,
    CanonicalDocument,
    Holding,
    Metric,
    Submission,
    UnitBlock,
)

_LIST_TYPES = ("party_list", "text_list")
_OIMP_PURPOSES = ("OIMP", "IMP", "OP", "NDC and OIMP", "NDC and IMP", "NDC and OP")


def _split_list(value: Any) -> list[str]:
    if value is None or value == NA:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).replace(";", ",").split(",") if part.strip()]


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise InvalidValue(f"not a date: {value!r}", code="AEF.DATE")


@functools.cache
def _record_fields(table_id: str) -> tuple[tuple[str, str, bool, str | None, str | None], ...]:
    """Each field of a table as (name, canonical attribute, list-typed, code list, unit block attribute or None)."""
    return tuple((f.cn, f.canonical, f.type in _LIST_TYPES, f.vocabulary,
                  f.canonical.removeprefix("units.") if f.canonical.startswith("units.") else None)
                 for f in TABLES[table_id].fields)


def _record_kwargs(spec: TableSpec, row: Row) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    units: dict[str, Any] = {}
    get = row.get
    for cn, canonical, listed, vocabulary, unit in _record_fields(spec.id):
        value = get(cn)
        if listed:
            kwargs[canonical] = _split_list(value)
            continue
        if value is None or value == NA or value == "":  # NA and empty text become None
            value = None
        elif vocabulary is not None and isinstance(value, str):
            value = NOMENCLATURE.canonical_value(vocabulary, value)
        if unit is not None:
            if value is not None:
                units[unit] = value
            continue
        kwargs[canonical] = value
    if units:
        kwargs["units"] = UnitBlock(**units)
    return kwargs


def tables_to_document(tables: AefTables) -> CanonicalDocument:
    """Canonical records from structurally valid AEF rows."""
    doc = CanonicalDocument()
    if tables.submission is not None:
        doc.submission = Submission(**_record_kwargs(TABLES["T1"], tables.submission))
    for row in tables.rows["T2"]:
        kw = _record_kwargs(TABLES["T2"], row)
        kw["metric"] = Metric(kw["metric"]) if kw.get("metric") else None
        doc.authorizations.append(Authorization(**kw))
    for row in tables.rows["T3"]:
        kw = _record_kwargs(TABLES["T3"], row)
        kw["date"] = _as_datetime(kw["date"])
        kw["action_type"] = ActionType(kw["action_type"])
        kw["metric"] = Metric(kw["metric"]) if kw.get("metric") else None
        doc.actions.append(Action(**kw))
    for row in tables.rows["T4"]:
        kw = _record_kwargs(TABLES["T4"], row)
        kw["metric"] = Metric(kw["metric"]) if kw.get("metric") else None
        doc.holdings.append(Holding(**kw))
    for row in tables.rows["T5"]:
        doc.authorized_entities.append(AuthorizedEntity(**_record_kwargs(TABLES["T5"], row)))
    return doc


_USE_OR_CANCEL = frozenset({"Use", "Cancellation", "Voluntary Cancellation"})
#: For T3 conditional fields: the action types they apply to (AEF V2 footnotes).
_T3_APPLIES: dict[str, frozenset[str]] = {
    "TransferringPartyID": frozenset({"Acquisition"}),
    "AcquiringPartyID": frozenset({"First transfer", "Transfer"}),
    "YearITMOUsedTowardsNDC": frozenset({"Use"}),
    "PurposeITMOUsedForOIMP": _USE_OR_CANCEL | {"First transfer"},
    "Using/cancellingPartyID": _USE_OR_CANCEL,
    "Using/cancellingEntityID": _USE_OR_CANCEL,
}
_OIMP_SET = frozenset(_OIMP_PURPOSES)


def _applies(cn: str, record: dict[str, Any], table_id: str) -> bool:
    """Whether a conditional (COND) field applies to this record (the AEF V2 footnotes)."""
    if cn == "Non-GHGMetric" or cn == "QuantityNon-GHG":
        return record.get("Metric") == "non-GHG"
    if table_id == "T2":
        return record.get("PurposeForAuthorization") in _OIMP_SET
    allowed = _T3_APPLIES.get(cn)
    return True if allowed is None else record.get("ActionType") in allowed


def condition_applies(table_id: str, cn: str, row: Row) -> bool:
    """Public form of the conditional-field test, shared with the validation rules."""
    return _applies(cn, row, table_id)


def _row_from(spec: TableSpec, record: Any) -> Row:
    row: Row = {}
    units = getattr(record, "units", None)
    for f in spec.fields:
        if f.canonical.startswith("units."):
            value = getattr(units, f.canonical.removeprefix("units."), None) if units is not None else None
        else:
            value = getattr(record, f.canonical)
        if f.type in _LIST_TYPES:
            value = ", ".join(value) if value else None
        elif isinstance(value, Enum):
            value = value.value
        row[f.cn] = value
    for f in spec.fields:
        if row[f.cn] is None and f.accepts_na:
            row[f.cn] = NA  # not applicable, or applicable but not stated
    if spec.id in ("T3", "T4") and row.get("UnderlyingUnitRegistryID") is None:
        row["UnderlyingUnitRegistryID"] = NA
        for cn in ("UnderlyingUnitFirstUnitID", "UnderlyingUnitLastUnitID"):
            if row[cn] is None:
                row[cn] = NA
    return row


def document_to_tables(doc: CanonicalDocument) -> AefTables:
    """AEF rows for a canonical document; crediting-programme actions (issuance, retirement) are skipped.

    Use :func:`unrepresentable_actions` to report them as losses.
    """
    tables = AefTables()
    if doc.submission is not None:
        tables.submission = _row_from(TABLES["T1"], doc.submission)
    tables.rows["T2"] = [_row_from(TABLES["T2"], a) for a in doc.authorizations]
    tables.rows["T3"] = [_row_from(TABLES["T3"], a) for a in doc.actions if a.action_type.is_article6]
    tables.rows["T4"] = [_row_from(TABLES["T4"], h) for h in doc.holdings]
    tables.rows["T5"] = [_row_from(TABLES["T5"], e) for e in doc.authorized_entities]
    return tables


def unrepresentable_actions(doc: CanonicalDocument) -> list[int]:
    """Indexes of canonical actions the AEF has no action type for (issuance, retirement)."""
    return [i for i, a in enumerate(doc.actions) if not a.action_type.is_article6]
