"""A small peer registry for outbound tests, served by uvicorn on 127.0.0.1 in a thread.

It runs a token endpoint that accepts the gateway's private_key_jwt (verified against the
gateway's live JWKS over HTTP), a messages endpoint whose responses it signs with its own key
(or, on request, with a wrong key or in another registry's name), and an endpoint that checks a
gateway-signed access token."""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from joserfc.jwk import Key

from gateway.api.routes.oauth import parse_form
from gateway.trust import jose
from gateway.trust.keys import generate_key, public_key_set
from gateway.trust.outbound import SIGNATURE_HEADER, sign_response
from tests.support.processes import ThreadedServer


class PeerRegistry(ThreadedServer):
    def __init__(
        self, *, port: int, participant_id: str, key: Key, gateway_base: str, gateway_client_id: str
    ) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.participant_id = participant_id
        self.key = key
        self.gateway_base = gateway_base
        self.gateway_client_id = gateway_client_id
        self.issued: set[str] = set()
        self.seen_jti: set[str] = set()
        self.token_requests = 0
        self.app = self._build()
        super().__init__(self.app, port=port)

    def _gateway_keys(self) -> dict[str, Key]:
        return public_key_set(httpx.get(self.gateway_base + "/.well-known/jwks.json").json(), what="gateway")

    def _verify_gateway_jwt(self, token: str, typ: list[str]) -> dict[str, Any]:
        keys = self._gateway_keys()
        return jose.verify(token, typ=typ, key_for=lambda h: keys[h["kid"]]).claims

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/token")
        async def token(request: Request) -> Response:
            self.token_requests += 1
            form = parse_form(await request.body(), request.headers.get("content-type"))
            try:
                claims = self._verify_gateway_jwt(
                    str(form["client_assertion"]), ["JWT", "client-authentication+jwt"]
                )
            except (jose.JwsRejected, KeyError) as exc:
                return Response(f'{{"error":"invalid_client","error_description":"{exc}"}}', status_code=401)
            ok = (
                claims["iss"] == claims["sub"] == self.gateway_client_id
                and claims["aud"] == self.base
                and claims["exp"] - claims["iat"] <= 300
                and claims["jti"] not in self.seen_jti
            )
            if not ok:
                return Response('{"error":"invalid_client"}', status_code=401)
            self.seen_jti.add(claims["jti"])
            access = secrets.token_urlsafe(16)
            self.issued.add(access)
            return Response(
                f'{{"access_token":"{access}","token_type":"Bearer","expires_in":120}}',
                media_type="application/json",
            )

        @app.post("/messages")
        async def messages(request: Request) -> Response:
            auth = request.headers.get("authorization", "")
            if auth.removeprefix("Bearer ") not in self.issued:
                return Response('{"error":"invalid_token"}', status_code=401)
            body_in = await request.body()
            out = b'{"status":"accepted","amount":"1000.50"}'
            mode = request.query_params.get("mode", "good")
            signer, key, now = self.participant_id, self.key, time.time()
            if mode == "wrong-key":
                key = generate_key("ES256", self.key.kid or "k")
            elif mode == "other-name":
                signer = "gha-registry"
            elif mode == "stale":
                now -= 3600
            signature = sign_response(key, signer=signer, body=out, request_body=body_in, now=now)
            if mode == "tampered":
                out = out.replace(b"1000.50", b"9000.50")
            headers = {} if mode == "unsigned" else {SIGNATURE_HEADER: signature}
            return Response(out, media_type="application/json", headers=headers)

        @app.get("/check-gateway-token")
        def check(request: Request) -> dict[str, Any]:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            claims = self._verify_gateway_jwt(token, ["at+jwt"])
            return {"ok": claims["aud"] == self.base and claims["iss"] == self.gateway_client_id}

        return app

    def start(self) -> PeerRegistry:
        self.start_serving(timeout=10)
        return self

    def stop(self) -> None:
        self.stop_serving()
