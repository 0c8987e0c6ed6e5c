"""Scale-out: two gateway processes share idempotency records (Redis) and the evidence log
(PostgreSQL), and act as one: a message is delivered once whichever gateway the sender reaches."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.client import Sent
from gateway.demo import Network, Registry, itmo_message
from tests.support.cli import run_cli
from tests.support.services import delete_redis_keys, require_postgres, require_redis, unique_prefix

pytestmark = [pytest.mark.e2e, pytest.mark.service]  # the process tier: real gateway and registry processes over HTTP

ISSUER = "http://gateway.carbonlink.test"


@pytest.fixture(scope="module")
def shared_net(request: pytest.FixtureRequest) -> Iterator[tuple[Network, str]]:
    redis_url = request.getfixturevalue("redis_url_module")
    postgres_dsn = request.getfixturevalue("postgres_dsn_module")
    table = f"evidence_{uuid.uuid4().hex[:10]}"
    evidence = f"{postgres_dsn}?table={table}"
    prefix = unique_prefix("scaleout")
    env = {"CARBONLINK_IDEMPOTENCY_STORE": f"{redis_url}?prefix={prefix}",
           "CARBONLINK_EVIDENCE_LOG": evidence, "CARBONLINK_REPLAY_STORE": redis_url}
    registries = [Registry("gha", "GHA", "aef", holds=["CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-100000-2023"]),
                  Registry("che", "CHE", "canonical")]
    with Network(registries, gateway_env=env, gateways=2, issuer=ISSUER) as net:
        yield net, evidence
    delete_redis_keys(redis_url, prefix)
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")


@pytest.fixture(scope="module")
def redis_url_module() -> str:
    return require_redis()  # the keys of this module carry a unique prefix


@pytest.fixture(scope="module")
def postgres_dsn_module() -> str:
    return require_postgres()


def body(first: int, last: int) -> bytes:
    return json.dumps(itmo_message(sender_party="GHA", receiver_party="CHE", first=first, last=last)).encode()


def test_a_retry_through_the_other_gateway_gets_the_original_receipt(shared_net: tuple[Network, str]) -> None:
    net, _ = shared_net
    message = body(1, 100)
    first = net.client("gha", gateway=0).send(message, message_id="so-1")
    assert first.status == 200 and first.body["outcome"] == "accepted"
    second = net.client("gha", gateway=1).send(message, message_id="so-1")
    assert second.status == 200 and second.replayed and second.raw == first.raw
    assert net.sandbox("che").holdings()["total"]["held"] == 100


def test_the_same_message_raced_through_both_gateways_is_delivered_once(shared_net: tuple[Network, str]) -> None:
    net, _ = shared_net
    clients = [net.client("gha", gateway=i) for i in (0, 1)]
    for client in clients:
        client.token()
    before = net.sandbox("che").holdings()["total"]["held"]
    message = body(1001, 1500)

    def send(index: int) -> Sent:
        return clients[index].send(message, message_id="so-race-1")

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(send, (0, 1)))
    statuses = sorted(r.status for r in results)
    assert statuses in ([200, 200], [200, 409]), [r.body for r in results]
    for r in results:
        if r.status == 409:
            assert r.body["code"] == "IDEMPOTENCY.IN_PROGRESS" and r.retry_after is not None
    assert net.sandbox("che").holdings()["total"]["held"] == before + 500
    retry = clients[1].send(message, message_id="so-race-1")
    assert retry.status == 200 and retry.body["outcome"] == "accepted"


def test_the_shared_evidence_chain_verifies(shared_net: tuple[Network, str], tmp_path: object) -> None:
    net, evidence = shared_net
    for i, gateway in enumerate((0, 1, 0, 1)):
        sent = net.client("gha", gateway=gateway).send(body(5000 + i * 10, 5009 + i * 10), message_id=f"so-ev-{i}")
        assert sent.status == 200
    proc = run_cli("evidence", "verify", "--log", evidence, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["records"] >= 6
