"""The gateway under a hostile HTTP client: a generated corpus of requests, each answered with a coded 4xx.

Every case checks the same things: a 4xx status (never a 5xx, never a redirect), a coded problem document
(``application/problem+json``, or the OAuth error body at ``/oauth/*``), response header values of
printable ASCII only (a header is built from codes and fixed text, never from the request), an answer
in bounded time, and, at the end of the module, nothing delivered and no traceback in the log.

The cases (see :func:`_cases`): characters of every awkward class (non-Latin-1, controls, NUL, CR/LF,
quotes, very long) in each JOSE header field of an access token, a DPoP proof and a client assertion;
the same characters in every request header the gateway reads; path variants (percent-encoded
non-ASCII, NUL, trailing slashes, dot segments); bodies with content types no message kind takes;
JSON with huge numbers and deep nesting; ``/metrics`` without a token or its scope.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.demo import itmo_message
from gateway.trust.keys import generate_key, public_jwk
from gateway.trust.proofs import assertion_form
from tests.support.apps import InProcessGateway
from tests.support.ports import free_port
from tests.trust.support import RegistryClient, TrustWorld

SENDER = "che-registry"
#: One value of each awkward class; each goes into each field below.
NASTY: dict[str, str] = {
    "euro": "\u20ac",
    "latin-ext": "\u0100",
    "cjk": "\u4e2d\u6587",
    "emoji": "\U0001f600",
    "line-sep": "a\u2028b",
    "rtl": "\u202eevil",
    "nul": "a\x00b",
    "ctrl": "\x01\x1b[31m",
    "del": "\x7f",
    "crlf": "x\r\nSet-Cookie: a=b",
    "quote": 'a"b\\c',
    "latin1-high": "\xff\xe9",
    "long": "k" * 5000,
    "empty": "",
}
JOSE_FIELDS = ("kid", "typ", "alg", "crit")
READ_HEADERS = ("authorization", "dpop", "content-type", "content-length", "carbonlink-message-id",
                "carbonlink-receiver", "x-client-cert")
CODE = re.compile(r"[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)+")
SAFE_HEADER_VALUE = re.compile(r"[\x20-\x7e\t]*")
MAX_SECONDS = 3.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _compact(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A compact JWS with ``header`` as given (no library normalises it) and a made-up signature."""
    head = json.dumps(header, ensure_ascii=False).encode("utf-8")
    return f"{_b64(head)}.{_b64(json.dumps(claims).encode())}.{_b64(b'x' * 64)}"


@dataclass
class Hostile:
    """The gateway in process, a registry client with a token, and what the corpus needs of them."""

    gateway: InProcessGateway
    client: RegistryClient
    token: str
    world: TrustWorld

    def protected(self, method: str, path: str, *, proof_path: str | None = None,
                  headers: dict[str, Any] | None = None, content: bytes | None = None) -> httpx.Response:
        """A request with the token and a fresh proof (for ``proof_path`` when given), one nonce retry."""
        response: httpx.Response | None = None
        for _ in range(2):
            hdrs: dict[str, Any] = {"authorization": f"DPoP {self.token}",
                                    "dpop": self.client.proof(method, proof_path or path, access_token=self.token)}
            hdrs.update({name.lower(): value for name, value in (headers or {}).items()})
            response = self.gateway.http.request(method, path, headers=hdrs, content=content)
            if "dpop-nonce" in response.headers and response.json().get("code") in ("DPOP.NONCE_STALE",
                                                                                  "DPOP.NONCE_REQUIRED"):
                self.client.nonce = response.headers["dpop-nonce"]
                continue
            return response
        assert response is not None
        return response

    def transfer_body(self) -> bytes:
        return json.dumps(itmo_message(sender_party="CHE", receiver_party="GHA", first=1, last=10)).encode()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    root = tmp_path_factory.mktemp("hostile")
    world = TrustWorld(root)

    def kinds(content: dict[str, Any]) -> None:
        for entry in content["participants"]:
            if entry["id"] == SENDER:
                entry["message_kinds"] = ["transfers", "holdings", "acceptances"]
    world.write_directory(kinds)
    with pytest.MonkeyPatch.context() as patch:  # the transfer section reads its flat names from the environment
        patch.setenv("CARBONLINK_RATE_LIMIT_PER_MINUTE", "100000")
        patch.setenv("CARBONLINK_RATE_LIMIT_BURST", "100000")
        patch.setenv("CARBONLINK_DATA_DIR", str(root / "data"))
        gateway = InProcessGateway(world.env(free_port()), root)
    assert gateway.settings.transfers.data_dir == root / "data"
    client = RegistryClient(gateway.base, SENDER, world.clients[SENDER], http=gateway.client())
    token = client.get_token()
    yield Hostile(gateway, client, token, world)
    gateway.stop()


