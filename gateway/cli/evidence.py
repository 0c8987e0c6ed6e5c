"""``carbonlink evidence verify | export | show``: prove, hand over and inspect the evidence log.

The log is named by ``--log`` or ``CARBONLINK_EVIDENCE_LOG`` (``sqlite:///path`` or
``postgresql://...``; default the gateway's embedded log). Verification keys, in order of
preference: ``--jwks`` (the gateway's published JWKS: the independent check), ``--keys`` (a
gateway keyring), ``CARBONLINK_SIGNING_KEYS``, the development keyring (development only; these
three not for ``--file``, which an auditor runs away from the gateway), and last the keys carried
by the log or export itself, with a notice that the check then rests on them. The environment is
read through ``gateway.cli._common.cli_settings`` (the settings tree) only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.cli._common import (
    DEFAULT_EVIDENCE_LOG,
    EXIT_FINDINGS,
    EXIT_OK,
    cli_settings,
    err,
    evidence_log_url,
    fail,
    out,
    write_json,
)
from gateway.evidence import (
    ChainReport,
    EvidenceConfigError,
    EvidenceRecord,
    JwkSigner,
    KeySetVerifier,
    export_log,
    open_log,
    verify_export,
)
from standards.errors import CarbonlinkError
from standards.safeio import load_json, read_bytes

#: A log or export whose chain does not verify.
EXIT_BROKEN = EXIT_FINDINGS
#: The gateway's embedded default (CARBONLINK_DATA_DIR defaults to ./.carbonlink).
DEFAULT_LOG = DEFAULT_EVIDENCE_LOG

evidence_app = typer.Typer(help="Verify, export and show the gateway's evidence log.", no_args_is_help=True)

LogOption = Annotated[str | None, typer.Option(
    "--log", show_default=False,
    help="Evidence log URL: sqlite:///path or postgresql://... [default: CARBONLINK_EVIDENCE_LOG, else "
         f"{DEFAULT_EVIDENCE_LOG}]")]
KeysOption = Annotated[Path | None, typer.Option("--keys", help="Gateway keyring file (private JWKs).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _log_url(log: str | None) -> str:
    """``--log``, else the configured log, else the gateway's embedded one."""
    return log if log is not None else evidence_log_url(cli_settings())


def _keyring_doc(path: Path | None) -> tuple[Any, str] | None:
    """The keyring to use: --keys, CARBONLINK_SIGNING_KEYS, or the development keyring."""
    if path is not None:
        return load_json(read_bytes(path, limit=1024 * 1024), what=str(path)), str(path)
    settings = cli_settings()
    if settings.signing_keys is not None:
        configured = str(settings.signing_keys)
        return load_json(read_bytes(settings.signing_keys, limit=1024 * 1024), what=configured), configured
    if settings.environment == "development":
        from gateway.trust import development

        return development.keyring_document(), "the development keyring"
    return None


def _keyring_verifier(doc: Any, what: str) -> KeySetVerifier:
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise EvidenceConfigError(f"{what}: a keyring is an object with a 'keys' list")
    public = [JwkSigner.from_jwk(jwk, what=what).public_jwk() for jwk in doc["keys"]]
    return KeySetVerifier.from_jwks({"keys": public}, what=what)


def _signer(keys: Path | None) -> JwkSigner:
    found = _keyring_doc(keys)
    if found is None:
        raise EvidenceConfigError("no signing key: pass --keys or set CARBONLINK_SIGNING_KEYS")
    return JwkSigner.from_keyring(found[0], what=found[1])


def _trusted_keys(jwks: Path | None, keys: Path | None, *,
                  defaults: bool) -> tuple[KeySetVerifier | None, str]:
    """Explicit --jwks / --keys; with ``defaults`` also the configured or development keyring."""
    if jwks is not None:
        return KeySetVerifier.from_file(jwks), f"the JWKS {jwks}"
    if keys is None and not defaults:
        return None, ""
    found = _keyring_doc(keys)
    if found is not None:
        return _keyring_verifier(*found), found[1]
    return None, ""


def _print_report(report: ChainReport, source: str, key_source: str, *, as_json: bool,
                  extra: dict[str, Any] | None = None) -> int:
    if as_json:
        write_json({**report.as_dict(), "source": source, "keys": key_source, **(extra or {})})
    elif report.ok:
        out.print(f"evidence chain OK: {report.records} records, head seq {report.head_seq} "
                  f"hash {report.head_hash}; signed by {', '.join(sorted(report.kids)) or '-'}; "
                  f"keys from {key_source}", markup=False)
    else:
        first = report.findings[0]
        out.print(f"evidence chain BROKEN: {first.rule} at {first.location.render()}: {first.message}",
                  markup=False)
        out.print(f"{report.records} records verified before the break (up to seq {report.head_seq}); "
                  f"keys from {key_source}", markup=False)
    return EXIT_OK if report.ok else EXIT_BROKEN


