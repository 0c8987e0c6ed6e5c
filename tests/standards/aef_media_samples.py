"""Sample AEF tables and hypothesis strategies shared by the AEF CSV/XLSX/draft tests."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from standards.aef.tables import ROW_TABLES, TABLES, AefTables, FieldSpec, Row

TRICKY_TEXT = ["=SUM(A1:A9)", "+41 22 555", "-minus", "@cmd", "'=already quoted", "''+two", "NA", " lead",
               "trail ", "#N/A", "x\ny", "tab\tinside", "\ttab first", "\rcr first", "naïve – “quoted”, ok",
               "12", "1,000", "15/03/2024", "'", "semi;colon", 'a "quote"']


def blank(table_id: str) -> Row:
    return {f.cn: None for f in TABLES[table_id].fields}


def sample_tables() -> AefTables:
    """A small, valid-looking AEF V2 content with every table filled."""
    tables = AefTables()
    tables.submission = blank("T1") | {
        "ParticipatingParty": "CHE", "SubmissionVersion": "1.0", "ReportedYear": 2024,
        "DateOfSubmission": date(2025, 4, 1), "FirstYearOfNDCPeriod": 2021, "LastYearOfNDCPeriod": 2030}
    tables.rows["T2"].append(blank("T2") | {
        "AuthorizationID": "AUTH-1", "DateOfAuthorization": date(2023, 2, 1), "CooperativeApproachID": "CA0001",
        "AuthorizationVersion": 1, "AuthorizedQuantity": Decimal("100000"), "Metric": "GHG",
        "Non-GHGMetric": "NA", "Sectors": "Energy", "PurposeForAuthorization": "NDC and OIMP",
        "AuthorizedPartyIDs": "CHE, GHA", "OIMPAuthorized": "use under CORSIA",
        "FirstTransferDefnForOIMP": "Authorization"})
    for i in range(3):
        tables.rows["T3"].append(blank("T3") | {
            "ActionDateTime": datetime(2024, 3, 15 + i, 10, 30, tzinfo=UTC), "ActionType": "First transfer",
            "CooperativeApproachID": "CA0001", "AuthorizationID": "AUTH-1", "FirstTransferringPartyID": "GHA",
            "PartyITMORegistryID": "GHA01", "FirstID": 1 + 1000 * i, "LastID": 1000 * (i + 1),
            "UnderlyingUnitRegistryID": "NA", "UnderlyingUnitFirstUnitID": "NA",
            "UnderlyingUnitLastUnitID": "NA", "Metric": "GHG", "Non-GHGMetric": "NA",
            "QuantityCO2": Decimal("1000.25") + i, "QuantityNon-GHG": "NA",
            "MitigationType": "Emission reductions", "Vintage": 2023, "TransferringPartyID": "NA",
            "AcquiringPartyID": "CHE", "AdditionalExplanatoryInformation": "=HYPERLINK(\"http://x\")"})
    tables.rows["T4"].append(blank("T4") | {
        "CooperativeApproachID": "CA0001", "AuthorizationID": "AUTH-1", "FirstTransferringPartyID": "GHA",
        "PartyITMORegistryID": "CHE01", "FirstID": 1, "LastID": 3000, "Metric": "GHG",
        "QuantityCO2": Decimal("3000.75"), "MitigationType": "Emission reductions", "Vintage": 2023})
    tables.rows["T5"].append(blank("T5") | {
        "DateOfAuthorization": date(2023, 5, 2), "AuthorizedEntityName": "Klima AG",
        "AuthorizedEntityCountryOfIncorporation": "CHE", "AuthorizedEntityID": "CHE-123.456.789",
        "CooperativeApproachID": "CA0001"})
    return tables


# ------------------------------------------------------------------------------- strategies

_TEXT_CHARS = st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t\r'=+-@\";,")
TEXT = (st.text(_TEXT_CHARS, min_size=1, max_size=24).filter(lambda s: s.strip() != "")
        | st.sampled_from(TRICKY_TEXT))
PARTY = st.sampled_from(["CHE", "GHA", "JPN", "SWE", "EUE", "VUT"])
DECIMALS = (st.decimals(min_value=-10**13, max_value=10**13, places=2, allow_nan=False, allow_infinity=False)
            | st.decimals(min_value=-10**20, max_value=10**20, places=4, allow_nan=False, allow_infinity=False)
            | st.sampled_from([Decimal("0.1"), Decimal("1E+3"), Decimal("123456789012345.67"), Decimal("-0")]))
DATES = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))
DATETIMES = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31),
                         timezones=st.just(UTC))


def value_strategy(spec: FieldSpec) -> st.SearchStrategy[Any]:
    kind = spec.type
    base: st.SearchStrategy[Any]
    if kind.startswith("year"):
        base = st.integers(1900, 2100)
    elif kind.startswith("integer") or kind == "serial":
        base = st.integers(-(10**20), 10**20)
    elif kind.startswith("decimal"):
        base = DECIMALS
    elif kind == "date":
        base = DATES
    elif kind == "datetime":
        base = DATETIMES
    elif kind.startswith("party"):
        base = PARTY | TEXT
    else:
        base = TEXT
    if kind.endswith("_or_na"):
        base = base | st.just("NA")
    if spec.required == "CARP":  # text naming CARP there is a template's instruction, read as blank on purpose
        base = base.filter(lambda v: not (isinstance(v, str) and "carp" in v.casefold()))
    return st.none() | base


def row_strategy(table_id: str) -> st.SearchStrategy[Row]:
    return st.fixed_dictionaries({f.cn: value_strategy(f) for f in TABLES[table_id].fields})


@st.composite
def tables_strategy(draw: st.DrawFn, max_rows: int = 4) -> AefTables:
    tables = AefTables()
    submission = draw(st.none() | row_strategy("T1"))
    if submission is not None and any(v is not None for v in submission.values()):
        tables.submission = submission
    for table_id in ROW_TABLES:
        rows = draw(st.lists(row_strategy(table_id), max_size=max_rows))
        tables.rows[table_id] = [r for r in rows if any(v is not None for v in r.values())]
    return tables


def zip_members(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def rezip(data: bytes, *, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    """A copy of a zip with some members replaced or added."""
    replace = replace or {}
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return out.getvalue()
