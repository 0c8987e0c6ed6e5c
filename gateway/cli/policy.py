"""``carbonlink policy sign | verify | show``: the transaction-controls policy of the network
(docs/governance.md, Policy)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from joserfc.jwk import Key

from gateway.cli._common import (
    EXIT_FINDINGS,
    cli_settings,
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
from gateway.governance import Policy, PolicyUnavailable, fetch_policy, sign_policy, verify_policy
from gateway.governance._policy import signer_keys
from gateway.trust.directory import Environment, fetch_directory, verify_directory
from gateway.trust.errors import ConfigurationError
from gateway.trust.keys import import_jwk, public_key_set
from standards.errors import CarbonlinkError, InputError
from standards.safeio import load_json, read_bytes

policy_app = typer.Typer(help="Sign, verify and show the transaction-controls policy (docs/governance.md).",
                         no_args_is_help=True)

SourceArgument = Annotated[str | None, typer.Argument(help="Policy JWS file or http(s) URL (default: "
                                                           "CARBONLINK_POLICY).")]
AnchorsOption = Annotated[Path | None, typer.Option(help="Public JWKS of the anchors (default: CARBONLINK_ANCHORS; "
                                                         "the development anchor in development).")]
DirectoryOption = Annotated[str | None, typer.Option(
    "--directory", help="Directory JWS whose network operators may sign the policy (default: CARBONLINK_DIRECTORY).")]
EnvironmentOption = Annotated[str | None, typer.Option(help="development, test or production (default: the "
                                                            "settings').")]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON on stdout")]


def _json_file(path: Path) -> Any:
    return load_json(read_bytes(path, limit=4 * 1024 * 1024), what=str(path))


def _keys(anchors: Path | None, directory: str | None, environment: Environment) -> dict[str, Key]:
    """Anchor keys, plus the network operators' keys of the directory (verified against those anchors)."""
    settings = cli_settings()
    anchors = anchors or settings.anchors
    if anchors is None:
        if environment != "development":
            raise ConfigurationError("--anchors is required outside the development environment")
        from gateway.trust import development

        dev = development.anchor()
        keys = {str(dev.kid): dev}
    else:
        keys = public_key_set(_json_file(anchors), what=str(anchors))
    source = directory or settings.directory
    verified = None if source is None else verify_directory(fetch_directory(source), keys, environment=environment)
    return signer_keys(keys, verified)


def _environment(value: str | None) -> Environment:
    chosen = value or cli_settings().environment
    if chosen not in ("development", "test", "production"):
        raise ConfigurationError(f"unknown environment {chosen!r} (development, test, production)")
    return chosen  # type: ignore[return-value]  # checked on the line above


def _load(source: str | None, anchors: Path | None, directory: str | None, environment: str | None) -> Policy:
    env = _environment(environment)
    where = source or cli_settings().governance.policy
    if where is None:
        raise PolicyUnavailable("no policy given (an argument, or CARBONLINK_POLICY)")
    return verify_policy(fetch_policy(where), _keys(anchors, directory, env), environment=env)


def _moment(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigurationError(f"--not-before {value!r} is not an ISO 8601 date-time") from exc
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())


