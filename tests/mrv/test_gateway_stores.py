"""The MRV store on both engines (SQLite embedded; PostgreSQL shared by gateways, ``service``): two gateways'
stores act as one (a period taken through one is refused through the other; one request per verification), a
message not relayed frees what it took. The evidence store as a folder and in a real S3-compatible server (moto's
server mode, in a thread), digest-checked on the way out."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.mrv import open_blobs, open_mrv_store
from gateway.mrv._store import ACCEPTED, DELIVERING, MrvStore, StoredMessage
from gateway.mrv.errors import (
    AlreadyRequested,
    EvidenceDigestMismatch,
    EvidenceNotFound,
    MrvConfigError,
    MrvStoreUnavailable,
    PeriodOverlap,
)
from tests.mrv.gateway_world import EVIDENCE, MrvWorld, report
from tests.support.ports import free_port
from tests.support.services import unique_prefix


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[MrvStore, MrvStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'mrv.sqlite3'}"
    else:
        request.applymarker(pytest.mark.service)
        dsn = request.getfixturevalue("postgres_dsn")
        url = f"{dsn}?table={unique_prefix('mrv').replace('-', '_')}"
    first, second = open_mrv_store(url), open_mrv_store(url)
    request.addfinalizer(first.close)
    request.addfinalizer(second.close)
    return first, second


def _report(message_id: str, start: str, end: str, *, project: str = "P-1", receiver: str = "che",
            status: str = DELIVERING) -> StoredMessage:
    return StoredMessage("monitoring-reports", "mrv-sys", message_id, receiver, hashlib.sha256(message_id.encode())
                         .hexdigest(), None, project, start, end, "{}", status)


def test_two_stores_act_as_one_for_periods(two_stores: tuple[MrvStore, MrvStore]) -> None:
    first, second = two_stores
    first.claim(_report("m-1", "2023-01-01", "2023-12-31", receiver="che"))
    with pytest.raises(PeriodOverlap, match="m-1"):
        second.claim(_report("m-2", "2023-12-31", "2024-03-31", receiver="gha"))
    second.claim(_report("m-3", "2024-01-01", "2024-03-31", receiver="gha"))
    second.claim(_report("m-4", "2023-06-01", "2023-06-30", project="P-2"))
    first.release("mrv-sys", "m-1")  # not relayed after all: its period is free
    second.claim(_report("m-2", "2023-12-31", "2023-12-31", receiver="gha"))
    first.settle("mrv-sys", "m-2", ACCEPTED, "record", "{}", "sig")
    first.release("mrv-sys", "m-2")  # an accepted message is never released
    assert second.message("mrv-sys", "m-2").status == ACCEPTED  # type: ignore[union-attr]


def test_racing_claims_take_a_period_once(two_stores: tuple[MrvStore, MrvStore]) -> None:
    first, second = two_stores
    won: list[str] = []
    lost: list[str] = []

    def claim(store: MrvStore, message_id: str) -> None:
        try:
            store.claim(_report(message_id, "2025-01-01", "2025-12-31"))
            won.append(message_id)
        except PeriodOverlap:
            lost.append(message_id)

    threads = [threading.Thread(target=claim, args=(store, f"race-{i}")) for i, store in
               enumerate([first, second] * 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(lost) == 7


def test_one_request_per_verification(two_stores: tuple[MrvStore, MrvStore]) -> None:
    first, second = two_stores
    request = StoredMessage("issuance-requests", "mrv-sys", "ir-1", "che", "d" * 64, "v" * 64, "P-1", None, None,
                            "{}", DELIVERING)
    first.claim(request)
    with pytest.raises(AlreadyRequested):
        second.claim(StoredMessage("issuance-requests", "mrv-sys", "ir-2", "che", "e" * 64, "v" * 64, "P-1", None,
                                   None, "{}", DELIVERING))
    first.claim(request)  # the same message again (a retry) is no second request


def test_store_urls() -> None:
    for bad in ("redis://x", "sqlite://", "sqlite:///x?nope=1", "sqlite:///x?table=Bad-Name"):
        with pytest.raises(MrvConfigError):
            open_mrv_store(bad)
    with pytest.raises(MrvStoreUnavailable):
        open_mrv_store("postgresql://nobody@127.0.0.1:9/none?connect_timeout=1")
    for bad in ("ftp://x", "s3://"):
        with pytest.raises(MrvConfigError):
            open_blobs(bad)


def test_folder_blobs_check_the_bytes(tmp_path: Path) -> None:
    blobs = open_blobs(str(tmp_path / "ev"))
    sha = hashlib.sha256(EVIDENCE).hexdigest()
    assert not blobs.has(sha)
    blobs.put(sha, EVIDENCE)
    assert blobs.has(sha) and blobs.get(sha) == EVIDENCE
    (tmp_path / "ev" / sha[:2] / sha).write_bytes(b"changed on disk")
    with pytest.raises(EvidenceDigestMismatch):
        blobs.get(sha)
    with pytest.raises(EvidenceNotFound):
        blobs.get("0" * 64)


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    """A bucket in moto's S3-compatible server (a real HTTP server, in a thread of this process)."""
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError as exc:  # pragma: no cover - moto[server] is a test dependency
        pytest.skip(f"no S3-compatible server to test against: moto[server] is not installed ({exc})")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
    client.create_bucket(Bucket="mrv-evidence")
    yield f"s3://mrv-evidence/gateway-a?endpoint_url={endpoint}&access_key=test&secret_key=test"
    client.close()
    server.stop()


