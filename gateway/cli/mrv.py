"""``carbonlink mrv trail BLOCK``: the chain behind an issued block - issuance notice, request, verification,
monitoring report and evidence files - read from the gateway's MRV store and checked offline, every signature
and digest (docs/mrv.md, gateway section). Exit 0 when the whole chain verifies, 1 with coded findings
(``MRV_TRAIL.*``) when a link is missing or tampered with, 2 when the store or the keys cannot be read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.cli._common import EXIT_FINDINGS, EXIT_USAGE, cli_settings, fail, out, write_json
from gateway.mrv import BlobStore, build_trail, open_blobs, open_mrv_store, render_html
from gateway.mrv.errors import MrvConfigError, MrvStoreUnavailable
from gateway.trust.keys import public_jwk, public_key_set
from standards.errors import CarbonlinkError
from standards.safeio import load_json, read_bytes

mrv_app = typer.Typer(help="Digital MRV at the gateway (docs/mrv.md).", no_args_is_help=True)


def _gateway_jwks(jwks: Path | None, keys: Path | None) -> dict[str, Any]:
    """The gateway's public keys: --jwks (its published JWKS), --keys (a keyring), CARBONLINK_SIGNING_KEYS, or the
    development keyring in development."""
    if jwks is not None:
        doc = load_json(read_bytes(jwks, limit=1024 * 1024), what=str(jwks))
        public_key_set(doc, what=str(jwks))
        return dict(doc)
    settings = cli_settings()
    path = keys or settings.signing_keys
    if path is not None:
        ring = load_json(read_bytes(path, limit=1024 * 1024), what=str(path))
    elif settings.environment == "development":
        from gateway.trust import development

        ring = development.keyring_document()
    else:
        raise MrvConfigError("no gateway keys: pass --jwks (the gateway's /.well-known/jwks.json) or --keys")
    if not isinstance(ring, dict) or not isinstance(ring.get("keys"), list):
        raise MrvConfigError("a keyring is an object with a 'keys' list")
    keys_set = public_key_set({"keys": [{k: v for k, v in key.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
                                         for key in ring["keys"] if isinstance(key, dict)]}, what="the keyring")
    return {"keys": [public_jwk(key) for key in keys_set.values()]}


def _lines(trail: dict[str, Any]) -> list[str]:
    lines = [f"MRV trail of block {trail['block']}: {'VERIFIED' if trail['verified'] else 'NOT VERIFIED'}"]
    for link in trail["links"]:
        checks = ", ".join(f"{c['signature']} {'ok' if c['ok'] else 'FAILED'}" for c in link["checks"])
        lines.append(f"  {link['kind']} {link['id']}  sha256:{link['digest']}")
        lines.append(f"    {link['sender']} -> {link['receiver'] or '-'} (message {link['message_id'] or '-'}); "
                     f"{checks}")
    for evidence in trail["evidence"]:
        attested = (evidence.get("attested_by") or {}).get("participant", "NOT ATTESTED")
        lines.append(f"  evidence {evidence['name']}  sha256:{evidence['sha256']}  {evidence['size']} bytes, "
                     f"attested for {attested}, content {evidence['bytes']}")
    for finding in trail["findings"]:
        lines.append(f"  {finding['rule']} at {finding['location']['pointer'] or '/'}: {finding['message']}")
    return lines


@mrv_app.command("trail")
def trail_command(
    block: Annotated[str, typer.Argument(help="the issued block: the registry's serial text (e.g. CA0001-CHE01-"
                                              "CHE-1-2023..CA0001-CHE01-CHE-500-2023) or REGISTRY:FIRST-LAST")],
    store: Annotated[str | None, typer.Option("--store", help="sqlite:///path or postgresql://...; default: "
                                              "CARBONLINK_MRV_STORE, else the data directory's")] = None,
    evidence_store: Annotated[str | None, typer.Option(
        "--evidence-store", help="check the evidence files' bytes too (a folder or s3://...)")] = None,
    jwks: Annotated[Path | None, typer.Option("--jwks", help="the gateway's published JWKS (the independent check)")
                    ] = None,
    keys: Annotated[Path | None, typer.Option("--keys", help="a gateway keyring file")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="also write a small self-contained HTML page")] = None,
) -> None:
    """Print the chain behind an issued block, every signature and digest checked offline."""
    try:
        settings = cli_settings()
        url = store or settings.mrv.store_url(settings.transfers.data_dir)
        if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):].partition("?")[0]).exists():
            raise MrvStoreUnavailable(f"there is no MRV store at {url}")
        gateway_jwks = _gateway_jwks(jwks, keys)
        blobs: BlobStore | None = open_blobs(evidence_store) if evidence_store else None
        mrv_store = open_mrv_store(url)
        try:
            trail = build_trail(mrv_store, block, gateway_jwks, blobs=blobs)
        finally:
            mrv_store.close()
            if blobs is not None:
                blobs.close()
    except CarbonlinkError as exc:
        raise fail(exc, EXIT_USAGE) from exc
    doc = trail.as_dict()
    if html is not None:
        html.write_text(render_html(trail), encoding="utf-8")
    if as_json:
        write_json(doc)
    else:
        for line in _lines(doc):
            out.print(line, markup=False, soft_wrap=True)
    if not trail.ok:
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    """Add ``carbonlink mrv ...`` to the main app."""
    app.add_typer(mrv_app, name="mrv")
