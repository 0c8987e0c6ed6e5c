"""The cross-record layer: duplicate ids and references between the records of one document."""

from __future__ import annotations

from standards.cadt.validate._base import Path, Record, Validation, ValidatorBase, _as_list, _noun
from standards.findings import Severity


class CrossRecordRules(ValidatorBase):
    """Checks that need the whole document: unique ids, issuance links (v1), foreign keys and T2 links (v2)."""

    def _cross_record(self, out: Validation) -> None:
        ids: dict[str, set[str]] = {}
        for resource, records in out.records.items():
            pk = self.spec.entity_for(resource).pk
            seen: dict[str, int] = {}
            for rec in records:
                value = rec.data.get(pk) if pk else None
                if value is None:
                    continue
                key = str(value)
                ids.setdefault(resource, set()).add(key)
                if key in seen and not rec.failed:
                    self._add(f"{self._p}.DUPLICATE_ID", (resource, rec.index, str(pk)),
                              f"{pk} {key} is used by {_noun(resource)} {seen[key]} too")
                seen.setdefault(key, rec.index)
        if self.version == "v1":
            self._v1_references(out)
        else:
            self._v2_references(out, ids)

    def _v1_references(self, out: Validation) -> None:
        projects = list(out.records.get("projects", []))
        if not projects:
            return
        project_ids = {str(p.data.get("warehouseProjectId")) for p in projects
                       if p.data.get("warehouseProjectId") is not None}
        issuance_ids = {str(i.get("id")) for p in projects for i in _as_list(p.data.get("issuances"))
                        if isinstance(i, dict) and i.get("id") is not None}
        for unit in out.passed("units"):
            issuance = unit.data.get("issuance")
            path: Path = ("units", unit.index)
            if isinstance(issuance, dict) and issuance.get("warehouseProjectId") is not None:
                wid = str(issuance["warehouseProjectId"])
                if wid not in project_ids:
                    self._add("CADT.V1.REF.ISSUANCE", (*path, "issuance", "warehouseProjectId"),
                              f"unit {unit.index}'s issuance belongs to project {wid}, which is not among "
                              "the projects of this document")
                continue
            ref = unit.data.get("issuanceId") or (issuance or {}).get("id")
            if ref is not None and issuance_ids and str(ref) not in issuance_ids:
                self._add("CADT.V1.REF.ISSUANCE", (*path, "issuanceId"), f"unit {unit.index} refers to "
                          f"issuance {ref}, which no project of this document has")

    def _v2_references(self, out: Validation, ids: dict[str, set[str]]) -> None:
        t2_by_id = {str(r.data.get("cadTrustAefT2AuthorizationsId")): r
                    for r in out.records.get("aef-t2-authorizations", [])}
        for resource, records in out.records.items():
            entity = self.spec.entity_for(resource)
            for rec in records:
                if rec.failed:
                    continue
                for f in entity.fields:
                    value = rec.data.get(f.name)
                    if f.fk is None or f.pk or value is None:
                        continue
                    target = self.spec.resource_of.get(f.fk.split(".")[0])
                    where: Path = (resource, rec.index, f.name)
                    if f.name == "cadTrustAefT2AuthorizationsId" and resource in ("aef-t3-actions",
                                                                                  "aef-t4-holdings"):
                        self._needs_t2(rec, str(value), t2_by_id, where)
                        continue
                    if target is None or target not in out.records or not out.records[target]:
                        continue
                    if str(value) not in ids.get(target, set()):
                        self._add("CADT.V2.REF", where, f"{_noun(resource)} {rec.index}: {f.name} {value} "
                                  f"names no {target} record of this document")

    def _needs_t2(self, rec: Record, value: str, t2_by_id: dict[str, Record], where: Path) -> None:
        t2 = t2_by_id.get(value)
        noun = f"{_noun(rec.resource)} {rec.index}"
        if t2 is None and not t2_by_id:
            self._add("CADT.V2.AEF.NEEDS_T2", where, f"{noun} refers to authorization {value}, but this "
                      "document holds no aef-t2-authorizations, so the link cannot be checked",
                      severity=Severity.WARNING)
            return
        if t2 is None:
            self._add("CADT.V2.AEF.NEEDS_T2", where, f"{noun} refers to authorization {value}, which is not "
                      "among the aef-t2-authorizations of this document")
            return
        prefix = "aefT3Actions" if rec.resource == "aef-t3-actions" else "aefT4Holdings"
        given = rec.data.get(f"{prefix}AuthorizationId")
        expected = t2.data.get("aefT2AuthorizationsId")
        if given is not None and expected is not None and str(given) != str(expected):
            self._add("CADT.V2.AEF.NEEDS_T2", (rec.resource, rec.index, f"{prefix}AuthorizationId"),
                      f"{noun} gives authorization id {given!r} but its T2 record has {expected!r}")
        approach = rec.data.get(f"{prefix}CooperativeApproachId")
        t2_approach = t2.data.get("aefT2AuthorizationsCooperativeApproachId")
        if approach is not None and t2_approach is not None and str(approach) != str(t2_approach):
            self._add("CADT.V2.AEF.NEEDS_T2", (rec.resource, rec.index, f"{prefix}CooperativeApproachId"),
                      f"{noun} is under cooperative approach {approach!r} but its T2 authorization is under "
                      f"{t2_approach!r}")
