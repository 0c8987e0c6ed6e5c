"""``carbonlink authorizations list|show``: the Article 6.2 authorizations a gateway keeps (docs/governance.md),
read from its authorization store (or a saved answer of the API) and, with ``show --verify``, checked offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.cli._common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    cli_settings,
    fail,
    identifier,
    out,
    print_table,
    table,
    text,
    write_json,
)
from gateway.governance import (
    Authorities,
    AuthorizationInvalid,
    AuthorizationStoreUnavailable,
    check_authorization,
    open_authorization_store,
)
from gateway.trust.errors import ConfigurationError
from gateway.trust.keys import SigningKeyRing, public_key_set
from standards.errors import CarbonlinkError
from standards.safeio import load_json, read_bytes

authorizations_app = typer.Typer(help="Article 6.2 authorizations kept by the gateway (docs/governance.md).",
                                 no_args_is_help=True)

StoreOption = Annotated[str | None, typer.Option("--store", help="sqlite:///path or postgresql://...; default: "
                                                 "CARBONLINK_AUTHORIZATION_STORE, else the data directory's")]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON on stdout")]


def _authorities(store: str | None) -> Authorities:
    settings = cli_settings()
    url = store or settings.governance.authorization_url(settings.transfers.data_dir,
                                                         settings.transfers.evidence_url())
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):].partition("?")[0]).exists():
        raise AuthorizationStoreUnavailable(f"there is no authorization store at {url}")
    # reading needs no key of the gateway's: the keyring only signs what the gateway issues
    return Authorities(open_authorization_store(url), SigningKeyRing.generate("ES256", kid="cli-read-only"))


@authorizations_app.command("list")
def list_command(party: Annotated[str | None, typer.Option(help="only this Party's (alpha-3)")] = None,
                 store: StoreOption = None, as_json: JsonOption = False) -> None:
    """The latest version of every authorization."""
    try:
        authorities = _authorities(store)
        try:
            rows = authorities.listing(party)
        finally:
            authorities.close()
    except CarbonlinkError as exc:
        raise fail(exc, EXIT_USAGE) from exc
    if as_json:
        write_json({"authorizations": rows})
        return
    rendered = table([identifier("party"), identifier("authorization"), identifier("version"), identifier("status"),
                      identifier("date"), identifier("approach"), identifier("quantity"), text("purposes"),
                      identifier("timeframe"), identifier("issued by")])
    for row in rows:
        rendered.add_row(row["party"], row["authorization_id"], str(row["version"]), row["status"], row["date"],
                         row["cooperative_approach"], str(row["authorized_quantity"] or "-"), row["purposes"],
                         row["timeframe"] or "-", row["issued_by"])
    print_table(rendered)
    out.print(f"{len(rows)} authorization(s)", markup=False)


@authorizations_app.command("show")
def show_command(party: Annotated[str, typer.Argument(help="the authorizing Party (alpha-3)")],
                 authorization_id: Annotated[str, typer.Argument(help="the Authorization ID")],
                 store: StoreOption = None, as_json: JsonOption = False,
                 verify: Annotated[bool, typer.Option("--verify", help="check every record offline: the gateway's "
                                                      "signature (--gateway-jwks) and the authority's own "
                                                      "(--directory); exit 1 on any finding")] = False,
                 file: Annotated[Path | None, typer.Option("--file", help="an answer of GET /v1/authorizations/"
                                                           "{party}/{id} saved as JSON, instead of the store")] = None,
                 gateway_jwks: Annotated[Path | None, typer.Option("--gateway-jwks", help="the gateway's public "
                                                                   "JWKS (/.well-known/jwks.json)")] = None,
                 directory: Annotated[str | None, typer.Option("--directory", help="the signed directory (file or "
                                                               "URL); default CARBONLINK_DIRECTORY")] = None,
                 anchors: Annotated[Path | None, typer.Option("--anchors", help="public JWKS of the directory's "
                                                              "anchors (development: the development anchor)")] = None
                 ) -> None:
    """Every version, the revocation and the quantity drawn so far; with --verify, every signature checked."""
    try:
        shown = _shown(party, authorization_id, store, file)
        findings = _verified(shown, gateway_jwks, directory, anchors) if verify else None
    except CarbonlinkError as exc:
        raise fail(exc, EXIT_USAGE) from exc
    if as_json:
        write_json(shown if findings is None else {**shown, "verification": {"ok": not findings,
                                                                             "findings": findings}})
    else:
        _print_shown(party, authorization_id, shown)
        for finding in findings or []:
            out.print(f"  {finding['code']} at {finding['path']}: {finding['message']}", markup=False)
        if findings is not None and not findings:
            out.print("  verified: every record signed by the gateway, every statement by the Party's national "
                      "authority with its own directory key", markup=False)
    if findings:
        raise typer.Exit(EXIT_FINDINGS)


def _shown(party: str, authorization_id: str, store: str | None, file: Path | None) -> dict[str, Any]:
    if file is not None:
        doc = load_json(read_bytes(file, limit=16 * 1024 * 1024), what=str(file))
        if not isinstance(doc, dict) or doc.get("party") != party or doc.get("authorization_id") != authorization_id:
            raise AuthorizationInvalid(f"{file} is not the answer for {party} {authorization_id}")
        return doc
    authorities = _authorities(store)
    try:
        return authorities.show(party, authorization_id)
    finally:
        authorities.close()


def _verified(shown: dict[str, Any], gateway_jwks: Path | None, directory: str | None, anchors: Path | None
              ) -> list[dict[str, str]]:
    from gateway.cli.trust import _load_verified

    settings = cli_settings()
    if gateway_jwks is None:
        raise ConfigurationError("--verify needs the gateway's public keys: --gateway-jwks FILE")
    keys = public_key_set(load_json(read_bytes(gateway_jwks, limit=1024 * 1024), what=str(gateway_jwks)),
                          what=str(gateway_jwks))
    source = directory or (str(settings.directory) if settings.directory else None)
    if not source:
        raise ConfigurationError("--verify needs the signed directory: --directory FILE (or CARBONLINK_DIRECTORY)")
    return check_authorization(shown, keys, _load_verified(source, anchors, settings.environment))


def _print_shown(party: str, authorization_id: str, shown: dict[str, Any]) -> None:
    out.print(f"{party} {authorization_id}: {shown['status']}, version {shown['version']}, drawn {shown['drawn']}",
              markup=False)
    for version in shown["versions"]:
        statement = version["statement"]
        signed = "signed by the authority" if version.get("authority_statement") else "not signed by the authority"
        out.print(f"  version {version['version']} of {statement['date']} by {version['issued_by']} ({signed}): "
                  f"quantity {statement.get('authorized_quantity', '-')}, purposes {statement.get('purposes')}, "
                  f"timeframe {statement.get('timeframe', '-')}, Parties "
                  f"{', '.join(statement.get('authorized_parties', []))}", markup=False)
    if shown["revocation"]:
        revocation = shown["revocation"]
        out.print(f"  revoked from {revocation['effective']} by {revocation['revoked_by']}: {revocation['reason']}",
                  markup=False)


def register(app: typer.Typer) -> None:
    """Add ``carbonlink authorizations ...`` to the main app."""
    app.add_typer(authorizations_app, name="authorizations")
