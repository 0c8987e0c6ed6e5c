"""``carbonlink title BLOCK``: the legal-title trail of a unit block or ITMO range (docs/governance.md), from
the gateway's evidence log or, offline, from an evidence export and the gateway's published keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.cli._common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    cli_settings,
    evidence_log_url,
    fail,
    identifier,
    out,
    print_table,
    table,
    text,
    write_json,
)
from gateway.evidence import JwkSigner, open_log
from gateway.evidence.errors import EvidenceConfigError
from gateway.title import open_title_index, parse_block, title_from_export, title_from_log
from standards.errors import CarbonlinkError
from standards.safeio import load_json, read_bytes


def _jwks(path: Path | None) -> dict[str, Any] | None:
    if path is not None:
        doc = load_json(read_bytes(path, limit=1024 * 1024), what=str(path))
        return doc if isinstance(doc, dict) else {"keys": []}
    from gateway.cli.evidence import _keyring_doc

    found = _keyring_doc(None)
    if found is None:
        return None
    return {"keys": [JwkSigner.from_jwk(jwk, what=found[1]).public_jwk() for jwk in found[0]["keys"]]}


def title_command(
    block: Annotated[str, typer.Argument(help="SERIES:FIRST-LAST: ITMOs CA0001:GHA:1-100 (cooperative approach, "
                                              "first transferring Party), or a crediting block REG:PROJECT:1-500")],
    vintage: Annotated[int | None, typer.Option(help="only units of this vintage")] = None,
    export: Annotated[Path | None, typer.Option("--export", help="an evidence export (carbonlink evidence export): "
                                                "verified whole, offline")] = None,
    log: Annotated[str | None, typer.Option("--log", help="the evidence log URL (default: the gateway's)")] = None,
    jwks: Annotated[Path | None, typer.Option("--jwks", help="the gateway's published JWKS to verify against "
                                              "(default: the configured keyring; an export's own keys)")] = None,
    index: Annotated[str | None, typer.Option("--index", help="find the records through this title index "
                                              "(sqlite:///... or postgresql://..., caught up with the log first); "
                                              "each record found is checked with the one before it, not the whole "
                                              "chain")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
) -> None:
    """The chain of signed receipts that moved BLOCK through the gateway; exit 1 when it does not verify."""
    try:
        wanted = parse_block(block, vintage)
        keys = _jwks(jwks)
        if export is not None:
            result = title_from_export(export, wanted, jwks=keys)
        else:
            if keys is None:
                raise EvidenceConfigError("no keys to verify against: pass --jwks (the gateway's published JWKS)")
            with open_log(log or evidence_log_url(cli_settings()), create=False) as opened:
                if index is None:
                    result = title_from_log(opened, wanted, jwks=keys)
                else:
                    opened_index = open_title_index(index)
                    try:
                        result = title_from_log(opened, wanted, jwks=keys, verify_chain=False, index=opened_index)
                    finally:
                        opened_index.close()
    except CarbonlinkError as exc:
        raise fail(exc, EXIT_USAGE) from exc
    if as_json:
        write_json(result)
    else:
        _print(result)
    if not result["verified"]:
        raise typer.Exit(EXIT_FINDINGS)


def _print(result: dict[str, Any]) -> None:
    block = result["block"]
    rendered = table([identifier("units"), identifier("record"), identifier("time"), identifier("message"),
                      text("action"), identifier("from"), identifier("to"), identifier("outcome"),
                      identifier("receipt")])
    for part in result["parts"]:
        units = f"{part['first']}-{part['last']}"
        if not part["hops"]:
            rendered.add_row(units, "-", "-", "-", "no history at this gateway", "-", "-", "-", "-")
        for hop in part["hops"]:
            rendered.add_row(units, str(hop["seq"]), hop["ts"], hop["message_id"], str(hop["action"]),
                             _who(hop["sender"]), _who(hop["receiver"]), str(hop["outcome"]),
                             "verified" if hop.get("receipt_verified") else "NOT VERIFIED")
    print_table(rendered)
    for part in result["parts"]:
        holder = _who(part["holder"]) if part["holder"] else "no history at this gateway"
        out.print(f"units {part['first']}-{part['last']}: {holder}", markup=False)
    for finding in result["findings"]:
        out.print(f"{finding['code']}: {finding['message']}", markup=False)
    chain = result["evidence"]["chain"]
    state = "verified" if result["verified"] else "NOT VERIFIED"
    out.print(f"{block['series']}:{block['first']}-{block['last']}: {result['messages']} message(s), {state} "
              f"against {result['evidence']['keys']} keys ({result['evidence']['source']}"
              f"{', ' + _checked(result['evidence']) if chain else ''})", markup=False)


def _checked(evidence: dict[str, Any]) -> str:
    if (evidence.get("index") or {}).get("used"):
        return f"{evidence['chain']['records']} record(s) found through the title index, each checked in the log"
    return f"chain of {evidence['chain']['records']} records"


def _who(party: Any) -> str:
    if not isinstance(party, dict):
        return "-"
    return f"{party.get('id')} ({party.get('party')}, {party.get('registry')})"


def register(app: typer.Typer) -> None:
    """Add ``carbonlink title`` to the main app."""
    app.command("title")(title_command)
