"""Evidence-log fixtures: signing keys, a log on each backend, and raw-SQL access for tampering."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway.evidence import EvidenceLog, Exchange, JwkSigner, KeySetVerifier, open_log


@pytest.fixture(scope="session")
def signer() -> JwkSigner:
    return JwkSigner.generate("ES256", kid="gw-evidence-1")


@pytest.fixture(scope="session")
def keys(signer: JwkSigner) -> KeySetVerifier:
    return KeySetVerifier.from_jwks({"keys": [signer.public_jwk()]})


def exchange(n: int, **changes: Any) -> Exchange:
    base: dict[str, Any] = {
        "kind": "transfer", "sender": "CHE-registry", "receiver": "GHA-registry", "message_id": f"msg-{n}",
        "inbound_sha256": f"{n:064x}", "outbound_sha256": f"{n + 1:064x}",
        "receipt": {"status": "ACCEPTED", "units": "100", "n": n, "note": "é ✓ \u2028"},
        "verdicts": {"validation": {"error": 0, "warning": n % 3}, "receiver": "ACCEPTED"}}
    base.update(changes)
    return Exchange(**base)


class RawDb:
    """Direct SQL on the log's table, bypassing the log (to play the attacker)."""

    def __init__(self, backend: str, target: str, table: str) -> None:
        self.backend, self.target, self.table = backend, target, table

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        sql = sql.replace("{t}", self.table)
        if self.backend == "sqlite":
            with sqlite3.connect(self.target, isolation_level=None) as conn:
                conn.execute(sql, params)
        else:
            with psycopg.connect(self.target, autocommit=True) as conn:
                conn.execute(sql.replace("?", "%s"), params)

    def disable_triggers(self) -> None:
        if self.backend == "sqlite":
            self.execute("DROP TRIGGER {t}_no_update")
            self.execute("DROP TRIGGER {t}_no_delete")
        else:
            self.execute("ALTER TABLE {t} DISABLE TRIGGER USER")


class Backend:
    def __init__(self, name: str, url: str, raw: RawDb) -> None:
        self.name, self.url, self.raw = name, url, raw

    def open(self, signer: JwkSigner | None = None) -> EvidenceLog:
        return open_log(self.url, signer=signer)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.service)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    table = f"ev_{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        path = tmp_path / "evidence.db"
        yield Backend("sqlite", f"sqlite:///{path}?table={table}", RawDb("sqlite", str(path), table))
        return
    dsn: str = request.getfixturevalue("postgres_dsn")
    yield Backend("postgres", f"{dsn}?table={table}", RawDb("postgres", dsn, table))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}, {table}_keys")
        conn.execute(f"DROP FUNCTION IF EXISTS {table}_refuse()")


@pytest.fixture
def filled(backend: Backend, signer: JwkSigner) -> Iterator[tuple[Backend, EvidenceLog]]:
    """A log with six records."""
    log = backend.open(signer)
    for n in range(1, 7):
        log.append(exchange(n))
    yield backend, log
    log.close()
