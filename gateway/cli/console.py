"""``carbonlink console login``: a one-time login link to the operator console, asked for with a registry's
own OAuth client credentials (private_key_jwt and DPoP), for a person to open in a browser."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
import orjson
import typer

from gateway.cli._common import EXIT_FINDINGS, CliUsageError, fail, out
from gateway.client import GatewayClient, GatewayClientError
from gateway.trust.keys import import_jwk
from standards.errors import CarbonlinkError, InputError
from standards.safeio import load_json, read_bytes

console_app = typer.Typer(help="The operator console in a browser (docs/console.md).", no_args_is_help=True)


@console_app.command("login")
def login_command(
    gateway: Annotated[str, typer.Option(help="The gateway's base URL (its OAuth issuer), e.g. https://gw.example.")],
    participant: Annotated[str, typer.Option(help="Your participant id in the directory.")],
    key: Annotated[Path, typer.Option(help="Your registry's private JWK (JSON), as the directory lists its "
                                           "public key.")],
    network: Annotated[bool, typer.Option("--network", help="Sign in as the network operator (scope "
                                                            "console:network) instead of your registry's "
                                                            "operator (console:registry).")] = False,
) -> None:
    """Print a one-time console login link (valid two minutes) for the role your directory entry allows."""
    scope = "console:network" if network else "console:registry"
    try:
        jwk = import_jwk(load_json(read_bytes(key, limit=64 * 1024), what=str(key)), private=True,
                         what=str(key))
    except (InputError, OSError) as exc:
        raise fail(CliUsageError(f"cannot read the key {key}: {exc}", code="CLI.KEY")) from exc
    except CarbonlinkError as exc:
        raise fail(exc) from exc
    client = GatewayClient(gateway.rstrip("/"), participant, jwk, scope=scope)
    try:
        answer = client.request("POST", "/console/tickets")
    except (GatewayClientError, httpx.HTTPError) as exc:
        message = exc.message if isinstance(exc, CarbonlinkError) else str(exc)
        raise fail(GatewayClientError(f"the gateway refused or did not answer: {message}")) from exc
    if answer.status_code != 200:
        try:
            code = str(orjson.loads(answer.content).get("code", "HTTP"))
        except ValueError:
            code = "HTTP"
        raise fail(GatewayClientError(f"the gateway answered HTTP {answer.status_code} ({code})"), EXIT_FINDINGS)
    body = orjson.loads(answer.content)
    out.print(f"open within two minutes, once: {body['login_url']}", markup=False)
    out.print(f"signs in as {body['subject']} ({body['role']} operator)", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(console_app, name="console")