@evidence_app.command("verify")
def verify_command(
    log: LogOption = None,
    file: Annotated[Path | None, typer.Option(
        "--file", help="Verify an export file offline instead of a log.")] = None,
    jwks: Annotated[Path | None, typer.Option(
        "--jwks", help="The gateway's public JWKS (independent check).")] = None,
    keys: KeysOption = None,
    signatures: Annotated[str, typer.Option(
        "--signatures", help="all: every record's signature; head: every hash and link, and the last "
                             "record's signature (fast, proves the same chain)")] = "all",
    as_json: JsonOption = False,
) -> None:
    """Recompute every hash and signature; report the first broken record. Exit 0 whole, 1 broken."""
    try:
        if signatures not in ("all", "head"):
            raise EvidenceConfigError(f"--signatures {signatures!r}: use all or head")
        trusted, key_source = _trusted_keys(jwks, keys, defaults=file is None)
        if file is not None:
            report, manifest = verify_export(file, keys=trusted, signatures=signatures)
            if trusted is None:
                err.print("notice: no --jwks given; checked with the keys embedded in the export. Compare "
                          "them with the gateway's published JWKS.", markup=False)
                key_source = "the export's embedded JWKS"
            summary = {k: manifest[k] for k in ("created", "records", "head_seq", "head_hash")}
            code = _print_report(report, str(file), key_source, as_json=as_json, extra={"manifest": summary})
            raise typer.Exit(code)
        with open_log(_log_url(log), create=False) as opened:
            if trusted is None:
                err.print("notice: no --jwks or keyring; checking with the keys recorded in the log itself.",
                          markup=False)
                trusted = KeySetVerifier.from_jwks({"keys": list(opened.recorded_keys().values())},
                                                   what="keys recorded in the log")
                key_source = "the log's recorded keys"
            code = _print_report(opened.verify(trusted, signatures=signatures), opened.url, key_source,
                                 as_json=as_json)
    except CarbonlinkError as exc:
        raise fail(exc) from exc
    raise typer.Exit(code)


@evidence_app.command("export")
def export_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="The export file to write (JSON lines).")],
    log: LogOption = None,
    keys: KeysOption = None,
    jwks: Annotated[Path | None, typer.Option(
        "--jwks", help="Public JWKS to embed (default: the keys the log recorded).")] = None,
    from_seq: Annotated[int, typer.Option("--from-seq", min=1, help="Export from this record on "
                                                                    "(incremental exports).")] = 1,
) -> None:
    """Write a self-contained export (manifest + records + JWKS) that verifies offline."""
    try:
        signer = _signer(keys)
        embed = KeySetVerifier.from_file(jwks).jwks() if jwks is not None else None
        with open_log(_log_url(log), create=False) as opened:
            summary = export_log(opened, output, signer=signer, jwks=embed, from_seq=from_seq)
    except CarbonlinkError as exc:
        raise fail(exc) from exc
    except OSError as exc:
        raise fail(EvidenceConfigError(f"cannot write {output}: {exc.strerror}")) from exc
    out.print(f"exported {summary.records} records (head seq {summary.head_seq} hash {summary.head_hash}) "
              f"to {summary.path}", markup=False)


def _show(record: EvidenceRecord, as_json: bool) -> None:
    if as_json:
        write_json(record.as_dict())
        return
    answer = record.verdicts.get("receiver", "-")
    out.print(f"#{record.seq} {record.ts} {record.kind} {record.sender} -> {record.receiver} "
              f"message {record.message_id} answer {answer} hash {record.hash[:16]}", markup=False)


@evidence_app.command("show")
def show_command(
    log: LogOption = None,
    seq: Annotated[int | None, typer.Option("--seq", help="Show this record.")] = None,
    sender: Annotated[str | None, typer.Option("--sender", help="With --message-id: one message.")] = None,
    message_id: Annotated[str | None, typer.Option("--message-id")] = None,
    last: Annotated[int, typer.Option("--last", min=1, max=10_000, help="Show the last N records.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Show records: one by --seq, one message's by --sender/--message-id, or the last N."""
    try:
        if (sender is None) != (message_id is None):
            raise EvidenceConfigError("--sender and --message-id go together")
        with open_log(_log_url(log), create=False) as opened:
            if seq is not None:
                record = opened.get(seq)
                if record is None:
                    raise EvidenceConfigError(f"no record {seq} in the log", code="EVIDENCE.NOT_FOUND")
                records = [record]
            elif sender is not None and message_id is not None:
                records = opened.find(sender, message_id)
            else:
                records = opened.last(last)
    except CarbonlinkError as exc:
        raise fail(exc) from exc
    for record in records:
        _show(record, as_json)


def register(app: typer.Typer) -> None:
    """Add ``carbonlink evidence ...`` to the main app."""
    app.add_typer(evidence_app, name="evidence")