def test_s3_blobs_keep_files_by_digest(s3_url: str) -> None:
    blobs = open_blobs(s3_url)
    sha = hashlib.sha256(EVIDENCE).hexdigest()
    try:
        assert not blobs.has(sha)
        blobs.put(sha, EVIDENCE)
        assert blobs.has(sha) and blobs.get(sha) == EVIDENCE
        with pytest.raises(EvidenceNotFound):
            blobs.get("1" * 64)
        # an object changed in the bucket behind the gateway's back is caught on the way out
        other = "2" * 64
        blobs._client.put_object(Bucket="mrv-evidence", Key=f"gateway-a/{other}", Body=b"not what the name says")
        with pytest.raises(EvidenceDigestMismatch):
            blobs.get(other)
    finally:
        blobs.close()
    unreachable = open_blobs("s3://mrv-evidence/x?endpoint_url=http://127.0.0.1:9&access_key=a&secret_key=b")
    with pytest.raises(MrvStoreUnavailable):
        unreachable.has(sha)


def test_a_gateway_with_its_evidence_in_s3(s3_url: str, tmp_path: Path) -> None:
    net = MrvWorld(tmp_path, CARBONLINK_MRV_EVIDENCE_STORE=s3_url)
    try:
        stored = net.upload("mrv-sys", EVIDENCE)
        assert stored.status_code == 201, stored.text
        sha = hashlib.sha256(EVIDENCE).hexdigest()
        back = net.client("verifier-energy").request("GET", f"/v1/mrv/evidence/{sha}")
        assert back.status_code == 200 and back.content == EVIDENCE
        assert net.send("mrv-sys", "monitoring-reports", report(), "mr-1").body["outcome"] == "accepted"
        assert not (tmp_path / "data" / "mrv-evidence").exists()  # nothing went to the local folder
    finally:
        net.stop()


def test_the_evidence_service_bounds_and_attests_by_role(tmp_path: Path) -> None:
    from gateway.mrv import EvidenceService
    from gateway.mrv.errors import EvidenceTooLarge, MrvRoleRefused
    from gateway.trust.directory import Participant
    from gateway.trust.keys import SigningKeyRing
    from tests.governance.support import entry

    service = EvidenceService(open_mrv_store(f"sqlite:///{tmp_path / 'mrv.sqlite3'}"), open_blobs(str(tmp_path / "ev")),
                              SigningKeyRing.generate("ES256", kid="gw-1"), max_bytes=len(EVIDENCE))
    try:
        verifier = Participant.model_validate(entry("vvb", "CHE", roles=[{"role": "verifier",
                                                                          "sectors": ["Agriculture"]}]))
        plain = Participant.model_validate(entry("reg", "CHE", message_kinds=["transfers"]))
        sha = hashlib.sha256(EVIDENCE).hexdigest()
        with pytest.raises(EvidenceTooLarge):
            service.upload(verifier, hashlib.sha256(EVIDENCE + b"!").hexdigest(), EVIDENCE + b"!", None)
        with pytest.raises(MrvRoleRefused):
            service.upload(plain, sha, EVIDENCE, None)
        stored = service.upload(verifier, sha, EVIDENCE, "text/csv; charset=utf-8")
        assert (stored.role, stored.media_type, stored.size) == ("verifier", "text/csv", len(EVIDENCE))
        assert service.download(sha) == (EVIDENCE, "text/csv")
    finally:
        service.close()