def assert_coded_refusal(response: httpx.Response, elapsed: float) -> dict[str, Any]:
    """4xx, coded body, printable-ASCII headers, no redirect, in bounded time."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert "location" not in response.headers
    for name, value in response.headers.raw:
        assert SAFE_HEADER_VALUE.fullmatch(value.decode("latin-1")), (name, value[:200])
    body = response.json()
    assert CODE.fullmatch(str(body.get("code"))), body
    if response.request.url.path == "/oauth/token":  # RFC 6749 §5.2 error body
        assert body["error"] and "error_description" in body
    else:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert body["status"] == response.status_code
    assert elapsed < MAX_SECONDS, elapsed
    return dict(body)


Case = Callable[[Hostile], httpx.Response]


def _jose_cases() -> Iterator[tuple[str, Case]]:
    """Each awkward value in each JOSE header field of a token, a proof and a client assertion."""
    dpop_key = generate_key("ES256", "hostile-dpop")
    for field in JOSE_FIELDS:
        for label, value in NASTY.items():
            bad: Any = [value] if field == "crit" else value

            def token_case(h: Hostile, field: str = field, bad: Any = bad) -> httpx.Response:
                now = int(time.time())
                header = {"alg": "ES256", "typ": "at+jwt", "kid": "gw-test-1", field: bad}
                token = _compact(header, {"iss": h.gateway.base, "sub": SENDER, "client_id": SENDER,
                                          "aud": h.gateway.base + "/v1", "exp": now + 60, "iat": now})
                proof = h.client.proof("GET", "/v1/whoami", access_token=token)
                return h.gateway.http.get("/v1/whoami", headers={"Authorization": f"DPoP {token}", "DPoP": proof})

            def proof_case(h: Hostile, field: str = field, bad: Any = bad) -> httpx.Response:
                header = {"alg": "ES256", "typ": "dpop+jwt", "jwk": public_jwk(dpop_key), field: bad}
                proof = _compact(header, {"htm": "GET", "htu": h.gateway.base + "/v1/whoami",
                                          "iat": int(time.time()), "jti": "hostile-proof-1"})
                return h.gateway.http.get("/v1/whoami", headers={"Authorization": f"DPoP {h.token}", "DPoP": proof})

            def token_endpoint_case(h: Hostile, field: str = field, bad: Any = bad) -> httpx.Response:
                header = {"alg": "ES256", "typ": "dpop+jwt", "jwk": public_jwk(dpop_key), field: bad}
                proof = _compact(header, {"htm": "POST", "htu": h.gateway.base + "/oauth/token",
                                          "iat": int(time.time()), "jti": "hostile-proof-2"})
                form = assertion_form(h.client.assertion())
                return h.gateway.http.post("/oauth/token", data=form, headers={"DPoP": proof})

            def assertion_case(h: Hostile, field: str = field, bad: Any = bad) -> httpx.Response:
                now = int(time.time())
                header = {"alg": "ES256", "typ": "JWT", "kid": "che-1", field: bad}
                assertion = _compact(header, {"iss": SENDER, "sub": SENDER, "aud": h.gateway.base,
                                              "iat": now, "exp": now + 60, "jti": f"hostile-{now}"})
                return h.gateway.http.post("/oauth/token", data=assertion_form(assertion),
                                           headers={"DPoP": h.client.proof("POST", "/oauth/token")})

            yield f"token-{field}-{label}", token_case
            yield f"proof-{field}-{label}", proof_case
            yield f"token-endpoint-proof-{field}-{label}", token_endpoint_case
            yield f"assertion-{field}-{label}", assertion_case


def _header_cases() -> Iterator[tuple[str, Case]]:
    """Each awkward value (as raw bytes, UTF-8) in each request header the gateway reads, on a transfer."""
    for name in READ_HEADERS:
        for label, value in NASTY.items():
            if label == "crlf" or (label == "empty" and name != "carbonlink-message-id"):
                continue  # no HTTP/1.1 client can send a raw CR/LF; an empty header reads as absent

            def case(h: Hostile, name: str = name, value: str = value) -> httpx.Response:
                raw = value.encode("utf-8")
                headers = {"content-type": "application/json", "carbonlink-message-id": "hostile-header-1",
                           name: raw}
                if name == "content-length":
                    return h.gateway.http.post("/v1/transfers", headers=headers, content=b"")
                if name in ("authorization", "dpop"):
                    return h.gateway.http.post("/v1/transfers", headers=headers, content=h.transfer_body())
                return h.protected("POST", "/v1/transfers", headers=headers, content=h.transfer_body())

            yield f"header-{name}-{label}", case


PATHS = (
    ("/v1/messages/%E2%82%AC", "GET"), ("/v1/messages/%E2%82%AC", "POST"), ("/v1/messages/transfers%00", "POST"),
    ("/v1/messages/%00", "POST"), ("/v1/messages/%FF%FE", "POST"), ("/v1/messages/%0D%0ALocation:x", "POST"),
    ("/v1/whoami/", "GET"), ("/v1/peers/", "GET"), ("/v1/messages/transfers/", "POST"), ("/v1/transfers/", "POST"),
    ("/oauth/token/", "POST"), ("/v1//whoami", "GET"), ("/v1/messages/..%2F..%2Fmetrics", "POST"),
    ("/v1/messages/transfers%2F", "POST"), ("/v1/%E2%80%AEwhoami", "GET"), ("/v1/messages/" + "a" * 3000, "POST"),
    ("/metrics/", "GET"), ("/.well-known/jwks.json/", "GET"), ("/v1/messages/TRANSFERS", "POST"),
)


def _path_cases() -> Iterator[tuple[str, Case]]:
    """Path variants, anonymous, with a proof for the path itself, and with a proof for another URL."""
    for index, (path, method) in enumerate(PATHS):
        def anonymous(h: Hostile, path: str = path, method: str = method) -> httpx.Response:
            return h.gateway.http.request(method, path, headers={"Host": "evil.example"})

        def own_proof(h: Hostile, path: str = path, method: str = method, index: int = index) -> httpx.Response:
            return h.protected(method, path, headers={"Content-Type": "application/json",
                                                      "Carbonlink-Message-Id": f"hostile-path-{index}"},
                               content=h.transfer_body() if method == "POST" else None)

        def other_proof(h: Hostile, path: str = path, method: str = method) -> httpx.Response:
            return h.protected(method, path, proof_path="/v1/transfers",
                               headers={"Content-Type": "application/json", "Carbonlink-Message-Id": "hostile-p"},
                               content=h.transfer_body() if method == "POST" else None)

        yield f"path-{index}-anonymous", anonymous
        yield f"path-{index}-own-proof", own_proof
        yield f"path-{index}-other-proof", other_proof


CONTENT_TYPES = (None, "text/plain", "application/octet-stream", "multipart/form-data; boundary=x", "image/png",
                 "application/x-www-form-urlencoded", "text/html", "application/jsonx", "application/xml",
                 "json", "*/*", "application/*", "application/json\u20ac", "text/csv\x00")


def _content_type_cases() -> Iterator[tuple[str, Case]]:
    """A valid message (or notice) under a content type its kind does not take: 415, never parsed."""
    for index, content_type in enumerate(CONTENT_TYPES):
        for path in ("/v1/transfers", "/v1/messages/transfers", "/v1/messages/acceptances"):
            def case(h: Hostile, content_type: str | None = content_type, path: str = path) -> httpx.Response:
                headers: dict[str, Any] = {"Carbonlink-Message-Id": f"hostile-ct-{time.time_ns()}"}
                if content_type is not None:
                    headers["Content-Type"] = content_type.encode("utf-8")
                response = h.protected("POST", path, headers=headers, content=h.transfer_body())
                assert response.status_code == 415, response.text
                return response

            yield f"content-type-{index}-{path.rsplit('/', 1)[-1]}", case


def _number_bodies() -> Iterator[tuple[str, bytes]]:
    message = itmo_message(sender_party="CHE", receiver_party="GHA", first=1, last=10)
    text = json.dumps(message)
    for digits in (4301, 5000, 20000, 200000):
        huge = "9" * digits
        yield f"int-{digits}-quantity", text.replace('"QuantityCO2": 10', f'"QuantityCO2": {huge}').encode()
        yield f"int-{digits}-firstid", text.replace('"FirstID": 1', f'"FirstID": {huge}').encode()
        yield f"int-{digits}-negative", text.replace('"FirstID": 1', f'"FirstID": -{huge}').encode()
        yield f"decimal-{digits}", text.replace('"QuantityCO2": 10', f'"QuantityCO2": 1.{huge}').encode()
    for exponent in ("1e400", "1e999999999", "1E-999999999", "-1e309"):
        yield f"exponent-{exponent}", text.replace('"QuantityCO2": 10', f'"QuantityCO2": {exponent}').encode()
    for depth in (1000, 100_000):
        yield f"nesting-list-{depth}", b"[" * depth + b"]" * depth
        yield f"nesting-object-{depth}", b'{"Actions":' * depth + b"1" + b"}" * depth
        yield f"nesting-in-field-{depth}", text.replace('"GWPValues": null',
                                                        '"GWPValues": ' + "[" * depth + "]" * depth).encode()


def _number_cases() -> Iterator[tuple[str, Case]]:
    """Huge numbers and deep nesting in AEF JSON and canonical JSON: a coded 4xx, bounded in time."""
    for label, body in _number_bodies():
        for content_type in ("application/json", "application/vnd.carbonlink.canonical+json"):
            def case(h: Hostile, body: bytes = body, content_type: str = content_type) -> httpx.Response:
                return h.protected("POST", "/v1/transfers", content=body,
                                   headers={"Content-Type": content_type,
                                            "Carbonlink-Message-Id": f"hostile-num-{time.time_ns()}"})

            yield f"{label}-{content_type.rsplit('/', 1)[-1]}", case


def _metrics_cases() -> Iterator[tuple[str, Case]]:
    def anonymous(h: Hostile) -> httpx.Response:
        return h.gateway.http.get("/metrics")

    def without_scope(h: Hostile) -> httpx.Response:
        response = h.protected("GET", "/metrics")
        assert response.status_code == 403 and response.json()["code"] == "TOKEN.INSUFFICIENT_SCOPE"
        return response

    def garbage_token(h: Hostile) -> httpx.Response:
        return h.gateway.http.get("/metrics", headers={"Authorization": "DPoP x.y.z", "DPoP": "a.b.c"})

    yield "metrics-anonymous", anonymous
    yield "metrics-without-scope", without_scope
    yield "metrics-garbage-token", garbage_token


def _cases() -> list[tuple[str, Case]]:
    return [*_jose_cases(), *_header_cases(), *_path_cases(), *_content_type_cases(), *_number_cases(),
            *_metrics_cases()]


CASES = _cases()


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[name for name, _ in CASES])
def test_a_hostile_request_gets_a_coded_4xx(hostile: Hostile, case: Case) -> None:
    started = time.perf_counter()
    response = case(hostile)
    assert_coded_refusal(response, time.perf_counter() - started)


def test_the_corpus_is_hundreds_of_cases() -> None:
    assert len(CASES) >= 400, len(CASES)


def test_after_the_corpus_nothing_was_delivered_and_nothing_logged_a_traceback(hostile: Hostile) -> None:
    log = Path(hostile.gateway.log).read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log and "unexpected error" not in log, log[:2000]
    evidence = Path(hostile.gateway.settings.transfers.data_dir) / "evidence.sqlite3"
    assert evidence.exists()
    if evidence.exists():
        import sqlite3

        with sqlite3.connect(evidence) as db:
            tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
            for table in tables:
                if "record" in table or "evidence" in table:
                    rows = db.execute(f'select * from "{table}"').fetchall()
                    assert not rows, (table, rows[:3])


def test_trailing_slash_answers_404_without_a_location(hostile: Hostile) -> None:
    for path in ("/v1/whoami/", "/v1/messages/transfers/"):
        response = hostile.gateway.http.request("GET" if "whoami" in path else "POST", path,
                                                headers={"Host": "evil.example"})
        assert response.status_code == 404 and response.json()["code"] == "HTTP.NOT_FOUND"
        assert "location" not in response.headers


def test_a_proof_for_another_url_on_a_non_ascii_path_is_a_coded_401(hostile: Hostile) -> None:
    response = hostile.protected("POST", "/v1/messages/%E2%82%AC", proof_path="/v1/transfers",
                                 headers={"Content-Type": "application/json", "Carbonlink-Message-Id": "euro-1"},
                                 content=hostile.transfer_body())
    assert response.status_code in (401, 404, 422), response.text
    challenge = response.headers.get("www-authenticate", "")
    assert "\u20ac" not in challenge and "%E2" not in challenge


def test_two_content_types_are_refused(hostile: Hostile) -> None:
    response = hostile.gateway.http.post(
        "/v1/transfers", content=hostile.transfer_body(),
        headers=[("authorization", f"DPoP {hostile.token}"),
                 ("dpop", hostile.client.proof("POST", "/v1/transfers", access_token=hostile.token)),
                 ("content-type", "application/json"), ("content-type", "text/plain"),
                 ("carbonlink-message-id", "two-types-1")])
    assert response.status_code == 415 and response.json()["code"] == "HTTP.CONTENT_TYPE", response.text


def test_a_huge_aef_integer_is_input_json_number(hostile: Hostile) -> None:
    body = hostile.transfer_body().replace(b'"QuantityCO2": 10', b'"QuantityCO2": ' + b"9" * 4400)
    response = hostile.protected("POST", "/v1/transfers", content=body,
                                 headers={"Content-Type": "application/json", "Carbonlink-Message-Id": "huge-1"})
    assert response.status_code == 400 and response.json()["code"] == "INPUT.JSON_NUMBER", response.text


def test_the_cli_names_a_huge_aef_integer_with_its_code(tmp_path: Path) -> None:
    from tests.support.cli import run_cli

    text = json.dumps(itmo_message(sender_party="CHE", receiver_party="GHA", first=1, last=10))
    path = tmp_path / "huge.json"
    path.write_text(text.replace('"QuantityCO2": 10', '"QuantityCO2": ' + "9" * 4400))
    result = run_cli("validate", str(path), "--format", "aef")
    assert result.returncode == 2
    assert "INPUT.JSON_NUMBER" in result.stderr
    assert "INTERNAL" not in result.stderr and "ValueError" not in result.stderr
