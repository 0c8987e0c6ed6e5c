"""``registry-endpoint`` RFC 8705 gate against the sandbox registry terminating TLS with client certificates
(real handshakes: a CA, the sandbox's server certificate and the suite's two client certificates made for
the run): the sandbox that requires certificate-bound tokens passes every test; with one binding check off
it fails exactly that test. The e2e tier runs ``carbonlink sandbox --tls-cert ... --require-mtls-binding``
as a process and ``carbonlink conformance run --client-cert ...`` against it."""

from __future__ import annotations

import json
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conformance import Target, Verdict, default_kits, run_kit
from gateway.sandbox.app import create_app, uvicorn_options
from gateway.sandbox.service import Sandbox, SandboxConfig
from tests.conformance.test_registry_endpoint import failed
from tests.support.cli import run_cli
from tests.support.pki import Pki
from tests.support.ports import free_port, wait_http
from tests.support.processes import CARBONLINK, ThreadedServer, clean_env

MTLS_TESTS = {"REG.MTLS.BOUND", "REG.MTLS.OTHER_CERT", "REG.MTLS.NO_CERT", "REG.MTLS.UNBOUND"}
Breaker = Callable[[Sandbox], None]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"), clients=("carbonlink-gateway", "not-the-gateway"))


@pytest.fixture
def serve_tls(tmp_path: Path, pki: Pki) -> Iterator[Callable[..., str]]:
    started: list[tuple[ThreadedServer, Sandbox]] = []

    def _serve(breaker: Breaker | None = None, **overrides: Any) -> str:
        config = replace(SandboxConfig(
            format="aef", registry_id="sbx-che", party="CHE", db=tmp_path / f"sbx-{len(started)}.sqlite3",
            port=free_port(), tls_certfile=pki.server[0], tls_keyfile=pki.server[1], tls_client_ca=pki.ca_path,
            require_binding=True), **overrides)
        sandbox = Sandbox(config)
        if breaker is not None:
            breaker(sandbox)
        server = ThreadedServer(create_app(sandbox), port=config.port, **uvicorn_options(sandbox))
        server.start_serving()
        started.append((server, sandbox))
        return f"{server.url}{config.messages_path}"

    yield _serve
    for server, sandbox in started:
        server.stop_serving()
        sandbox.store.close()


def _options(pki: Pki) -> dict[str, str]:
    return {"registry_id": "sbx-che", "client_cert": str(pki.fra[0]), "client_key": str(pki.fra[1]),
            "other_cert": str(pki.other[0]), "other_key": str(pki.other[1]), "ca": str(pki.ca_path)}


def _run(url: str, options: dict[str, str]) -> dict[str, Verdict]:
    run = run_kit(default_kits().get("registry-endpoint@2026.1"), Target(url, options))
    return {r.test: r.verdict for r in run.results}


def test_a_sandbox_requiring_bound_tokens_passes_every_test_over_tls(serve_tls: Callable[..., str],
                                                                      pki: Pki) -> None:
    url = serve_tls()
    assert url.startswith("https://")
    verdicts = _run(url, _options(pki))
    assert failed(verdicts) == set(), verdicts
    assert set(verdicts) >= MTLS_TESTS and set(verdicts.values()) == {Verdict.PASS}


def test_the_unbound_test_is_omitted_when_binding_is_not_required(serve_tls: Callable[..., str],
                                                                  pki: Pki) -> None:
    verdicts = _run(serve_tls(require_binding=False), {**_options(pki), "binding_required": "false"})
    assert failed(verdicts) == set()
    assert {t for t, v in verdicts.items() if v is Verdict.OMIT} == {"REG.MTLS.UNBOUND"}


def _lenient_binding(accept: Callable[[dict[str, Any], str | None], bool]) -> Breaker:
    def breaker(sandbox: Sandbox) -> None:
        check = sandbox.verifier.check_binding

        def lenient(claims: dict[str, Any], client_x5t: str | None) -> None:
            if not accept(claims, client_x5t):
                check(claims, client_x5t)
        sandbox.verifier.check_binding = lenient  # type: ignore[method-assign]
    return breaker


def _bound(claims: dict[str, Any]) -> bool:
    return isinstance(claims.get("cnf"), dict)


