"""Every MRV refusal: each check fires on the case it names, and a valid chain passes them all."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from standards.findings import Finding
from standards.mrv import (
    RULES,
    Period,
    PeriodClaim,
    SerialBlock,
    VerifierFacts,
    check_chain,
    check_document,
    check_issuance,
    check_notice,
    check_period_overlaps,
    check_verification,
    check_verifier,
    document_digest,
    example_chain,
    example_report,
    period_claim,
)
from tests.mrv.support import changed

ENERGY = frozenset({"Energy generation"})


def rules(findings: list[Finding]) -> list[str]:
    return sorted(f.rule for f in findings)


def test_a_valid_chain_passes_every_check() -> None:
    chain = example_chain()
    for doc in chain:
        assert check_document(doc) == []
    assert check_chain(*chain, verifier=VerifierFacts(ENERGY)) == []


def test_every_finding_uses_a_catalogued_rule_with_a_pointer() -> None:
    chain = example_chain()
    bad = changed(chain.notice, {"request_digest": "0" * 64, "quantity": 5})
    findings = check_chain(chain.report, chain.statement, chain.request, bad, verifier=VerifierFacts(None))
    assert findings
    for f in findings:
        assert f.rule in RULES and f.rule.startswith("MRV.")
        assert f.location.pointer.startswith("/")


def test_verification_must_cite_the_exact_report_digest() -> None:
    report, statement, *_ = example_chain()
    other = changed(report, {"emission_reductions": Decimal("13140.37")})
    [f] = check_verification(other, statement)
    assert f.rule == "MRV.REPORT_DIGEST" and f.location.pointer == "/report_digest"
    assert f.cause == {"cited": statement.report_digest, "actual": document_digest(other)}


def test_verified_quantity_cannot_exceed_the_reported() -> None:
    report, statement, *_ = example_chain()
    over = changed(statement, {"verified_quantity": report.reported_quantity + Decimal("0.000001")})
    assert rules(check_verification(report, over)) == ["MRV.VERIFIED_EXCEEDS_REPORTED"]
    equal = changed(statement, {"verified_quantity": report.reported_quantity})
    assert check_verification(report, equal) == []


def test_verification_project_period_and_date() -> None:
    report, statement, *_ = example_chain()
    wrong = changed(statement, {"project_id": "PRJ-9", "verified_on": date(2025, 1, 1),
                                         "period": Period(start=date(2024, 1, 1), end=date(2024, 6, 30))})
    assert rules(check_verification(report, wrong)) == ["MRV.DATE_ORDER", "MRV.PERIOD_MISMATCH",
                                                        "MRV.PROJECT_MISMATCH"]


def test_issuance_cannot_exceed_verified_minus_buffer() -> None:
    report, statement, request, _ = example_chain()
    issuable = statement.verified_quantity - report.buffer  # 13000
    assert issuable == 13000 and check_issuance(report, statement, request) == []
    more = changed(request, {"quantity": 13001})
    [f] = check_issuance(report, statement, more)
    assert f.rule == "MRV.ISSUANCE_EXCEEDS_VERIFIED" and f.location.pointer == "/quantity"


def test_issuance_must_cite_the_verification_and_not_rest_on_an_adverse_opinion() -> None:
    report, statement, request, _ = example_chain()
    adverse = changed(statement, {"opinion": "adverse"})
    assert rules(check_issuance(report, adverse, request)) == ["MRV.OPINION_ADVERSE", "MRV.VERIFICATION_DIGEST"]
    qualified = changed(statement, {"opinion": "qualified"})
    cites = changed(request, {"verification_digest": document_digest(qualified)})
    assert check_issuance(report, qualified, cites) == []


def test_issuance_vintage_and_dates() -> None:
    report, statement, request, _ = example_chain()
    late = changed(request, {"vintage": 2023, "requested_on": date(2025, 2, 1), "project_id": "X"})
    assert rules(check_issuance(report, statement, late)) == ["MRV.DATE_ORDER", "MRV.PROJECT_MISMATCH",
                                                              "MRV.VINTAGE_OUTSIDE_PERIOD"]


def test_the_issued_block_holds_exactly_the_requested_quantity() -> None:
    *_, request, notice = example_chain()
    short = changed(notice, {"block": SerialBlock(first=1, last=12999)})
    assert rules(check_notice(request, short)) == ["MRV.BLOCK_QUANTITY"]
    assert rules(check_document(short)) == ["MRV.BLOCK_QUANTITY"]
    both = changed(notice, {"block": SerialBlock(first=1, last=12999), "quantity": 12999})
    assert rules(check_notice(request, both)) == ["MRV.BLOCK_QUANTITY"]
    assert check_document(both) == []  # consistent in itself, but not what was requested


def test_notice_digest_registry_vintage_order_and_serial() -> None:
    *_, request, notice = example_chain()
    odd = changed(notice, {"request_digest": "f" * 64, "registry": "other", "vintage": 2023,
                                    "issued_on": date(2025, 3, 1)})
    assert rules(check_notice(request, odd)) == ["MRV.DATE_ORDER", "MRV.NOTICE_MISMATCH", "MRV.NOTICE_MISMATCH",
                                                 "MRV.REQUEST_DIGEST"]
    backwards = changed(notice, {"block": SerialBlock(first=13000, last=1)})
    assert "MRV.BLOCK_ORDER" in rules(check_document(backwards))
    serial = "ACR-US-1185-2024-3078-1 to 13000"
    assert check_document(changed(notice, {"block": SerialBlock(first=1, last=13000, serial=serial)})) == []
    wrong = changed(notice, {"block": SerialBlock(first=2, last=13001, serial=serial)})
    assert rules(check_document(wrong)) == ["MRV.BLOCK_SERIAL"]
    unknown_scheme = SerialBlock(first=1, last=13000, serial="OUR-OWN-SPELLING-7")
    assert check_document(changed(notice, {"block": unknown_scheme})) == []


@pytest.mark.parametrize(("sectors", "operators", "expected"), [
    (ENERGY, frozenset(), []),
    (None, frozenset(), ["MRV.VERIFIER_NOT_ACCREDITED"]),
    (frozenset({"Waste management"}), frozenset(), ["MRV.VERIFIER_NOT_ACCREDITED"]),
    (ENERGY, frozenset({"verifier-acme"}), ["MRV.VERIFIER_NOT_INDEPENDENT"]),
])
def test_verifier_accreditation_and_independence(sectors: frozenset[str] | None, operators: frozenset[str],
                                                 expected: list[str]) -> None:
    report, statement, *_ = example_chain()
    assert rules(check_verifier(report, statement, accredited_sectors=sectors, mrv_operators=operators)) == expected


def test_verifier_is_not_the_mrv_system_nor_its_operator_named_in_the_report() -> None:
    report, statement, *_ = example_chain()
    same = changed(report, {"mrv_system": "verifier-acme"})
    assert rules(check_verifier(same, statement, accredited_sectors=ENERGY)) == ["MRV.VERIFIER_NOT_INDEPENDENT"]
    operated = changed(report, {"operator": "verifier-acme"})
    assert rules(check_verifier(operated, statement, accredited_sectors=ENERGY)) == ["MRV.VERIFIER_NOT_INDEPENDENT"]
    claim = changed(statement, {"verifier": changed(statement.verifier, {"sectors": ["Waste management"]})})
    assert rules(check_verifier(report, claim, accredited_sectors=ENERGY)) == ["MRV.VERIFIER_NOT_ACCREDITED"]


def test_report_on_its_own() -> None:
    report = example_report()
    bad = changed(report, {
        "period": Period(start=date(2024, 12, 31), end=date(2024, 1, 1)), "prepared_on": date(2023, 1, 1),
        "sector": "Space mining", "buffer": Decimal("99999"),
        "evidence": [*report.evidence, changed(report.evidence[0], {"sha256": "a" * 64})]})
    assert rules(check_document(bad)) == ["MRV.BUFFER_EXCEEDS_REPORTED", "MRV.DATE_ORDER", "MRV.DUPLICATE_EVIDENCE",
                                          "MRV.PERIOD_ORDER", "MRV.SECTOR_UNKNOWN"]


def test_positive_opinion_with_open_findings_is_a_warning() -> None:
    statement = example_chain().statement
    open_car = changed(statement, {"findings": [{"id": "CAR-1", "type": "CAR", "text": "meter drift"}]})
    [f] = check_document(open_car)
    assert f.rule == "MRV.OPEN_FINDINGS" and not f.is_error


def claim(ref: str, start: str, end: str, project: str = "P", registry: str | None = None) -> PeriodClaim:
    return PeriodClaim(project, date.fromisoformat(start), date.fromisoformat(end), ref, registry)


def test_periods_of_one_project_do_not_overlap() -> None:
    claims = [claim("a", "2024-01-01", "2024-06-30"), claim("b", "2024-07-01", "2024-12-31"),
              claim("c", "2024-12-31", "2025-03-31", registry="other-registry"),
              claim("d", "2020-01-01", "2030-01-01", project="Q"), claim("e", "2024-01-01", "2024-12-31", "R")]
    [f] = check_period_overlaps(claims)
    assert f.rule == "MRV.PERIOD_OVERLAP" and f.location.pointer == "/2/period"
    assert f.cause == {"claim": "c", "registry": "other-registry", "overlaps": "b", "overlaps_registry": None}


def test_overlaps_across_registries_and_the_same_report_twice() -> None:
    here = example_report(year=2024)
    elsewhere = claim("registry-b:MR-77", "2024-06-01", "2025-05-31", project=here.project_id, registry="registry-b")
    findings = check_period_overlaps([here, elsewhere, here])
    assert [f.cause for f in findings] == [{"claim": "registry-b:MR-77", "registry": "registry-b",
                                            "overlaps": document_digest(here), "overlaps_registry": "sandbox-registry"}]
    assert check_period_overlaps([here, period_claim(here)]) == []  # one report seen twice is no overlap
    next_year = example_report(year=2025)
    assert check_period_overlaps([here, next_year]) == []


def test_overlap_findings_are_bounded() -> None:
    many = [claim(str(i), "2024-01-01", "2024-12-31") for i in range(3000)]
    assert len(check_period_overlaps(many)) == 1000


def test_evidence_files_are_held_by_digest_and_size() -> None:
    from standards.mrv import check_evidence, evidence_file

    data = b"meter readings, 2024, exported from the SCADA historian\n"
    entry = evidence_file("meter-readings.csv", data, media_type="text/csv")
    report = example_report()
    assert report.evidence == [entry]
    assert check_evidence(report, {entry.sha256: len(data)}) == []
    [missing] = check_evidence(report, {})
    assert (missing.rule, missing.location.pointer) == ("MRV.EVIDENCE_MISSING", "/evidence/0/sha256")
    [size] = check_evidence(report, {entry.sha256: len(data) + 1})
    assert size.rule == "MRV.EVIDENCE_SIZE" and size.cause == {"held": len(data) + 1, "stated": len(data)}
