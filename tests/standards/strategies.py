"""Hypothesis strategies for valid canonical Article 6 documents."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import strategies as st

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

PARTIES = ["CHE", "GHA", "SWE", "JPN", "SGP", "EUE", "PER", "VUT"]
TEXT = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ 0123456789.,;:()'&/=+-@\u00e9\u00e8\u00fc"),
               min_size=1, max_size=40).map(str.strip).filter(lambda s: s not in ("", "NA"))
YEAR = 2024


@st.composite
def documents(draw: st.DrawFn) -> CanonicalDocument:
    ca = draw(st.from_regex(r"CA\d{4}", fullmatch=True))
    auth_id = draw(st.from_regex(r"[A-Z]{3}-A6-[0-9]{3}", fullmatch=True))
    purposes = draw(st.sampled_from(["NDC", "OIMP", "NDC and OIMP", "NDC and IMP"]))
    oimp = purposes != "NDC"
    host = draw(st.sampled_from(PARTIES))
    auth = Authorization(
        authorization_id=auth_id, date=draw(st.dates(date(2021, 1, 1), date(2023, 12, 31))), cooperative_approach=ca,
        version=draw(st.integers(1, 5)), authorized_quantity=None, metric=Metric.GHG,
        gwp_values=draw(st.none() | TEXT), sectors=draw(st.sampled_from(["Energy generation", "Waste management"])),
        activity_types=draw(st.none() | st.sampled_from(["Solar", "Wind", "C02 usage"])), purposes=purposes,
        authorized_parties=draw(st.lists(st.sampled_from([p for p in PARTIES if p != host]), max_size=3,
                                         unique=True)),
        oimp_authorized=draw(TEXT) if oimp else None,
        first_transfer_definition=draw(st.sampled_from(["Authorisation", "Issuance", "Use or Cancellation"]))
        if oimp else None,
        terms=draw(st.none() | TEXT), additional_information=draw(st.none() | TEXT),
    )
    registry = f"{'GHA' if host == 'EUE' else host}01"
    # Party roles a valid report keeps: no acquisition from, or first transfer to, the reporting Party,
    # and first transfers only to the Parties the authorization names (when it names any).
    others = [p for p in PARTIES if p != host]
    receivers = [p for p in auth.authorized_parties if p != host] or others
    actions, holdings = [], []
    next_serial = 1
    for _ in range(draw(st.integers(0, 6))):
        size = draw(st.integers(1, 5000))
        kind = draw(st.sampled_from([ActionType.FIRST_TRANSFER, ActionType.TRANSFER, ActionType.ACQUISITION,
                                     ActionType.CANCELLATION]))
        units = draw(st.none() | st.builds(UnitBlock, registry=st.sampled_from(["GS", "VCS"]),
                                           first_id=st.just(next_serial),
                                           last_id=st.just(next_serial + size - 1)))
        actions.append(Action(
            action_type=kind, date=draw(st.datetimes(datetime(YEAR, 1, 1), datetime(YEAR, 12, 31, 23, 59)))
            .replace(microsecond=0, tzinfo=UTC),
            cooperative_approach=ca, authorization_id=auth_id, first_transferring_party=host, registry=registry,
            first_id=next_serial, last_id=next_serial + size - 1, units=units, metric=Metric.GHG,
            quantity=Decimal(size), mitigation_type=draw(st.sampled_from(["Emission reductions", "Removals"])),
            vintage=draw(st.integers(2021, YEAR)),
            transferring_party=draw(st.sampled_from(others)) if kind is ActionType.ACQUISITION else None,
            acquiring_party=draw(st.sampled_from(receivers))
            if kind in (ActionType.FIRST_TRANSFER, ActionType.TRANSFER) else None,
            additional_information=draw(st.none() | TEXT),
        ))
        next_serial += size
    for _ in range(draw(st.integers(0, 3))):
        size = draw(st.integers(1, 5000))
        holdings.append(Holding(cooperative_approach=ca, authorization_id=auth_id, first_transferring_party=host,
                                registry=registry, first_id=next_serial, last_id=next_serial + size - 1,
                                metric=Metric.GHG, quantity=Decimal(size), mitigation_type="Removals",
                                vintage=draw(st.integers(2021, YEAR))))
        next_serial += size
    entities = [AuthorizedEntity(authorization_date=auth.date, name=draw(TEXT), country=draw(st.sampled_from(PARTIES)),
                                 entity_id=draw(st.from_regex(r"[A-Z]{3}-[0-9]{6}", fullmatch=True)),
                                 cooperative_approach=ca, conditions=draw(st.none() | TEXT))
                for _ in range(draw(st.integers(0, 2)))]
    return CanonicalDocument(
        submission=Submission(party=host, version="1.0", reported_year=YEAR, submission_date=date(YEAR + 1, 4, 1),
                              ndc_first_year=2021, ndc_last_year=2030),
        authorizations=[auth], actions=actions, holdings=holdings, authorized_entities=entities,
    )
