"""The registry-endpoint tests, gate by gate: discovery, tokens, body signature, messages, timing."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Sequence

import orjson

from conformance._model import Clause, Observation, TestSpec
from conformance.gates import Gate, GateTest, Omitted
from conformance.kits._mtls import Which
from conformance.kits.registry_endpoint._probe import AT_TYP, Exchange, RegistryProbe, answer_code
from gateway.protocol import MESSAGE_ID_HEADER
from gateway.trust.outbound import SIGNATURE_HEADER


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def refused(test: str, exchange: Exchange, what: str, statuses: range = range(400, 500)) -> list[Observation]:
    """The answer must be a refusal (a 4xx status by default) with a coded reason."""
    status, code = exchange.response.status_code, answer_code(exchange.response)
    if status in statuses and code:
        return []
    return [Observation(test, f"POST {exchange.message_id}", f"{what}: a {statuses.start // 100}xx answer with a "
                        "coded reason", f"HTTP {status}, code {code!r}")]


def accepted(test: str, exchange: Exchange) -> list[Observation]:
    status = exchange.response.status_code
    verdict = None
    with contextlib.suppress(ValueError, AttributeError):
        verdict = exchange.response.json().get("verdict")
    if 200 <= status < 300 and verdict == "accepted":
        return []
    return [Observation(test, f"POST {exchange.message_id}", "HTTP 2xx with verdict accepted",
                        f"HTTP {status}, verdict {verdict!r}, code {answer_code(exchange.response)!r}")]


def _check_jwks(p: RegistryProbe) -> list[Observation]:
    response = p.http.get(p.jwks_url)
    keys = response.json().get("keys") if response.status_code == 200 else None
    if not isinstance(keys, list) or not keys:
        return [Observation("REG.JWKS", p.jwks_url, "HTTP 200 with a non-empty JWKS",
                            f"HTTP {response.status_code}")]
    private = [k.get("kid") for k in keys if isinstance(k, dict) and "d" in k]
    return [Observation("REG.JWKS", p.jwks_url, "public keys only", f"private members in {private}")] if private else []


def _replayed(p: RegistryProbe) -> list[Observation]:
    token = p.token()
    first = p.post(p.transfer(), token=token)
    if problems := accepted("REG.TOKEN.REPLAYED", first):
        return problems
    return refused("REG.TOKEN.REPLAYED", p.post(p.transfer(), token=token), "a token whose jti was spent")


def _hostile(p: RegistryProbe) -> list[Observation]:
    found: list[Observation] = []
    attempts = {
        "an oversized token": {"authorization": "Bearer " + "A" * 12_000},
        "a token of three empty parts": {"authorization": "Bearer .."},
        "a path in the message id": {"headers": {MESSAGE_ID_HEADER: "../../etc/passwd"}},
        "a JSON header that is not a JOSE header": {
            "authorization": "Bearer " + _b64(b'{"alg":["ES256"],"typ":{}}') + "." + _b64(b"{}") + ".AA"},
    }
    for what, kwargs in attempts.items():
        exchange = p.post(p.transfer(), **kwargs)  # type: ignore[arg-type]
        found += refused("REG.HEADERS.HOSTILE", exchange, what)
    return found


def _garbled(p: RegistryProbe) -> list[Observation]:
    body = p.transfer()
    garbled = body.replace(b'"QuantityCO2": 10', b'"QuantityCO2": 11')
    exchange = p.post(garbled, signed_body=body)
    found = refused("REG.BODY.GARBLED", exchange, "a body that is not the one the gateway signed")
    again = p.post(body, message_id=exchange.message_id)
    return found + accepted("REG.BODY.GARBLED", again)  # the garbled one was not recorded under its id


def _accepted(p: RegistryProbe) -> list[Observation]:
    exchange = p.post(p.transfer())
    p.accepted = exchange
    return accepted("REG.MESSAGE.ACCEPTED", exchange)


def _answer_signed(p: RegistryProbe) -> list[Observation]:
    if p.accepted is None:
        raise Omitted("no answer to check: the valid transfer was not sent")
    return p.verify_answer(p.accepted)


def _idempotent(p: RegistryProbe) -> list[Observation]:
    body = p.transfer()
    first = p.post(body)
    if problems := accepted("REG.MESSAGE.IDEMPOTENT", first):
        return problems
    again = p.post(body, message_id=first.message_id)
    if again.response.status_code == first.response.status_code and again.response.content == first.response.content:
        return []
    return [Observation("REG.MESSAGE.IDEMPOTENT", f"POST {first.message_id} twice", "the first answer again, the "
                        "message applied once", f"HTTP {again.response.status_code}, code "
                        f"{answer_code(again.response)!r}")]


def _mtls(p: RegistryProbe, test: str) -> list[Observation]:
    """RFC 8705 section 3: the token bound to the suite's certificate (``cnf.x5t#S256``) with that
    certificate (accepted), with another one or none (refused); an unbound token where the registry takes
    only bound ones (refused)."""
    p.certs.need("other" if test == "REG.MTLS.OTHER_CERT" else "own")
    if test == "REG.MTLS.BOUND":
        return accepted(test, p.post(p.transfer(), over="own"))
    if test == "REG.MTLS.UNBOUND":
        if not p.binding_required:
            raise Omitted("the registry is not declared to require certificate-bound tokens (binding_required)")
        return refused(test, p.post(p.transfer(), token=p.token(cnf=None), over="own"), "a token without cnf")
    over: Which = "other" if test == "REG.MTLS.OTHER_CERT" else "none"
    what = "the bound token with another certificate" if over == "other" else "the bound token with no certificate"
    return refused(test, p.post(p.transfer(), over=over), what)


def _timing(p: RegistryProbe) -> list[Observation]:
    slow = [t for t in p.timings if t > p.max_answer_seconds]
    if not p.timings:
        raise Omitted("no answer was timed")
    return [Observation("REG.ANSWER.TIME", f"{len(slow)} of {len(p.timings)} answers",
                        f"every answer within {p.max_answer_seconds} s", f"slowest {max(slow):.3f} s")] if slow else []


def _t(test_id: str, title: str, clause: str, check: Callable[[], Sequence[Observation]]) -> GateTest:
    return GateTest(TestSpec(test_id, title, Clause(clause, "registry-endpoint")), check)


def gates(p: RegistryProbe) -> list[Gate]:
    wrong = "https://not-this-registry.invalid"
    unsigned = _b64(orjson.dumps({"alg": "none", "typ": AT_TYP})) + "." + _b64(orjson.dumps(p.claims())) + "."
    return [
        Gate("discovery", "Discovery", (
            _t("REG.JWKS", "The registry publishes its public signing keys", "RFC 7517 section 5 (JWK Set)",
               lambda: _check_jwks(p)),)),
        Gate("tokens", "Gateway tokens", (
            _t("REG.TOKEN.MISSING", "A message without a token is refused", "RFC 6750 section 3.1",
               lambda: refused("REG.TOKEN.MISSING", p.post(p.transfer(), headers={"Authorization": ""}),
                               "no Authorization header")),
            _t("REG.TOKEN.BAD_SIGNATURE", "A token signed by another key with the gateway's kid is refused",
               "RFC 7515 section 5.2 (JWS validation)",
               lambda: refused("REG.TOKEN.BAD_SIGNATURE", p.post(p.transfer(), token=p.token(p.forged_key())),
                               "a forged signature")),
            _t("REG.TOKEN.ALG_NONE", "An unsigned token (alg none) is refused", "RFC 8725 section 3.1",
               lambda: refused("REG.TOKEN.ALG_NONE", p.post(p.transfer(), authorization=f"Bearer {unsigned}"),
                               "alg none")),
            _t("REG.TOKEN.WRONG_ISSUER", "A token from another issuer is refused", "RFC 9068 section 4",
               lambda: refused("REG.TOKEN.WRONG_ISSUER", p.post(p.transfer(), token=p.token(iss=wrong)),
                               "another iss")),
            _t("REG.TOKEN.WRONG_AUDIENCE", "A token for another audience is refused", "RFC 7519 section 4.1.3",
               lambda: refused("REG.TOKEN.WRONG_AUDIENCE", p.post(p.transfer(), token=p.token(aud=wrong)),
                               "another aud")),
            _t("REG.TOKEN.EXPIRED", "An expired token is refused", "RFC 7519 section 4.1.4",
               lambda: refused("REG.TOKEN.EXPIRED", p.post(p.transfer(), token=p.token(
                   iat=p.claims()["iat"] - 3_700, exp=p.claims()["iat"] - 3_600)), "exp an hour ago")),
            _t("REG.TOKEN.REPLAYED", "A token whose jti was spent is refused", "RFC 7519 section 4.1.7",
               lambda: _replayed(p)),
            _t("REG.HEADERS.HOSTILE", "Hostile header values get a coded 4xx, never a 5xx",
               "RFC 9110 section 5.5 (field values)", lambda: _hostile(p)),
        )),
        Gate("mtls", "Certificate-bound tokens (RFC 8705)", (
            _t("REG.MTLS.BOUND", "A token bound to the gateway's certificate, sent with it, is accepted",
               "RFC 8705 section 3; RFC 8705 section 3.1", lambda: _mtls(p, "REG.MTLS.BOUND")),
            _t("REG.MTLS.OTHER_CERT", "A token bound to another certificate than the connection's is refused",
               "RFC 8705 section 3", lambda: _mtls(p, "REG.MTLS.OTHER_CERT")),
            _t("REG.MTLS.NO_CERT", "A certificate-bound token on a connection without a certificate is refused",
               "RFC 8705 section 3", lambda: _mtls(p, "REG.MTLS.NO_CERT")),
            _t("REG.MTLS.UNBOUND", "An unbound token is refused where certificate binding is required",
               "RFC 8705 section 3; RFC 9700 section 2.2.1", lambda: _mtls(p, "REG.MTLS.UNBOUND")),
        )),
        Gate("body", "Body signature", (
            _t("REG.BODY.UNSIGNED", "A body without the gateway's signature is refused",
               "RFC 7797 (JWS unencoded payload), detached", lambda: refused(
                   "REG.BODY.UNSIGNED", p.post(p.transfer(), headers={SIGNATURE_HEADER: ""}), "no signature")),
            _t("REG.BODY.GARBLED", "A garbled body is refused and not recorded", "RFC 7515 section 5.2",
               lambda: _garbled(p)),
        )),
        Gate("messages", "Messages", (
            _t("REG.MESSAGE.ACCEPTED", "A valid transfer is accepted", "Decision 2/CMA.3, annex, chapter IV "
               "(transfers recorded in the registry)", lambda: _accepted(p)),
            _t("REG.ANSWER.SIGNED", "The answer is signed by the registry's key and names the request",
               "RFC 7515 section 5.2; RFC 7797", lambda: _answer_signed(p)),
            _t("REG.MESSAGE.REJECTED_CODED", "An invalid transfer is refused with a coded reason",
               "RFC 9457 (problem details)", lambda: refused(
                   "REG.MESSAGE.REJECTED_CODED", p.post(p.transfer(acquiring="CH")), "an alpha-2 acquiring Party")),
            _t("REG.MESSAGE.IDEMPOTENT", "A repeated message id gets the first answer and is applied once",
               "RFC 9110 section 9.2.2 (idempotent methods)", lambda: _idempotent(p)),
        )),
        Gate("timing", "Timing", (
            _t("REG.ANSWER.TIME", "Every answer within the configured time (max_answer_seconds)",
               "carbonlink gateway delivery timeout (docs/transfers.md)", lambda: _timing(p)),)),
    ]
