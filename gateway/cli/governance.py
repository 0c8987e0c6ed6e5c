"""``carbonlink authorizations list|show``: the Article 6.2 authorizations a gateway keeps (docs/governance.md),
read from its authorization store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gateway.cli._common import (
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
from gateway.governance import Authorities, AuthorizationStoreUnavailable, open_authorization_store
from gateway.trust.keys import SigningKeyRing
from standards.errors import CarbonlinkError

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
                 store: StoreOption = None, as_json: JsonOption = False) -> None:
    """Every version, the revocation and the quantity drawn so far."""
    try:
        authorities = _authorities(store)
        try:
            shown = authorities.show(party, authorization_id)
        finally:
            authorities.close()
    except CarbonlinkError as exc:
        raise fail(exc, EXIT_USAGE) from exc
    if as_json:
        write_json(shown)
        return
    out.print(f"{party} {authorization_id}: {shown['status']}, version {shown['version']}, drawn {shown['drawn']}",
              markup=False)
    for version in shown["versions"]:
        statement = version["statement"]
        out.print(f"  version {version['version']} of {statement['date']} by {version['issued_by']}: quantity "
                  f"{statement.get('authorized_quantity', '-')}, purposes {statement.get('purposes')}, timeframe "
                  f"{statement.get('timeframe', '-')}, Parties {', '.join(statement.get('authorized_parties', []))}",
                  markup=False)
    if shown["revocation"]:
        revocation = shown["revocation"]
        out.print(f"  revoked from {revocation['effective']} by {revocation['revoked_by']}: {revocation['reason']}",
                  markup=False)


def register(app: typer.Typer) -> None:
    """Add ``carbonlink authorizations ...`` to the main app."""
    app.add_typer(authorizations_app, name="authorizations")
