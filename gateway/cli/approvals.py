"""``carbonlink approvals sign | approve | list``: four eyes by separate approval messages (docs/governance.md,
Held transfers). An officer signs an approval of one held message with its own key (offline); the registry sends
it to the gateway in an approval message; the registry and its approvers read the held queue."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from gateway.cli._common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    fail,
    identifier,
    listing,
    out,
    print_table,
    table,
    write_json,
)
from gateway.client import GatewayClient, GatewayClientError
from gateway.digests import sha256_hex
from gateway.governance import sign_approval
from gateway.trust.keys import import_jwk
from standards.errors import CarbonlinkError
from standards.safeio import load_json, read_bytes

approvals_app = typer.Typer(help="Officers' approvals of held transfers (four eyes, docs/governance.md).",
                            no_args_is_help=True)

GatewayOption = Annotated[str, typer.Option("--gateway", help="Gateway base URL (its OAuth issuer).")]
ClientOption = Annotated[str, typer.Option("--client-id", help="The sending registry's participant id.")]
KeyOption = Annotated[Path, typer.Option("--key", help="The registry's private JWK file (private_key_jwt).")]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON on stdout")]
#: The largest message body read to digest it (the relay's own default limit).
MAX_BODY = 10 * 1024 * 1024


def _private_key(path: Path) -> Any:
    return import_jwk(load_json(read_bytes(path, limit=64 * 1024), what=str(path)), private=True, what=str(path))


def _client(gateway: str, client_id: str, key: Path) -> GatewayClient:
    return GatewayClient(gateway, client_id, _private_key(key), scope="approvals:write",
                         http=httpx.Client(timeout=60))


@approvals_app.command("sign")
def sign_command(body: Annotated[Path, typer.Argument(help="The exact message body sent (its SHA-256 is signed)")],
                 key: Annotated[Path, typer.Option("--key", help="The officer's private JWK file")],
                 officer: Annotated[str, typer.Option("--officer", help="The officer's id in the policy")],
                 sender: Annotated[str, typer.Option("--sender", help="The sending registry's participant id")],
                 message_id: Annotated[str, typer.Option("--message-id", help="The message id it was sent under")],
                 kind: Annotated[str, typer.Option("--kind", help="The message kind")] = "transfers",
                 valid_for: Annotated[int, typer.Option("--valid-for", min=60, max=86400,
                                                        help="Seconds the approval is valid")] = 3600) -> None:
    """Sign an officer's approval of one message (prints the compact JWS)."""
    try:
        digest = sha256_hex(read_bytes(body, limit=MAX_BODY))
        token = sign_approval(_private_key(key), officer=officer, sender=sender, kind=kind, message_id=message_id,
                              body_sha256=digest, valid_for=valid_for)
    except CarbonlinkError as exc:
        raise fail(exc, EXIT_USAGE) from exc
    out.print(token, markup=False)


@approvals_app.command("approve")
def approve_command(message_id: Annotated[str, typer.Argument(help="The held message's id")],
                    approvals: Annotated[list[Path], typer.Argument(help="Files, each one approval (JWS)")],
                    gateway: GatewayOption, client_id: ClientOption, key: KeyOption,
                    as_json: JsonOption = False) -> None:
    """Send officers' approvals of a held message; exit 0 when it was relayed or still waits, 1 when refused."""
    try:
        tokens = [read_bytes(path, limit=64 * 1024).decode("ascii").strip() for path in approvals]
        sent = _client(gateway, client_id, key).approve(message_id, tokens)
    except UnicodeDecodeError as exc:
        raise fail(GatewayClientError(f"an approval file is not a compact JWS: {exc}", code="CLI.USAGE"),
                   EXIT_USAGE) from exc
    except (CarbonlinkError, httpx.HTTPError) as exc:
        error = exc if isinstance(exc, CarbonlinkError) else GatewayClientError(f"cannot reach the gateway: {exc}")
        raise fail(error, EXIT_USAGE) from exc
    if as_json:
        write_json({"status": sent.status, "body": sent.body})
    elif sent.status == 200:
        out.print(f"{message_id}: released and relayed, outcome {sent.body.get('outcome')} (receipt "
                  f"{sent.body.get('receipt_id')})", markup=False)
    elif sent.status == 202:
        out.print(f"{message_id}: held, approved by {', '.join(sent.body.get('approved_by', [])) or 'nobody'} of "
                  f"{sent.body.get('approvals_needed')} needed", markup=False)
    else:
        out.print(f"{message_id}: {sent.status} {sent.body.get('code')}: {sent.body.get('detail')}", markup=False)
    if sent.status not in (200, 202):
        raise typer.Exit(EXIT_FINDINGS)


@approvals_app.command("list")
def list_command(gateway: GatewayOption, client_id: ClientOption, key: KeyOption,
                 state: Annotated[str, typer.Option(help="held, released, expired, policy_changed or all")] = "held",
                 as_json: JsonOption = False) -> None:
    """The registry's held messages."""
    try:
        answer = _client(gateway, client_id, key).request("GET", f"/v1/transfers/held?state={state}")
    except (CarbonlinkError, httpx.HTTPError) as exc:
        error = exc if isinstance(exc, CarbonlinkError) else GatewayClientError(f"cannot reach the gateway: {exc}")
        raise fail(error, EXIT_USAGE) from exc
    if answer.status_code != 200:
        problem = answer.json() if answer.headers.get("content-type", "").endswith("json") else {}
        raise fail(GatewayClientError(f"the gateway answered {answer.status_code} {problem.get('code', '')}: "
                                      f"{problem.get('detail', answer.text[:200])}"), EXIT_USAGE)
    rows = answer.json()["held"]
    if as_json:
        write_json({"held": rows})
        return
    rendered = table([identifier("message"), identifier("state"), identifier("receiver"), identifier("units"),
                      listing("approved by"), identifier("needed"), identifier("policy"), identifier("expires")])
    for row in rows:
        expires = datetime.fromtimestamp(row["expires_at"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rendered.add_row(row["message_id"], row["state"], row["receiver"], row["units"],
                         ", ".join(row["approved_by"]) or "-", str(row["approvals_needed"]),
                         str(row["policy_version"]), expires)
    print_table(rendered)
    out.print(f"{len(rows)} held message(s)", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``carbonlink approvals ...`` to the main app."""
    app.add_typer(approvals_app, name="approvals")
