"""The gateways the gateway-peer tests run the kit against: a proxy that breaks one behaviour of the real
gateway, and the gateway's own app served in the test process with one trust check off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance import Verdict, default_kits
from gateway.demo import Network
from tests.support.processes import ThreadedServer


class BrokenGateway(ThreadedServer):
    """A proxy in front of the real gateway that changes requests or answers on the way."""

    def __init__(self, upstream: str, *, request: Callable[[Request, dict[str, str]], dict[str, str]] | None = None,
                 answer: Callable[[Request, httpx.Response], Response | None] | None = None) -> None:
        async def forward(req: Request) -> Response:
            headers = {k: v for k, v in req.headers.items() if k.lower() not in ("host", "content-length")}
            if request is not None:
                headers = request(req, headers)
            req.state.body = await req.body()
            async with httpx.AsyncClient(timeout=30) as client:
                upstream_answer = await client.request(req.method, upstream + req.url.path, headers=headers,
                                                       content=req.state.body)
            changed = answer(req, upstream_answer) if answer is not None else None
            if changed is not None:
                return changed
            kept = {k: v for k, v in upstream_answer.headers.items()
                    if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")}
            return Response(upstream_answer.content, upstream_answer.status_code, headers=kept)

        app = Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])
        super().__init__(app)
        self.start_serving()


def failed(verdicts: dict[str, Verdict]) -> set[str]:
    """The failed tests; every other test before the failing gate passed (or was omitted: a test that needs a
    certificate when none was given), every later one was skipped."""
    failed = {t for t, v in verdicts.items() if v in (Verdict.FAIL, Verdict.ERROR)}
    if failed:
        suite = default_kits().get("gateway-peer@2026.1").suite
        gate_of = {test.id: index for index, group in enumerate(suite.groups) for test in group.tests}
        failing_gate = min(gate_of[t] for t in failed)
        for test, verdict in verdicts.items():
            if test not in failed:
                expected = {Verdict.SKIP} if gate_of[test] > failing_gate else {Verdict.PASS, Verdict.OMIT}
                assert verdict in expected, (test, verdict)
    return failed


class InProcessGateway(ThreadedServer):
    """carbonlink's gateway app on the network's directory and issuer (the sandboxes accept its tokens:
    the same development keyring), with ``breaker`` applied to its trust layer before it serves."""

    def __init__(self, net: Network, data_dir: Any, breaker: Callable[[Any], None],
                 env: dict[str, str] | None = None) -> None:
        from gateway.main import create_app
        from gateway.settings import CarbonlinkSettings, Settings
        from gateway.trust.setup import build_trust
        from tests.support.ports import free_port

        port = free_port()
        settings = Settings.for_service(CarbonlinkSettings.from_environ({
            "CARBONLINK_HOST": "127.0.0.1", "CARBONLINK_PORT": str(port), "CARBONLINK_ISSUER": net.issuer,
            "CARBONLINK_DIRECTORY": str(net.root / "directory.jws"), "CARBONLINK_DATA_DIR": str(data_dir),
            **(env or {})}))
        trust = build_trust(settings)
        breaker(trust)
        super().__init__(create_app(settings, trust=trust), port=port)
        self.start_serving()
