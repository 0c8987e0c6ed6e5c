"""The registry side of the gateway: get a DPoP-bound token with private_key_jwt, send messages,
verify receipts. Used by the demo, the benchmarks and the tests; registries may embed it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from joserfc.jwk import Key

from gateway.trust import jose
from gateway.trust.keys import generate_key, public_key_set
from gateway.trust.outbound import SIGNATURE_HEADER
from gateway.trust.proofs import DpopProver, assertion_form, client_assertion
from standards.errors import CarbonlinkError

RECEIPT_TYP = "carbonlink-receipt+jws"
NOTICE_CONTENT_TYPE = "application/vnd.carbonlink.notice+json"
#: The message kind that carries each notice type (docs/transfers.md, "Notices").
NOTICE_KIND = {"acceptance": "acceptances", "rejection": "acceptances", "completion": "completions",
               "termination": "completions"}


class GatewayClientError(CarbonlinkError):
    code = "CLIENT.GATEWAY"


@dataclass(frozen=True, slots=True)
class Sent:
    """The gateway's answer to a message: the signed receipt, or a problem."""

    status: int
    body: dict[str, Any]
    raw: bytes
    signature: str | None
    replayed: bool
    retry_after: str | None

    @property
    def ok(self) -> bool:
        return self.status == 200