@pytest.mark.parametrize(("breaker", "overrides", "expected"), [
    (None, {"require_binding": False}, {"REG.MTLS.UNBOUND"}),
    (_lenient_binding(lambda claims, x5t: _bound(claims) and x5t is not None), {}, {"REG.MTLS.OTHER_CERT"}),
    (_lenient_binding(lambda claims, x5t: _bound(claims) and x5t is None), {}, {"REG.MTLS.NO_CERT"}),
    (_lenient_binding(lambda claims, x5t: True), {"require_binding": False},
     {"REG.MTLS.OTHER_CERT", "REG.MTLS.NO_CERT", "REG.MTLS.UNBOUND"}),
], ids=["binding-not-required", "any-certificate", "no-certificate", "cnf-ignored"])
def test_a_sandbox_with_one_binding_check_off_fails_exactly_that_test(
        serve_tls: Callable[..., str], pki: Pki, breaker: Breaker | None, overrides: dict[str, Any],
        expected: set[str]) -> None:
    assert failed(_run(serve_tls(breaker, **overrides), _options(pki))) == expected


@pytest.mark.e2e  # a sandbox process terminating TLS, the command line against it
def test_the_command_line_against_a_sandbox_process_over_tls(tmp_path: Path, pki: Pki) -> None:
    port = free_port()
    log = (tmp_path / "sandbox.log").open("wb")
    process = subprocess.Popen(
        [CARBONLINK, "sandbox", "--format", "aef", "--port", str(port), "--registry-id", "sbx-che", "--party",
         "CHE", "--db", str(tmp_path / "sbx.sqlite3"), "--tls-cert", str(pki.server[0]), "--tls-key",
         str(pki.server[1]), "--tls-client-ca", str(pki.ca_path), "--require-mtls-binding"],
        env=clean_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"https://127.0.0.1:{port}/health", process, timeout=60,
                  verify=ssl.create_default_context(cafile=str(pki.ca_path)))
        started = time.perf_counter()
        result = run_cli("conformance", "run", "--kit", "registry-endpoint", "--target",
                         f"https://127.0.0.1:{port}/messages", "--report", str(tmp_path / "out"), "--format", "json",
                         "--option", "registry_id=sbx-che", "--client-cert", str(pki.fra[0]), "--client-key",
                         str(pki.fra[1]), "--other-cert", str(pki.other[0]), "--other-key", str(pki.other[1]),
                         "--ca", str(pki.ca_path))
        assert result.returncode == 0, result.stdout + result.stderr
        assert time.perf_counter() - started < 60
        rows = json.loads((tmp_path / "out" / "results.json").read_text())["results"]
        assert {r["test"]: r["verdict"] for r in rows if r["test"] in MTLS_TESTS} == dict.fromkeys(MTLS_TESTS, "pass")
        # the same sandbox, the suite without its certificate: every token is unbound, and refused
        plain = run_cli("conformance", "run", "--kit", "registry-endpoint", "--target",
                        f"https://127.0.0.1:{port}/messages", "--report", str(tmp_path / "plain"), "--format",
                        "json", "--option", "registry_id=sbx-che", "--ca", str(pki.ca_path))
        assert plain.returncode == 1
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_the_sandbox_refuses_binding_options_without_client_certificates(tmp_path: Path, pki: Pki) -> None:
    base = ["sandbox", "--format", "aef", "--db", str(tmp_path / "s.sqlite3"), "--check"]
    no_tls = run_cli(*base, "--require-mtls-binding")
    assert no_tls.returncode == 2 and "--tls-cert" in no_tls.stderr, no_tls.stderr
    no_ca = run_cli(*base, "--tls-cert", str(pki.server[0]), "--tls-key", str(pki.server[1]),
                    "--require-mtls-binding")
    assert no_ca.returncode == 2 and "--tls-client-ca" in no_ca.stderr, no_ca.stderr


def test_the_kit_refuses_a_certificate_without_its_key(tmp_path: Path, pki: Pki) -> None:
    result = run_cli("conformance", "run", "--kit", "registry-endpoint", "--target", "https://127.0.0.1:1/messages",
                     "--report", str(tmp_path / "out"), "--client-cert", str(pki.fra[0]))
    assert result.returncode == 2 and "client_key" in result.stderr, result.stderr
    orphan = run_cli("conformance", "run", "--kit", "registry-endpoint", "--target", "https://127.0.0.1:1/messages",
                     "--report", str(tmp_path / "out"), "--other-key", str(pki.other[1]))
    assert orphan.returncode == 2 and "other_cert" in orphan.stderr, orphan.stderr