@policy_app.command("sign")
def sign_command(
    content: Annotated[Path, typer.Argument(help="Policy content JSON (iss, environment, version, participants...).")],
    key: Annotated[Path, typer.Option(help="The network operator's private JWK (an anchor key, or a key of a "
                                           "network-operator entry of the directory).")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the JWS here (default stdout).")] = None,
    valid_for: Annotated[int, typer.Option(help="Seconds the policy is valid from its start.")] = 30 * 86400,
    not_before: Annotated[str | None, typer.Option(help="When it comes into force (ISO 8601; default now).")] = None,
) -> None:
    """Sign a policy (sets iat, nbf and exp)."""
    try:
        doc = _json_file(content)
        if not isinstance(doc, dict):
            raise ConfigurationError(f"{content}: the policy content is a JSON object")
        signer = import_jwk(_json_file(key), private=True, what=str(key))
        token = sign_policy(doc, signer, valid_for=valid_for, not_before=_moment(not_before))
    except CarbonlinkError as exc:
        raise fail(exc) from exc
    if output is None:
        sys.stdout.write(token + "\n")
    else:
        output.write_text(token + "\n", encoding="ascii")
        err.print(f"signed policy version {doc.get('version')} with {signer.kid} -> {output}", markup=False)


@policy_app.command("verify")
def verify_command(source: SourceArgument = None, anchors: AnchorsOption = None, directory: DirectoryOption = None,
                   environment: EnvironmentOption = None, as_json: JsonOption = False) -> None:
    """Verify signature (an anchor or a network operator), validity, environment and content; exit 0 valid,
    1 refused, 2 unreadable."""
    try:
        policy = _load(source, anchors, directory, environment)
    except (ConfigurationError, InputError, PolicyUnavailable) as exc:
        raise fail(exc) from exc
    except CarbonlinkError as exc:
        if as_json:
            write_json({"valid": False, "code": exc.code, "message": exc.message})
            raise typer.Exit(EXIT_FINDINGS) from exc
        raise fail(exc, EXIT_FINDINGS) from exc
    if as_json:
        write_json({"valid": True, **policy.summary()})
        return
    out.print(f"valid {policy.environment} policy version {policy.version} from {policy.iss}, in force "
              f"{_when(policy.nbf)} to {_when(policy.exp)}, controls {', '.join(k.value for k in policy.kinds)}, "
              f"{len(policy.participants)} participant(s) with their own controls", markup=False)


@policy_app.command("show")
def show_command(source: SourceArgument = None, anchors: AnchorsOption = None, directory: DirectoryOption = None,
                 environment: EnvironmentOption = None, as_json: JsonOption = False) -> None:
    """Verify, then list every participant's controls (the defaults first)."""
    try:
        policy = _load(source, anchors, directory, environment)
    except CarbonlinkError as exc:
        raise fail(exc, EXIT_FINDINGS) from exc
    if as_json:
        sys.stdout.write(policy.model_dump_json(exclude_none=True) + "\n")
        return
    rendered = table([identifier("participant"), identifier("time zone"), text("business hours"),
                      identifier("daily limit"), text("per counterpart"), identifier("four eyes above"),
                      listing("officers"), listing("trusted"), identifier("holding"), text("kill switch")])
    for pid in ("(defaults)", *sorted(policy.participants)):
        c = policy.defaults if pid == "(defaults)" else policy.controls(pid)
        hours = c.business_hours
        per_counterpart = ", ".join([*([f"any {c.counterparty_daily_limit}"] if c.counterparty_daily_limit else []),
                                     *(f"{k} {v}" for k, v in sorted(c.counterparty_limits.items()))]) or "-"
        rendered.add_row(pid, c.timezone, f"{','.join(hours.days)} {hours.start}-{hours.end}" if hours else "-",
                         str(c.daily_limit or "-"), per_counterpart,
                         "-" if c.four_eyes_above is None else f"{c.four_eyes_above} ({c.approvals} officers)",
                         ", ".join(o.id for o in c.officers) or "-", ", ".join(c.trusted) or "-",
                         f"{c.holding_seconds} s" if c.holding_seconds else "-",
                         f"ON {c.kill_reason}".strip() if c.kill_switch else "off")
    print_table(rendered)
    out.print(f"version {policy.version} from {policy.iss}, in force {_when(policy.nbf)} to {_when(policy.exp)}, "
              f"controls {', '.join(k.value for k in policy.kinds)}", markup=False)


def _when(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def register(app: typer.Typer) -> None:
    """Add ``carbonlink policy ...`` to the main app."""
    app.add_typer(policy_app, name="policy")
