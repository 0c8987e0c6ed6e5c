"""``carbonlink serve`` and ``carbonlink directory sign | verify | show``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from gateway.cli._common import (
    EXIT_FINDINGS,
    err,
    fail,
    identifier,
    listing,
    out,
    print_table,
    table,
    text,
    write_json,
)
from gateway.trust.directory import Directory, fetch_directory, sign_directory, verify_directory
from gateway.trust.errors import ConfigurationError
from gateway.trust.keys import import_jwk, public_key_set
from standards.errors import CarbonlinkError, InputError
from standards.safeio import load_json, read_bytes

#: A directory that was read but not accepted (signature, expiry, environment, content).
EXIT_REFUSED = EXIT_FINDINGS

directory_app = typer.Typer(help="Sign, verify and show participant directories.", no_args_is_help=True)


def _json_file(path: Path, what: str) -> Any:
    return load_json(read_bytes(path, limit=4 * 1024 * 1024), what=what)


def _anchors(path: Path | None, environment: str) -> dict[str, Any]:
    if path is None:
        if environment != "development":
            raise ConfigurationError("--anchors is required outside the development environment")
        from gateway.trust import development

        dev = development.anchor()
        return {str(dev.kid): dev}
    return public_key_set(_json_file(path, str(path)), what=str(path))


def _load_verified(source: str, anchors: Path | None, environment: str) -> Directory:
    from gateway.trust.directory import Environment

    env: Environment = environment  # type: ignore[assignment]
    if environment not in ("development", "test", "production"):
        raise ConfigurationError(f"unknown environment {environment!r} (development, test, production)")
    keys = _anchors(anchors, environment)
    return verify_directory(fetch_directory(source), keys, environment=env)


@directory_app.command("sign")
def sign_command(
    content: Annotated[
        Path, typer.Argument(help="Directory content JSON (iss, environment, sequence, participants).")
    ],
    anchor: Annotated[Path, typer.Option(help="The governing body's private anchor JWK.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the JWS here (default stdout).")
    ] = None,
    valid_for: Annotated[int, typer.Option(help="Seconds until the directory expires.")] = 86400,
) -> None:
    """Sign a directory with the anchor key (sets iat and exp)."""
    try:
        doc = _json_file(content, str(content))
        if not isinstance(doc, dict):
            raise ConfigurationError(f"{content}: the directory content is a JSON object")
        key = import_jwk(_json_file(anchor, str(anchor)), private=True, what=str(anchor))
        token = sign_directory(doc, key, valid_for=valid_for)
    except CarbonlinkError as exc:
        raise fail(exc) from exc
    if output is None:
        sys.stdout.write(token + "\n")
    else:
        output.write_text(token + "\n", encoding="ascii")
        err.print(
            f"signed {len(doc.get('participants', []))} participants with {key.kid} -> {output}", markup=False
        )


DirectorySource = Annotated[str, typer.Argument(help="Directory JWS file or http(s) URL.")]
AnchorsOption = Annotated[Path | None, typer.Option(help="Public JWKS of the anchors.")]
EnvironmentOption = Annotated[str, typer.Option(help="development, test or production.")]
JsonOption = Annotated[bool, typer.Option("--json")]


@directory_app.command("verify")
def verify_command(
    source: DirectorySource,
    anchors: AnchorsOption = None,
    environment: EnvironmentOption = "development",
    as_json: JsonOption = False,
) -> None:
    """Verify signature, expiry, environment and content; exit 0 valid, 1 refused, 2 unreadable."""
    try:
        directory = _load_verified(source, anchors, environment)
    except (ConfigurationError, InputError) as exc:
        raise fail(exc) from exc
    except CarbonlinkError as exc:
        if as_json:
            write_json({"valid": False, "code": exc.code, "message": exc.message})
            raise typer.Exit(EXIT_REFUSED) from exc
        raise fail(exc, EXIT_REFUSED) from exc
    summary = {
        "valid": True,
        "iss": directory.iss,
        "environment": directory.environment,
        "sequence": directory.sequence,
        "iat": directory.iat,
        "exp": directory.exp,
        "participants": len(directory.participants),
        "suspended": [p.id for p in directory.participants if not p.active],
    }
    if as_json:
        write_json(summary)
    else:
        out.print(
            f"valid {directory.environment} directory from {directory.iss}, sequence {directory.sequence}, "
            f"{len(directory.participants)} participants, expires at {directory.exp}",
            markup=False,
        )


@directory_app.command("show")
def show_command(
    source: DirectorySource,
    anchors: AnchorsOption = None,
    environment: EnvironmentOption = "development",
    as_json: JsonOption = False,
) -> None:
    """Verify, then list the participants."""
    try:
        directory = _load_verified(source, anchors, environment)
    except CarbonlinkError as exc:
        raise fail(exc, EXIT_REFUSED) from exc
    if as_json:
        sys.stdout.write(directory.model_dump_json(by_alias=True, exclude_none=True) + "\n")
        return
    participants = table([identifier("id"), identifier("party"), identifier("registry"), identifier("status"),
                          identifier("format"), listing("roles"), listing("kinds"), listing("scopes"), text("keys")])
    for p in directory.participants:
        keys = "jwks_uri" if p.jwks_uri else f"{len((p.jwks or {}).get('keys', []))} jwk"
        if p.tls_client_certificate_thumbprint:
            keys += " + cert"
        participants.add_row(
            p.id,
            p.party,
            p.party_registry_id,
            p.status,
            p.format,
            ", ".join(_role(g.role.value, g.party, g.sectors) for g in p.roles) or "-",
            ", ".join(k.value for k in p.message_kinds),
            ", ".join(p.scopes),
            keys,
        )
    print_table(participants)
    out.print(f"sequence {directory.sequence}, expires at {directory.exp}", markup=False)


def _role(role: str, party: str | None, sectors: list[str]) -> str:
    qualified = party or "; ".join(sectors)
    return f"{role} ({qualified})" if qualified else role


keys_app = typer.Typer(
    help="Generate signing keys (gateway keyrings, anchor keys, registry keys).", no_args_is_help=True
)


@keys_app.command("generate")
def keys_generate_command(
    kid: Annotated[str, typer.Option(help="Key id.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Private key file to create (mode 0600).")],
    alg: Annotated[str, typer.Option(help="PS256, ES256 or Ed25519.")] = "ES256",
    keyring: Annotated[
        bool, typer.Option("--keyring", help="Write a gateway keyring instead of a bare private JWK.")
    ] = False,
) -> None:
    """Generate a private key; print its public JWKS (for anchors files and directory entries)."""
    from gateway.trust.keys import SigningKeyRing, dumps, generate_key, public_jwk

    try:
        if output.exists():
            raise ConfigurationError(f"{output} exists; refusing to overwrite a key")
        key = generate_key(alg, kid)
    except CarbonlinkError as exc:
        raise fail(exc) from exc
    doc: Any = SigningKeyRing(current=key).to_document() if keyring else dict(key.as_dict(private=True))
    output.touch(mode=0o600)
    output.write_bytes(dumps(doc) + b"\n")
    write_json({"keys": [public_jwk(key)]}, indent=2)


def serve_command(
    host: Annotated[str | None, typer.Option(help="Bind address (CARBONLINK_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CARBONLINK_PORT).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the gateway. Without configuration: development keys and directory on 127.0.0.1:8080."""
    from gateway.server import serve
    from gateway.settings import Settings

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        raise fail(
            ConfigurationError(
                f"{'.'.join(str(p) for p in first['loc']) or 'settings'}: {first['msg']}",
                code="TRUST.SETTINGS",
            )
        ) from exc
    if settings.environment == "development":
        err.print("carbonlink: development trust material in use (never in production)", markup=False)
    try:
        serve(settings, log_level=log_level)
    except CarbonlinkError as exc:
        raise fail(exc) from exc


def register(app: typer.Typer) -> None:
    """Add the trust-layer commands to ``app``."""
    app.command("serve")(serve_command)
    app.add_typer(directory_app, name="directory")
    app.add_typer(keys_app, name="keys")
