"""The controls store shared by two gateways (two store objects on one SQLite file, or on one PostgreSQL table):
reservations racing for the last units of a day never pass the limit; counterparts are first seen once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.governance import ControlsStore, GovernanceError, open_controls_store
from gateway.governance._controls_store import ALL, LimitExceeded

Opener = Callable[[], ControlsStore]


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'controls.sqlite3'}?synchronous=normal"
    else:
        request.applymarker(pytest.mark.service)
        dsn = request.getfixturevalue("postgres_dsn")
        url = f"{dsn}?table=controls_{uuid.uuid4().hex[:10]}"
    opened: list[ControlsStore] = []

    def open_one() -> ControlsStore:
        opened.append(open_controls_store(url))
        return opened[-1]

    yield open_one
    if request.param == "postgresql":
        table = url.rpartition("table=")[2]
        import psycopg

        with psycopg.connect(request.getfixturevalue("postgres_dsn"), autocommit=True) as conn:
            for suffix in ("usage", "totals", "counterparts"):
                conn.execute(f"DROP TABLE IF EXISTS {table}_{suffix}")
    for store in opened:
        store.close()


def test_two_gateways_racing_never_pass_the_daily_limit(opener: Opener) -> None:
    gateways = [opener(), opener()]
    allowed: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()

    def send(gateway: ControlsStore, message_id: str) -> None:
        try:
            gateway.reserve("che", message_id, "2026-06-01", "gha", Decimal(10), {ALL: Decimal(100), "gha": None})
        except LimitExceeded:
            with lock:
                refused.append(message_id)
        else:
            with lock:
                allowed.append(message_id)

    threads = [threading.Thread(target=send, args=(gateways[i % 2], f"m-{i}")) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 10 and len(refused) == 6
    assert gateways[0].used("che", "2026-06-01") == gateways[1].used("che", "2026-06-01", "gha") == 100
    gateways[1].release("che", allowed[0])  # released on the other gateway: one more fits
    gateways[0].reserve("che", "late", "2026-06-01", "gha", Decimal(10), {ALL: Decimal(100)})
    with pytest.raises(LimitExceeded):
        gateways[1].reserve("che", "later", "2026-06-01", "gha", Decimal(1), {ALL: Decimal(100)})


def test_a_counterpart_is_first_seen_once_for_every_gateway(opener: Opener) -> None:
    one, two = opener(), opener()
    assert one.first_seen("che", "swe", 1000.0) == 1000.0
    assert two.first_seen("che", "swe", 5000.0) == 1000.0
    assert two.first_seen("che", "nor", 7000.0) == 7000.0


def test_a_bad_store_url_is_a_coded_error(tmp_path: Path) -> None:
    for url in ("redis://x", f"sqlite:///{tmp_path}/c.sqlite3?colour=red", "sqlite:///x?table=Bad-Name"):
        with pytest.raises(GovernanceError) as caught:
            open_controls_store(url)
        assert caught.value.code == "GOVERNANCE.CONFIG"


def test_a_retry_reserves_once_even_on_the_other_gateway(opener: Opener) -> None:
    one, two = opener(), opener()
    limits: dict[str, Decimal | None] = {ALL: Decimal(50), "gha": Decimal(30)}
    one.reserve("che", "m-1", "2026-06-01", "gha", Decimal(30), limits)
    two.reserve("che", "m-1", "2026-06-01", "gha", Decimal(30), limits)  # the same message again: no more
    assert one.used("che", "2026-06-01") == 30 and two.used("che", "2026-06-01", "gha") == 30
    with pytest.raises(LimitExceeded) as caught:
        two.reserve("che", "m-2", "2026-06-01", "gha", Decimal(1), limits)
    assert caught.value.counterpart == "gha" and caught.value.used == 30
    one.reserve("che", "m-3", "2026-06-01", "swe", Decimal(20), {ALL: Decimal(50), "swe": None})
    assert two.used("che", "2026-06-01") == 50


@pytest.mark.service
def test_a_failed_reservation_on_postgresql_reserves_nothing_and_the_store_goes_on(postgres_dsn: str) -> None:
    """The one-round-trip reservation (BEGIN, lock, statement, COMMIT in one query) rolls back on failure."""
    import psycopg

    table = f"controls_{uuid.uuid4().hex[:10]}"
    store = open_controls_store(f"{postgres_dsn}?table={table}")
    limits: dict[str, Decimal | None] = {ALL: Decimal(100), "gha": Decimal(60)}
    try:
        store.reserve("che", "m-1", "2026-06-01", "gha", Decimal(10), limits)
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(f"ALTER TABLE {table}_usage RENAME TO {table}_moved")
        with pytest.raises(GovernanceError) as caught:
            store.reserve("che", "m-2", "2026-06-01", "gha", Decimal(10), limits)
        assert caught.value.code == "GOVERNANCE.CONTROLS_STORE_UNAVAILABLE"
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(f"ALTER TABLE {table}_moved RENAME TO {table}_usage")
        assert store.used("che", "2026-06-01") == 10  # nothing of m-2 was kept
        store.reserve("che", "m-2", "2026-06-01", "gha", Decimal(50), limits)
        with pytest.raises(LimitExceeded) as refused:
            store.reserve("che", "m-3", "2026-06-01", "gha", Decimal(1), limits)
        assert (refused.value.counterpart, refused.value.used, refused.value.limit) == ("gha", 60, 60)
        store.reserve("che", "m-3", "2026-06-01", "swe", Decimal(40), {ALL: Decimal(100), "swe": None})
        with pytest.raises(LimitExceeded) as refused:
            store.reserve("che", "m-4", "2026-06-01", "swe", Decimal(1), {ALL: Decimal(100), "swe": None})
        assert (refused.value.counterpart, refused.value.used) == (ALL, 100)
    finally:
        store.close()
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}_usage, {table}_moved, {table}_totals, {table}_counterparts")
