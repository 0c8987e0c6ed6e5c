"""CAD Trust v2 AEF tables (``aef-t1-submission`` ... ``aef-t5-authorized-entities``) <-> canonical.

Keys map through the lead's AEF field specs (``TABLES[t].by_cadt``: CADT key -> CN name), rows
through :func:`standards.aef.mapping.tables_to_document` / :func:`document_to_tables`. Values
change spelling through the :class:`~standards.cadt.profiles.Profile` (``GHC`` <-> ``GHG``,
``First Transfer`` <-> ``First transfer``, ...); a CN value the target picklist lacks takes the
profile's fallback, or stays out, and is always reported as a loss. CADT ids (``cadTrust*Id``)
and timestamps ride in each canonical record's ``extra``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from standards.aef.mapping import document_to_tables, tables_to_document, unrepresentable_actions
from standards.aef.tables import NA, TABLES, AefTables, FieldSpec, Row
from standards.cadt.common import LossLog, country_alpha3, country_name, json_number, to_date, to_decimal
from standards.cadt.picklists import Picklists
from standards.cadt.profiles import Profile
from standards.cadt.rules import RULES_V2
from standards.cadt.spec import EntitySpec, load_spec
from standards.cadt.validate import Locator, Record, Validation, as_block_int, default_locator
from standards.findings import Finding
from standards.itmo import InvalidItmoId, ItmoId
from standards.model import CanonicalDocument

#: CADT resource name per AEF table, in the CADT insert order (T5 first).
RESOURCES = {"T1": "aef-t1-submission", "T2": "aef-t2-authorizations", "T3": "aef-t3-actions",
             "T4": "aef-t4-holdings", "T5": "aef-t5-authorized-entities"}
ENTITIES = {t: r.replace("-", "_") for t, r in RESOURCES.items()}
_RECORD_LISTS = {"T2": "authorizations", "T3": "actions", "T4": "holdings", "T5": "authorized_entities"}
#: CN party fields CADT spells as country names (T1 party is "Kenya" in the dictionary's example).
#: Namespace of the placeholder ids carbonlink gives AEF rows that arrive without CADT ids.
ID_NAMESPACE = uuid.UUID("5b0c9d52-3c1e-4f43-9a7e-cadc0000aef2")
_COUNTRY_NAME_FIELDS = {("T1", "ParticipatingParty"): "location_country",
                        ("T5", "AuthorizedEntityCountryOfIncorporation"):
                            "aef_t5_authorized_entities_incorporation_country"}


def _entity(table_id: str) -> EntitySpec:
    return load_spec("v2").entities[ENTITIES[table_id]]


def _to_cn_value(table_id: str, f: FieldSpec, value: Any, profile: Profile, entity: EntitySpec) -> Any:
    if value is None or value == NA:
        return value
    if (table_id, f.cn) in _COUNTRY_NAME_FIELDS:
        return country_alpha3(value) or value
    kind = f.type.removesuffix("_or_na")
    if kind == "date":
        return to_date(value) or value
    if kind == "datetime":
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                return value
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return value
    if kind == "serial" or (kind == "integer" and f.canonical.startswith("units.")):
        number = as_block_int(value)
        if number is None and isinstance(value, str):
            try:
                number = ItmoId.parse(value).serial
            except InvalidItmoId:
                return value
        return value if number is None else number
    if kind in ("integer", "year"):
        return as_block_int(value) if isinstance(value, str) and as_block_int(value) is not None else value
    if kind == "decimal":
        return to_decimal(value) if to_decimal(value) is not None else value
    if kind == "version":
        return f"{value}.0" if isinstance(value, int) else str(value)
    cadt_field = entity.by_name.get(f.cadt)
    if cadt_field is not None and cadt_field.picklist and isinstance(value, str):
        return profile.to_canonical(cadt_field.picklist, value)
    return value


def to_records(validation: Validation, profile: Profile,
               locate: Locator = default_locator) -> tuple[CanonicalDocument, list[Finding]]:
    """Canonical AEF records from the AEF resources that passed validation."""
    doc = CanonicalDocument()
    findings: list[Finding] = []
    for table_id, resource in RESOURCES.items():
        spec, entity = TABLES[table_id], _entity(table_id)
        converted: list[tuple[Record, Row, dict[str, Any]]] = []
        for rec in validation.passed(resource):
            row: Row = {}
            extra: dict[str, Any] = {}
            for key, value in rec.data.items():
                f = spec.by_cadt.get(key)
                if f is None:
                    if value is not None:
                        extra[key] = value
                    continue
                row[f.cn] = _to_cn_value(table_id, f, value, profile, entity)
            converted.append((rec, row, extra))
        if table_id == "T1":
            for rec, row, extra in converted:
                if doc.submission is not None:
                    findings.append(RULES_V2["CADT.V2.UNPLACED"].finding(
                        f"{resource} {rec.index} is a second submission; the canonical document carries one "
                        "(translate each submission on its own)", locate((resource, rec.index))))
                    continue
                records = _convert(table_id, [(rec, row)], findings, locate)
                if records:
                    records[0].extra.update(extra)
                    doc.submission = records[0]
            continue
        records = _convert(table_id, [(rec, row) for rec, row, _ in converted], findings, locate)
        if len(records) == len(converted):
            for record, (_, _, extra) in zip(records, converted, strict=True):
                record.extra.update(extra)
            getattr(doc, _RECORD_LISTS[table_id]).extend(records)
            continue
        for rec, row, extra in converted:  # some rows failed: map them one by one to name each
            single = _convert(table_id, [(rec, row)], findings, locate)
            for record in single:
                record.extra.update(extra)
            getattr(doc, _RECORD_LISTS[table_id]).extend(single)
    return doc, findings


def _convert(table_id: str, rows: list[tuple[Record, Row]], findings: list[Finding],
             locate: Locator) -> list[Any]:
    """Canonical records for CN-keyed rows of one table; one finding when a single row cannot map."""
    tables = AefTables()
    if table_id == "T1":
        tables.submission = rows[0][1]
    else:
        tables.rows[table_id] = [row for _, row in rows]
    try:
        part = tables_to_document(tables)
    except (ValidationError, ValueError, TypeError, KeyError) as exc:
        if len(rows) == 1:
            rec = rows[0][0]
            findings.append(RULES_V2["CADT.V2.TYPE"].finding(
                f"{rec.resource} {rec.index} cannot be read as an AEF {table_id} record: {_first_error(exc)}",
                locate((rec.resource, rec.index))))
        return []
    if table_id == "T1":
        return [part.submission] if part.submission is not None else []
    records: list[Any] = getattr(part, _RECORD_LISTS[table_id])
    return records


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        return f"{where}: {err.get('msg')}"
    return str(exc)


def from_records(doc: CanonicalDocument, picklists: Picklists, profile: Profile,
                 losses: LossLog) -> dict[str, list[dict[str, Any]]]:
    """The CADT AEF resources for a canonical document, spelled as the profile says."""
    tables = document_to_tables(doc)
    skipped = unrepresentable_actions(doc)
    if skipped:
        losses.add_many("action.action_type", [f"actions#{i}" for i in skipped],
                        "AEF/CAD Trust T3 has no issuance or retirement action")
    sources: dict[str, list[Any]] = {
        "T1": [doc.submission] if doc.submission else [],
        "T2": doc.authorizations, "T3": [a for a in doc.actions if a.action_type.is_article6],
        "T4": doc.holdings, "T5": doc.authorized_entities,
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for table_id in ("T5", "T1", "T2", "T3", "T4"):
        spec, entity = TABLES[table_id], _entity(table_id)
        resource = RESOURCES[table_id]
        records: list[dict[str, Any]] = []
        for index, (row, source) in enumerate(zip(tables.table(table_id), sources[table_id], strict=True)):
            rid = f"{resource}#{index}"
            native: dict[str, Any] = {}
            for key, value in source.extra.items():
                if key in entity.by_name:
                    native[key] = value
                else:
                    losses.add(f"{resource}.extra.{key}", rid, "CAD Trust v2 has no field for it")
            for f in spec.fields:
                value = _to_cadt_value(table_id, f, row.get(f.cn), entity, picklists, profile, losses, rid)
                if value is not None:
                    native[profile.output_key(f.cadt)] = value
            records.append(native)
        out[resource] = records
    _link_to_t2(out)
    return out


def _link_to_t2(out: dict[str, list[dict[str, Any]]]) -> None:
    """Give T2 rows without a CADT id a stable placeholder id, and point T3/T4 rows at their T2.

    A T3/T4 row needs ``cadTrustAefT2AuthorizationsId``; rows translated from the AEF have none,
    so the T2 row with the same cooperative approach and authorization id (highest version) is
    chosen and its id written. Placeholder ids are UUID5 of the authorization's identity, so the
    same input always gives the same ids.
    """
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for t2 in out.get("aef-t2-authorizations", []):
        ca, auth = str(t2.get("aefT2AuthorizationsCooperativeApproachId")), str(t2.get("aefT2AuthorizationsId"))
        if t2.get("cadTrustAefT2AuthorizationsId") is None:
            name = f"aef-t2:{ca}:{auth}:{t2.get('aefT2AuthorizationsVersion')}"
            t2["cadTrustAefT2AuthorizationsId"] = str(uuid.uuid5(ID_NAMESPACE, name))
        best = by_key.get((ca, auth))
        if best is None or str(t2.get("aefT2AuthorizationsVersion") or "") >= str(
                best.get("aefT2AuthorizationsVersion") or ""):
            by_key[(ca, auth)] = t2
    for resource, prefix in (("aef-t3-actions", "aefT3Actions"), ("aef-t4-holdings", "aefT4Holdings")):
        for row in out.get(resource, []):
            if row.get("cadTrustAefT2AuthorizationsId") is not None:
                continue
            approach = row.get(f"{prefix}CooperativeApproachId", row.get(f"{prefix}CoopoerativeApproachId"))
            match = by_key.get((str(approach), str(row.get(f"{prefix}AuthorizationId"))))
            if match is not None:
                row["cadTrustAefT2AuthorizationsId"] = match["cadTrustAefT2AuthorizationsId"]


def _to_cadt_value(table_id: str, f: FieldSpec, value: Any, entity: EntitySpec, picklists: Picklists,
                   profile: Profile, losses: LossLog, rid: str) -> Any:
    cadt_field = entity.by_name.get(f.cadt)
    if value is None:
        return None
    if value == NA:
        return NA if cadt_field is not None and cadt_field.is_required else None
    list_name = _COUNTRY_NAME_FIELDS.get((table_id, f.cn))
    if list_name is not None:
        name = country_name(str(value), picklists, list_name)
        if name not in (picklists.values(list_name) or ()):
            losses.add(f"{RESOURCES[table_id]}.{f.cadt}", rid,
                       f"the CAD Trust list {list_name} has no country {value!r}; written as {name!r}")
        return name
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if cadt_field is not None and cadt_field.kind == "string" and not isinstance(value, str | bool):
        return str(value)  # CADT types ITMO ids and the non-GHG quantity as text
    if not isinstance(value, str | int | bool):
        number = to_decimal(value)
        return json_number(number) if number is not None else str(value)
    if cadt_field is not None and cadt_field.picklist and isinstance(value, str):
        return _picklist_out(f, cadt_field.picklist, value, cadt_field.is_required, picklists, profile,
                             losses, f"{RESOURCES[table_id]}.{f.cadt}", rid)
    return value


def _picklist_out(f: FieldSpec, picklist: str, canonical: str, required: bool, picklists: Picklists,
                  profile: Profile, losses: LossLog, loss_field: str, rid: str) -> str | None:
    spelled = profile.to_cadt(picklist, canonical)
    allowed = picklists.values(picklist)
    if allowed is None or spelled in allowed:
        return spelled
    has_fallback, fallback = profile.fallback(picklist, canonical)
    if has_fallback:
        written = "left empty" if fallback is None else f"written as {fallback!r}"
        losses.add(loss_field, rid, f"the CAD Trust list {picklist} ({profile.name}) has no {canonical!r}; "
                   f"{written}")
        return fallback
    if required:
        losses.add(loss_field, rid, f"the CAD Trust list {picklist} has no {canonical!r}; written as given, "
                   "which a CADT node will refuse")
        return spelled
    losses.add(loss_field, rid, f"the CAD Trust list {picklist} has no {canonical!r}; left empty")
    return None
