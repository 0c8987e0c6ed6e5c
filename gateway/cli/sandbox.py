"""``carbonlink sandbox --format FORMAT``: run a sandbox registry on loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli._common import cli_settings, fail, out
from standards.errors import CarbonlinkError


def sandbox_command(
    format: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT",
                                    help="Format the registry speaks (`carbonlink formats`).")],
    port: Annotated[int, typer.Option(help="TCP port on the host.")] = 9101,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    db: Annotated[Path | None, typer.Option(help="SQLite file (default ./sandbox-<registry-id>.sqlite3).")] = None,
    registry_id: Annotated[str, typer.Option(help="Participant id: signer of answers, default token audience.")]
    = "sandbox-registry",
    party: Annotated[str | None, typer.Option(help="ISO alpha-3 Party of this registry (decides credit/debit).")]
    = None,
    seed: Annotated[Path | None, typer.Option(help="Seed holdings from this JSON file (applied once).")] = None,
    hold: Annotated[list[str] | None, typer.Option(help="Seed one block: FIRST_ITMO_ID..LAST_ITMO_ID[@ACCOUNT] or "
                                                        "SERIAL[@ACCOUNT]; repeatable.")] = None,
    messages_path: Annotated[str, typer.Option(help="Path of the inbound message endpoint.")] = "/messages",
    medium: Annotated[str | None, typer.Option(help="Medium of inbound bodies (default: the format's first).")]
    = None,
    gateway_jwks: Annotated[str, typer.Option(help="Gateway public keys: 'development', a JWKS URL or file.")]
    = "development",
    gateway_issuer: Annotated[str, typer.Option(help="Expected iss of gateway tokens.")] = "http://127.0.0.1:8080",
    audience: Annotated[list[str] | None, typer.Option(help="Accepted aud (repeatable; default registry id and "
                                                            "base URL).")] = None,
    key: Annotated[str | None, typer.Option(help="Private JWK file signing answers, or 'development' for the "
                                                 "development key of --registry-id (default: generated, kept "
                                                 "in the SQLite file).")] = None,
    operator_token: Annotated[str | None, typer.Option(
        help="Operator bearer token (default: CARBONLINK_SANDBOX_OPERATOR_TOKEN, else generated, kept).")]
    = None,
    default_account: Annotated[str, typer.Option(help="Account credited when a message names none.")] = "incoming",
    max_body_bytes: Annotated[int, typer.Option(help="Largest accepted request body.")] = 1024 * 1024,
    quantity_check: Annotated[bool, typer.Option(help="Refuse actions whose quantity differs from their unit "
                                                      "range (SANDBOX.QUANTITY_MISMATCH).")] = True,
    tls_cert: Annotated[Path | None, typer.Option(help="Serve HTTPS with this certificate (PEM).")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="Private key of --tls-cert (PEM).")] = None,
    tls_client_ca: Annotated[Path | None, typer.Option(
        help="CA file verifying client certificates (optional for clients; certificate-bound tokens, "
             "RFC 8705).")] = None,
    require_mtls_binding: Annotated[bool, typer.Option(
        help="Refuse gateway tokens not bound to the connection's client certificate (cnf x5t#S256).")] = False,
    check: Annotated[bool, typer.Option("--check", help="Open, seed and print the start-up line, then exit.")]
    = False,
) -> None:
    """Run a sandbox registry: holds units (SQLite), speaks one format, accepts only the gateway."""
    from gateway.sandbox.app import serve
    from gateway.sandbox.errors import SandboxConfigError
    from gateway.sandbox.service import Sandbox, SandboxConfig

    try:
        if operator_token is None:
            configured = cli_settings().cli.sandbox_operator_token
            operator_token = configured.get_secret_value() if configured is not None else None
    except CarbonlinkError as exc:
        raise fail(exc) from exc
    config = SandboxConfig(
        format=format, registry_id=registry_id, party=party, host=host, port=port,
        db=db or Path(f"sandbox-{registry_id}.sqlite3"), messages_path=messages_path, medium=medium,
        gateway_jwks=gateway_jwks, gateway_issuer=gateway_issuer, audiences=tuple(audience or ()), key=key,
        operator_token=operator_token, default_account=default_account, max_body_bytes=max_body_bytes, seed=seed,
        holds=tuple(hold or ()), quantity_check=quantity_check, tls_certfile=tls_cert, tls_keyfile=tls_key,
        tls_client_ca=tls_client_ca, require_binding=require_mtls_binding)
    if (tls_client_ca is not None or require_mtls_binding) and tls_cert is None:
        raise fail(SandboxConfigError("--tls-client-ca and --require-mtls-binding need --tls-cert (TLS here)"))
    if require_mtls_binding and tls_client_ca is None:
        raise fail(SandboxConfigError("--require-mtls-binding needs --tls-client-ca (client certificates)"))
    try:
        sandbox = Sandbox(config)
    except CarbonlinkError as exc:
        raise fail(exc) from exc
    held = sum(b.quantity for b in sandbox.store.holdings())
    out.print(json.dumps({"sandbox": config.registry_id, "format": config.format, "medium": sandbox.medium.value,
                          "url": config.base_url, "messages": config.base_url + config.messages_path,
                          "jwks": config.base_url + "/.well-known/jwks.json", "db": str(config.db),
                          "units_held": held, "seeded_blocks": sandbox.seeded,
                          "operator_token": sandbox.operator_token}), markup=False)
    if check:
        return
    serve(sandbox)


def register(app: typer.Typer) -> None:
    """Add ``carbonlink sandbox`` to ``app``."""
    app.command("sandbox")(sandbox_command)
