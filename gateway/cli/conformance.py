"""``carbonlink conformance list | trace | run | verify``: the conformance suite from the command line.

``run`` exits 0 when every required test passed (or every failure is an expected deviation that
still fails), 1 on failures or a deviation that no longer fails, 2 when the suite could not run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from conformance import Kit, RunResult, Target, default_kits, run_kit, traceability
from conformance.deviations import Deviation, load_deviations, unexpected
from conformance.errors import ConformanceError
from conformance.reports import write_reports
from gateway.cli._common import (
    EXIT_FINDINGS,
    EXIT_OK,
    cli_settings,
    err,
    fail,
    identifier,
    out,
    print_table,
    table,
    text,
    usage_error,
    write_json,
)
from standards.errors import CarbonlinkError
from standards.safeio import load_json, read_bytes

conformance_app = typer.Typer(help="Run conformance kits, write their reports, issue and verify certificates.",
                              no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@conformance_app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """Every installed kit with its version and number of tests (and kits that failed to load)."""
    catalog = default_kits()
    rows: list[dict[str, Any]] = [{"name": k.name, "version": k.version, "tests": sum(1 for _ in k.suite.tests()),
             "groups": len(k.suite.groups), "description": k.description} for k in catalog]
    if as_json:
        write_json({"kits": rows, "problems": [p.message for p in catalog.problems]}, indent=2)
    else:
        rendered = table([identifier("kit"), identifier("version"), text("tests"), text("description")])
        for row in rows:
            rendered.add_row(str(row["name"]), str(row["version"]), str(row["tests"]), str(row["description"]))
        print_table(rendered)
        for problem in catalog.problems:
            err.print(f"carbonlink: {problem.code}: {problem.message}", markup=False)
    raise typer.Exit(EXIT_OK)


@conformance_app.command("trace")
def trace_command(kit: Annotated[str, typer.Argument(metavar="NAME[@VERSION]")], as_json: JsonOption = False) -> None:
    """The traceability report: the clauses a kit covers (with its tests) and those it does not."""
    try:
        report = traceability(default_kits().get(kit))
    except CarbonlinkError as exc:
        raise fail(exc) from exc
    if as_json:
        write_json(report, indent=2)
        raise typer.Exit(EXIT_OK)
    for row in report["covered"]:
        out.print(f"covered      {row['clause']}  ({', '.join(row['tests'])})", markup=False)
    for row in report["notCovered"]:
        out.print(f"NOT covered  {row['clause']}", markup=False)
    out.print(f"{len(report['covered'])} clauses covered, {len(report['notCovered'])} not covered", markup=False)
    raise typer.Exit(EXIT_OK)


def _options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise usage_error(f"--option takes KEY=VALUE, not {pair!r}")
        options[key] = value
    return options


def _run_with_progress(kit: Kit, target: Target, deviations: list[Deviation]) -> RunResult:
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(f"{kit.name} {kit.version}", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run_kit(kit, target, progress=advance, deviations=deviations)


def run_command(
    kit: Annotated[str, typer.Option("--kit", metavar="NAME[@VERSION]",
                                     help="Kit from `carbonlink conformance list`.")],
    target: Annotated[str, typer.Option("--target", metavar="PATH|URL", help="Files or folder (message kits).")],
    report: Annotated[Path, typer.Option("--report", metavar="DIR", help="Folder the reports are written into.")],
    formats: Annotated[str, typer.Option("--format", help="Comma-separated: json, junit, html.")] = "json,junit,html",
    deviations_file: Annotated[Path | None, typer.Option(
        "--deviations", metavar="FILE", help="Expected-deviation file (YAML or JSON).")] = None,
    option: Annotated[list[str] | None, typer.Option(
        "--option", metavar="KEY=VALUE", help="A kit option (registry-exports: format, through).")] = None,
    sign_key: Annotated[Path | None, typer.Option(
        "--sign-key", metavar="FILE", help="The suite operator's private JWK: issue a certificate when every "
        "required test passed (written as certificate.jws); default CARBONLINK_CONFORMANCE_SIGNING_KEY.")] = None,
    issuer: Annotated[str | None, typer.Option(
        help="The certificate's issuer (the suite operator); default CARBONLINK_CONFORMANCE_CERTIFICATE_ISSUER, "
        "else carbonlink-suite.")] = None,
    validity_days: Annotated[int, typer.Option(min=1, max=3650, help="Days the certificate is valid.")] = 365,
    client_cert: Annotated[Path | None, typer.Option(
        "--client-cert", metavar="PEM", help="Endpoint kits (RFC 8705): the client certificate the suite presents "
        "(gateway-peer: the registry's, as the directory lists it; registry-endpoint: the gateway's).")] = None,
    client_key: Annotated[Path | None, typer.Option("--client-key", metavar="PEM",
                                                    help="The private key of --client-cert.")] = None,
    other_cert: Annotated[Path | None, typer.Option(
        "--other-cert", metavar="PEM", help="A second certificate the peer's TLS accepts, not the bound one "
        "(the 'another certificate' tests).")] = None,
    other_key: Annotated[Path | None, typer.Option("--other-key", metavar="PEM",
                                                   help="The private key of --other-cert.")] = None,
    ca: Annotated[Path | None, typer.Option(
        "--ca", metavar="PEM", help="CA file verifying the peer's TLS server certificate.")] = None,
) -> None:
    """Run a kit over a target and write its reports; exit 0 all required passed, 1 failures, 2 could not run."""
    from conformance import certificate

    try:
        configured = cli_settings().conformance
        sign_key = sign_key or configured.conformance_signing_key
        issuer = issuer or configured.conformance_certificate_issuer
        chosen = default_kits().get(kit)
        devs = load_deviations(deviations_file, chosen.name) if deviations_file else []
        key = certificate.load_private_key(sign_key) if sign_key else None
        tls = {"client_cert": client_cert, "client_key": client_key, "other_cert": other_cert,
               "other_key": other_key, "ca": ca}
        options = {**_options(option or []), **{k: str(v) for k, v in tls.items() if v is not None}}
        run = _run_with_progress(chosen, Target(target, options), devs)
        written = write_reports(run, report, [f.strip() for f in formats.split(",") if f.strip()])
        token = certificate.issue(run, key, issuer=issuer, validity_days=validity_days) if key and run.passed else None
        if token is not None:
            (report / "certificate.jws").write_text(token + "\n", encoding="ascii")
            written.append(report / "certificate.jws")
    except (CarbonlinkError, OSError) as exc:
        error = exc if isinstance(exc, CarbonlinkError) else ConformanceError(str(exc))
        raise fail(error) from exc
    raise typer.Exit(_summarise(run, devs, written))


def _summarise(run: RunResult, devs: list[Deviation], written: list[Path]) -> int:
    counts = run.counts()
    out.print(f"{run.kit.name} {run.kit.version} over {run.target}: " + ", ".join(
        f"{n} {v}" for v, n in counts.items()), markup=False)
    stale = [d for d in run.deviations if d["status"] == "no-longer-fails"]
    for d in stale:
        out.print(f"deviation no longer fails: {d['test']} ({d['subject'] or 'every subject'}); drop it from the file",
                  markup=False)
    surprising = unexpected(devs, run.blocking())
    shown = [r for r in surprising if r.verdict.value != "skip"]
    for result in shown[:20]:
        out.print(f"{result.verdict.value.upper():5} {result.test}  {result.subject}  {result.reason}", markup=False)
    hidden = len(surprising) - min(len(shown), 20)
    if hidden:
        out.print(f"... and {hidden} more failed or skipped required results (see the reports)", markup=False)
    out.print("reports: " + ", ".join(str(p) for p in written), markup=False)
    verdict = "PASSED" if run.passed else ("known deviations only" if not surprising else "NOT PASSED")
    out.print(verdict, markup=False)
    return EXIT_OK if (not surprising and not stale) else EXIT_FINDINGS


def verify_command(
    cert: Annotated[Path, typer.Argument(metavar="CERT", help="certificate.jws")],
    keys: Annotated[Path | None, typer.Option(
        "--keys", metavar="FILE", help="The suite operator's public JWKS (or JWK); default "
        "CARBONLINK_CONFORMANCE_OPERATOR_KEYS.")] = None,
    results: Annotated[Path | None, typer.Option(
        "--results", metavar="FILE", help="results.json: also check it is the run certified.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Verify a certificate: signature against the operator's keys, validity, and the results digest."""
    from conformance import certificate

    try:
        keys = keys or cli_settings().conformance.conformance_operator_keys
        if keys is None:
            raise usage_error("give the suite operator's public keys: --keys FILE or "
                              "CARBONLINK_CONFORMANCE_OPERATOR_KEYS")
        token = read_bytes(cert).decode("ascii", errors="replace").strip()
        public = certificate.load_public_keys(keys)
        document = load_json(read_bytes(results), what="results") if results else None
    except CarbonlinkError as exc:
        raise fail(exc) from exc
    try:
        verified = certificate.verify(token, public, results=document)
    except CarbonlinkError as exc:
        if as_json:
            write_json({"valid": False, "error": {"code": exc.code, "message": exc.message}})
        else:
            err.print(f"carbonlink: {exc.code}: {exc.message}", markup=False)
        raise typer.Exit(EXIT_FINDINGS) from exc
    if as_json:
        write_json({"valid": True, "claims": verified.claims}, indent=2)
    else:
        out.print(f"valid: {verified.kit} {verified.kit_version} for {verified.target}, issued by {verified.issuer}, "
                  f"digest {verified.digest}, expires {verified.expires_at} (unix time)", markup=False)
    raise typer.Exit(EXIT_OK)


conformance_app.command("run")(run_command)
conformance_app.command("verify")(verify_command)


def register(app: typer.Typer) -> None:
    app.add_typer(conformance_app, name="conformance")