class GatewayClient:
    """One registry's connection to a gateway (thread-compatible, not thread-safe)."""

    def __init__(self, base_url: str, client_id: str, key: Key, *, issuer: str | None = None,
                 scope: str = "messages:send", http: httpx.Client | None = None, dpop_key: Key | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.issuer = issuer or self.base_url
        self.client_id = client_id
        self.key = key
        self.scope = scope
        self.http = http or httpx.Client(timeout=30)
        self.dpop_key = dpop_key or generate_key("ES256", f"{client_id}-dpop")
        self.nonce: str | None = None
        self._token: tuple[str, float] | None = None
        self._gateway_keys: dict[str, Key] | None = None
        self._prover: DpopProver | None = None

    def proof(self, method: str, path: str, access_token: str | None = None) -> str:
        """A DPoP proof for one request to ``path`` of the gateway (with the nonce it last gave)."""
        if self._prover is None or self._prover.key is not self.dpop_key:
            self._prover = DpopProver(self.dpop_key)
        return self._prover.proof(method=method, url=self.issuer + path, nonce=self.nonce, access_token=access_token)

    def _remember_nonce(self, response: httpx.Response) -> bool:
        nonce = response.headers.get("dpop-nonce")
        changed = nonce is not None and nonce != self.nonce
        if nonce is not None:
            self.nonce = nonce
        return changed

    def token(self) -> str:
        """A DPoP-bound access token (cached until 30 s before it expires)."""
        if self._token is not None and self._token[1] - 30 > time.time():
            return self._token[0]
        for _ in range(3):
            assertion = client_assertion(self.key, client_id=self.client_id, audience=self.issuer)
            response = self.http.post(self.base_url + "/oauth/token", data=assertion_form(assertion, scope=self.scope),
                                      headers={"DPoP": self.proof("POST", "/oauth/token")})
            if self._remember_nonce(response) and response.status_code == 400:
                continue
            if response.status_code != 200:
                raise GatewayClientError(f"token request refused: HTTP {response.status_code} {response.text[:300]}")
            body = response.json()
            self._token = (str(body["access_token"]), time.time() + float(body.get("expires_in", 60)))
            return self._token[0]
        raise GatewayClientError("no token after the DPoP nonce retries")

    def request(self, method: str, path: str, *, content: bytes | None = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
        """A protected request with the token and a fresh DPoP proof (one retry for a new nonce)."""
        response: httpx.Response | None = None
        for _ in range(2):
            token = self.token()
            hdrs = {**(headers or {}), "Authorization": f"DPoP {token}",
                    "DPoP": self.proof(method, path, access_token=token)}
            response = self.http.request(method, self.base_url + path, content=content, headers=hdrs)
            if self._remember_nonce(response) and response.status_code == 401:
                continue
            return response
        assert response is not None
        return response

    def authorize(self, path: str, body: dict[str, Any], *, party: str | None = None, key: Key | None = None,
                  version: int | None = None) -> httpx.Response:
        """A national authority's issue (``/v1/authorizations``; ``party``: its Party), amendment
        (``.../versions``; the version it makes, default the next one) or revocation (``.../revocation``;
        ``body`` ``{"effective", "reason"}``), signed with its own ``key`` (default: the client's key, a key of
        its directory entry) for this gateway (docs/governance.md)."""
        from gateway.governance import statement_for_route

        if path.endswith("/versions") and version is None and "version" not in body:
            shown = self.request("GET", path.removesuffix("/versions"))
            version = int(shown.json()["version"]) + 1 if shown.status_code == 200 else 2
        token = statement_for_route(key or self.key, issuer=self.client_id, audience=self.issuer, path=path,
                                    body=body, party=party, version=version)
        return self.request("POST", path, content=token.encode("ascii"),
                            headers={"Content-Type": "application/jose"})

    def send(self, body: bytes, *, message_id: str, kind: str = "transfers", content_type: str = "application/json",
             receiver: str | None = None, approvals: Sequence[str] = ()) -> Sent:
        """Send one message (with officers' ``approvals``, four eyes); verify the receipt's signature when the
        gateway issued one."""
        path = "/v1/transfers" if kind == "transfers" else f"/v1/messages/{kind}"
        headers = {"Content-Type": content_type, "Carbonlink-Message-Id": message_id}
        if receiver:
            headers["Carbonlink-Receiver"] = receiver
        if approvals:
            headers["Carbonlink-Approval"] = ", ".join(approvals)
        return self._sent(self.request("POST", path, content=body, headers=headers))

    def approve(self, message_id: str, approvals: Sequence[str]) -> Sent:
        """Send officers' ``approvals`` of one of this registry's held messages (four eyes, docs/governance.md;
        the client's scope must include ``approvals:write``): 200 and the verified receipt when they released it,
        202 and the hold while it waits for more."""
        body = orjson.dumps({"approvals": list(approvals)})
        return self._sent(self.request("POST", f"/v1/transfers/{message_id}/approvals", content=body,
                                       headers={"Content-Type": "application/json"}))

    def _sent(self, response: httpx.Response) -> Sent:
        signature = response.headers.get(SIGNATURE_HEADER)
        try:
            doc = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise GatewayClientError(f"the gateway answered HTTP {response.status_code} with a body that is not "
                                     "JSON") from exc
        if response.status_code == 200:
            self.verify_receipt(response.content, signature)
        return Sent(response.status_code, doc if isinstance(doc, dict) else {}, response.content, signature,
                    response.headers.get("carbonlink-replayed") == "true", response.headers.get("retry-after"))

    def send_notice(self, notice_type: str, *, in_reply_to: tuple[str, str], message_id: str,
                    reasons: Sequence[tuple[str, str]] = (), additional_information: str | None = None,
                    issued_at: str | None = None, receiver: str | None = None) -> Sent:
        """Send an acceptance or rejection (of a message this registry received) or a completion or
        termination (of one it sent). ``in_reply_to`` is ``(sender participant id, message id)`` of
        that message; ``reasons`` are ``(code, detail)`` pairs (required for rejection/termination)."""
        if notice_type not in NOTICE_KIND:
            raise GatewayClientError(f"unknown notice type {notice_type!r} ({', '.join(NOTICE_KIND)})",
                                     code="CLIENT.NOTICE_TYPE")
        sender, original = in_reply_to
        notice: dict[str, Any] = {
            "notice_type": notice_type, "in_reply_to": {"sender": sender, "message_id": original},
            "reasons": [{"code": code, "detail": detail} for code, detail in reasons],
            "issued_at": issued_at or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if additional_information is not None:
            notice["additional_information"] = additional_information
        return self.send(orjson.dumps(notice, option=orjson.OPT_SORT_KEYS), message_id=message_id,
                         kind=NOTICE_KIND[notice_type], content_type=NOTICE_CONTENT_TYPE, receiver=receiver)

    def gateway_keys(self) -> dict[str, Key]:
        if self._gateway_keys is None:
            response = self.http.get(self.base_url + "/.well-known/jwks.json")
            response.raise_for_status()
            self._gateway_keys = public_key_set(response.json(), what="gateway JWKS")
        return self._gateway_keys

    def verify_receipt(self, body: bytes, signature: str | None) -> dict[str, Any]:
        """Check the gateway's detached JWS over the receipt bytes; return the JWS header."""
        if not signature:
            raise GatewayClientError("the receipt is not signed", code="CLIENT.RECEIPT_UNSIGNED")

        def key_for(header: dict[str, Any]) -> Key:
            keys = self.gateway_keys()
            kid = header.get("kid")
            if not isinstance(kid, str) or kid not in keys:
                self._gateway_keys = None
                keys = self.gateway_keys()
            if not isinstance(kid, str) or kid not in keys:
                raise jose.JwsRejected("KID", f"kid {kid!r} is not a gateway key")
            return keys[kid]

        try:
            return jose.verify(signature, typ=[RECEIPT_TYP], key_for=key_for, payload=body,
                               registry=jose.make_registry(max_payload=max(len(body) * 2, 1024)),
                               max_bytes=16 * 1024).header
        except jose.JwsRejected as exc:
            raise GatewayClientError(f"the receipt signature is refused: {exc.message}",
                                     code="CLIENT.RECEIPT_SIGNATURE") from exc
