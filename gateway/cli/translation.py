"""``carbonlink validate | translate | rules | formats`` and the bundled-examples run."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

import standards
from adapters import AdapterCatalog, RegistryAdapter, RuleSource, default_catalog
from adapters.stream_translate import StreamedTranslation, stream_translation
from adapters.translate import (
    NothingCarried,
    RecordsLost,
    Translation,
    translate,
)
from gateway.cli._common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    err,
    fail,
    identifier,
    listing,
    out,
    print_table,
    table,
    text,
    usage_error,
    write_json,
)
from gateway.cli._inputs import (
    detected_format,
    detected_source,
    detection_sample,
    input_medium,
    read_input,
    read_inputs,
    with_detected,
)
from gateway.cli._output import is_folder_or_archive, write_output
from gateway.protocol import carried_kinds
from standards.aef.codec import AefCodec, AefDraftCodec
from standards.aef.draft import VocabularyMap
from standards.codec import Loss, Medium
from standards.errors import CarbonlinkError, InputError, TranslationError, UnknownFormat, ValidationFailed
from standards.findings import Finding, RuleCatalogue, Severity

#: ``--standard`` is the old name of ``--format``: still accepted, hidden from the help.
DEPRECATED_STANDARD_HELP = "Deprecated alias of --format."

FormatOption = Annotated[str | None, typer.Option(
    "--format", "-f", metavar="FORMAT", help="Format name from `carbonlink formats`.")]
VocabularyMapOption = Annotated[str | None, typer.Option(
    "--vocabulary-map", metavar="FILE",
    help="Draft AEF (aef-draft): a JSON file, or a shipped map's name (undp-ncr), mapping a registry's own "
         "labels (e.g. UNDP sector labels) to Common Nomenclature values, read and written (docs/aef-media.md).")]
DeprecatedStandardOption = Annotated[str | None, typer.Option(
    "--standard", "-s", metavar="FORMAT", hidden=True, help=DEPRECATED_STANDARD_HELP)]


def chosen_format(format_name: str | None, standard: str | None, default: str | None) -> str | None:
    """``--format``, or the deprecated ``--standard`` (with a notice on stderr); both must agree."""
    if standard is None:
        return format_name if format_name is not None else default
    err.print("carbonlink: --standard is deprecated; use --format", markup=False)
    if format_name is not None and format_name != standard:
        raise usage_error(f"--format {format_name} and --standard {standard} disagree; use --format only")
    return standard


def _print_findings(findings: list[Finding]) -> None:
    for f in findings:
        style = {"error": "red", "warning": "yellow"}.get(f.severity.value, "dim")
        out.print(f"[{style}]{f.severity.value:7}[/] {f.rule:45} {f.location.render()}", end="")
        out.print(f"  {f.message}  ({f.reference})", markup=False)


def _catalogues(catalog: AdapterCatalog) -> list[RuleCatalogue]:
    """Every adapter's rules, then the gateway's own message checks (notices, crediting-programme transfers)."""
    from gateway.transfers import crediting, notices

    seen: dict[str, RuleCatalogue] = {}
    for adapter in catalog:
        if isinstance(adapter, RuleSource):
            seen.setdefault(adapter.rules.format, adapter.rules)
    for catalogue in (notices.CATALOGUE, crediting.CATALOGUE):
        seen.setdefault(catalogue.format, catalogue)
    return list(seen.values())


def validate_command(
    file: Annotated[Path, typer.Argument(help="File (or folder of CSV tables) to validate.")],
    format_name: FormatOption = None,
    standard: DeprecatedStandardOption = None,
    medium: Annotated[str | None, typer.Option(help="json, csv, xlsx or xml; default from the extension.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    lenient: Annotated[bool, typer.Option(
        "--lenient/--strict", help="AEF: read legacy data (numbers as text, aliases of controlled values) "
        "with warnings; strict (the default) reports them as errors.")] = False,
    vocabulary_map: VocabularyMapOption = None,
) -> None:
    """Validate a file; without --format its format is detected from its header or shape (and named on
    stderr). Exit 0 valid, 1 findings of severity error, 2 unreadable input, unknown format or usage."""
    from standards.aef.codec import AefReport

    chosen = chosen_format(format_name, standard, None)
    try:
        med = input_medium(file, medium)
        data = read_input(file, med)
        adapter, name = (default_catalog().get(chosen), chosen) if chosen else detected_format(data, med)
        if chosen is None:
            err.print(f"carbonlink: {file}: detected format {name} (name another with --format)", markup=False)
        if vocabulary_map is not None:
            if name != "aef-draft":
                raise usage_error(f"--vocabulary-map applies to the draft AEF (aef-draft), not {name}")
            adapter = AefDraftCodec(vocabulary=VocabularyMap.load(vocabulary_map))
        report = (adapter.validate(data, medium=med, lenient=lenient) if isinstance(adapter, AefCodec | AefDraftCodec)
                  else adapter.validate(data, medium=med))
    except CarbonlinkError as exc:
        if as_json and isinstance(exc, InputError | UnknownFormat):
            write_json({"valid": False, "error": {"code": exc.code, "message": exc.message}, "findings": []})
            raise typer.Exit(EXIT_USAGE) from exc
        raise fail(exc) from exc
    if as_json:
        write_json(report.as_dict(), indent=2)
    else:
        _print_findings(report.findings)
        verdict = "valid" if report.valid else "INVALID"
        counts = {s: sum(1 for f in report.findings if f.severity is s) for s in Severity}
        mode = f", {report.mode} mode" if isinstance(report, AefReport) else ""
        out.print(f"{file}: {verdict} as {name} ({report.records} records, "
                  f"{counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings{mode})", markup=False)
        if isinstance(report, AefReport) and report.rules_not_run:
            out.print("rules not run (their tables are missing): " + ", ".join(report.rules_not_run),
                      markup=False)
    raise typer.Exit(EXIT_OK if report.valid else EXIT_FINDINGS)


def translate_command(
    files: Annotated[list[Path], typer.Argument(
        help="Source file, or folder of CSV tables, or several CSV exports of one registry (read together: a "
             "projects export completes a transactions export).", metavar="FILE...")],
    target: Annotated[str, typer.Option("--to", metavar="FORMAT", help="Target format.")],
    source: Annotated[str | None, typer.Option(
        "--from", metavar="FORMAT", help="Source format; without it the format is detected from the input's "
        "header or shape and named on stderr (and in the --json summary).")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Output file; stdout if omitted.")]
    = None,
    medium: Annotated[str | None, typer.Option(help="Output medium; default from the -o extension.")] = None,
    source_medium: Annotated[str | None, typer.Option("--source-medium", help="Input medium override.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print findings and losses as JSON.")] = False,
    profile: Annotated[Path | None, typer.Option(
        "--profile", metavar="FILE",
        help="Operator profile (YAML or JSON) with the values a CAD Trust v1 or v2 output needs and the export "
             "lacks (docs/cadtrust.md).")] = None,
    accept_losses: Annotated[bool, typer.Option(
        "--accept-losses",
        help="Write the records the target can hold even when whole records are left out (they are listed "
             "as losses); without it such a translation writes nothing and exits 1. CAD Trust v1 and v2: records "
             "with errors are left out the same way (v2: with the records linked to them).")] = False,
    xlsx_layout: Annotated[str | None, typer.Option(
        "--xlsx-layout", metavar="LAYOUT",
        help="AEF workbook layout: carbonlink (one header row per sheet) or peer (the national-registry "
             "template: margins, T1 as label and value columns; docs/aef-media.md).")] = None,
    lenient: Annotated[bool, typer.Option(
        "--lenient/--strict", help="AEF input: read legacy data (numbers as text, aliases of controlled values) "
        "with warnings; strict (the default) refuses it.")] = False,
    vocabulary_map: VocabularyMapOption = None,
    date_order: Annotated[str | None, typer.Option(
        "--date-order", metavar="ORDER",
        help="APX input (ACR, CAR, ART TREES): day and month order of slash dates, mdy (the exports' own, "
             "the default) or dmy; overrides CARBONLINK_APX_DATE_ORDER.")] = None,
) -> None:
    """Translate between formats through the canonical model; output is validated first. Without --from the
    source format is detected (as `validate` does) and named; an input no format recognises is refused (exit 2)."""
    if as_json and output is None:
        raise usage_error("--json prints the summary on stdout, where the output would go; name the output "
                          "with -o FILE")
    detected: str | None = None
    try:
        file = files[0]
        src_medium = Medium.CSV if len(files) > 1 else input_medium(file, source_medium)
        data: bytes | None = None  # read whole only when it must be: a CAD Trust v2 translation may stream
        detected_adapter: RegistryAdapter | None = None
        if source is None:
            sample, whole = detection_sample(files, src_medium)
            data = sample if whole else None
            detected_adapter, detected = detected_source(files, sample, src_medium)
            source = detected_adapter.name
        catalog = with_detected(configured_catalog(source, target, profile, accept_losses, xlsx_layout, lenient,
                                                    vocabulary_map), detected_adapter, detected)
        dst_medium = _target_medium(medium, output)
        with _apx_date_order(source, date_order):
            # issue 12 (streaming): an export file to CAD Trust v2 is streamed (adapters/stream_translate.py);
            # None when it cannot stream, then the file is read and translated whole
            streamed = stream_translation(files, output, source=source, target=target, source_medium=src_medium,
                                          target_medium=dst_medium, catalog=catalog, accept_losses=accept_losses)
            result: Translation | StreamedTranslation = streamed if streamed is not None else translate(
                data if data is not None else read_inputs(files, src_medium), source=source, target=target,
                source_medium=src_medium, target_medium=dst_medium, catalog=catalog, accept_losses=accept_losses)
    except RecordsLost as exc:
        losses = [loss for loss in exc.losses if isinstance(loss, Loss)]
        _report_losses(losses, as_json)
        _report_failure([], f"{exc.code}: {exc.message}", as_json, losses=losses)
        raise typer.Exit(EXIT_FINDINGS) from exc
    except NothingCarried as exc:  # with the findings that say why each record could not be written
        _report_failure(exc.findings or [], f"{exc.code}: {exc.message}", as_json)
        raise typer.Exit(EXIT_FINDINGS) from exc
    except ValidationFailed as exc:
        _report_failure(exc.findings, exc.message, as_json)
        raise typer.Exit(EXIT_FINDINGS) from exc
    except TranslationError as exc:
        _report_failure(exc.findings or [], exc.message, as_json)
        raise typer.Exit(EXIT_FINDINGS) from exc
    except CarbonlinkError as exc:
        raise _refused(exc, as_json) from exc
    except ValueError as exc:  # an unknown --medium value
        raise fail(UnknownFormat(str(exc))) from exc
    if streamed is not None:  # issue 12 (streaming)
        written = streamed.write(output)
    else:
        assert isinstance(result, Translation)
        written = write_output(result.output.data, result.output.files, output, f"{target}.{dst_medium.value}")
    summary: dict[str, Any] = {
        "from": source, "detected": detected, "to": target, "records": result.records_read,
        "records_written": result.records_written, "records_lost": result.records_lost, "written": written,
        "losses": [loss.as_dict() for loss in result.losses],
        "findings": [f.as_dict() for f in result.source_findings + result.target_findings],
    }
    if as_json:
        write_json(summary)
        return
    for finding in result.target_findings:
        if finding.severity is Severity.INFO:
            err.print(f"note: {finding.rule}: {finding.message}", markup=False)
    _report_warnings(result.target_findings)
    _report_losses(result.losses, as_json)
    if output is not None:
        err.print(f"wrote {', '.join(written)} ({result.records_written} of {result.records_read} records written"
                  f"{f', {result.records_lost} lost' if result.records_lost else ''})", markup=False)


#: At most this many warnings of a written translation are printed (``--json`` lists them all).
WARNINGS_SHOWN = 50


def _report_warnings(findings: list[Finding]) -> None:
    """The warnings of a translation that was written: with ``--accept-losses`` they say why each record left
    out is missing (the losses point at them)."""
    warnings = [f for f in findings if f.severity is Severity.WARNING]
    for finding in warnings[:WARNINGS_SHOWN]:
        err.print(f"warning: {finding.rule} {finding.location.render()}: {finding.message}", markup=False)
    if len(warnings) > WARNINGS_SHOWN:
        err.print(f"warning: {len(warnings) - WARNINGS_SHOWN} more (--json lists every finding)", markup=False)


def _target_medium(medium: str | None, output: Path | None) -> Medium:
    """The output medium: named, else from the output's name (a folder or archive: CSV), else JSON."""
    if medium:
        return Medium(medium.lower())
    if output is not None:
        return Medium.from_name(output, default=Medium.CSV if is_folder_or_archive(output) else None)
    return Medium.JSON


def _refused(exc: CarbonlinkError, as_json: bool) -> typer.Exit:
    """Exit 2 for input carbonlink cannot read or recognise: the error as JSON on stdout with ``--json``."""
    if as_json and isinstance(exc, InputError | UnknownFormat):
        write_json({"valid": False, "error": {"code": exc.code, "message": exc.message}, "findings": []})
        return typer.Exit(EXIT_USAGE)
    return fail(exc)


def _report_losses(losses: list[Loss], as_json: bool) -> None:
    if as_json:
        return
    for loss in losses:
        err.print(f"loss: {loss.field}: {loss.reason} (records {', '.join(loss.records[:10])}"
                  f"{' ...' if len(loss.records) > 10 else ''})", markup=False)


def _apx_date_order(source: str, order: str | None) -> AbstractContextManager[object]:
    """The standards options with ``--date-order`` in force (APX input only), else nothing changed."""
    if order is None:
        return nullcontext()
    if source != "apx":
        raise usage_error(f"--date-order applies to APX input; it does not apply to --from {source}")
    if order.lower() not in ("mdy", "dmy"):
        raise usage_error(f"--date-order {order!r}: use mdy (month first) or dmy (day first)")
    chosen: Literal["mdy", "dmy"] = "mdy" if order.lower() == "mdy" else "dmy"
    return standards.use_options(standards.current_options().model_copy(update={"apx_date_order": chosen}))


def configured_catalog(source: str, target: str, profile: Path | None, accept_losses: bool,
                       xlsx_layout: str | None, lenient: bool, vocabulary_map: str | None = None,
                       ) -> AdapterCatalog | None:
    """The catalogue with the source and target codecs configured by the command's options, or None for the
    default: an ``aef`` source read leniently; a ``cadt-v1`` target with the operator profile and accepting
    losses; an ``aef`` target with its workbook layout."""
    if profile is not None and target not in ("cadt-v1", "cadt-v2"):
        raise usage_error(f"--profile applies to CAD Trust output; it does not apply to --to {target}")
    if xlsx_layout is not None and target != "aef":
        raise usage_error(f"--xlsx-layout applies to AEF output; it does not apply to --to {target}")
    if lenient and source != "aef":
        raise usage_error(f"--lenient applies to AEF input; it does not apply to --from {source}")
    configured: dict[str, RegistryAdapter] = {}
    if vocabulary_map is not None:
        if "aef-draft" not in (source, target):
            raise usage_error("--vocabulary-map applies to the draft AEF (aef-draft) as --from or --to")
        configured["aef-draft"] = AefDraftCodec(vocabulary=VocabularyMap.load(vocabulary_map))
    if target == "cadt-v1" and (profile is not None or accept_losses):
        from standards.cadt.codec import CadtV1Codec
        from standards.cadt.operator import load_operator_profile
        from standards.cadt.picklists import resolve

        operator = load_operator_profile(profile, resolve("v1")) if profile is not None else None
        configured[target] = CadtV1Codec(operator=operator, accept_losses=accept_losses)
    if target == "cadt-v2" and (profile is not None or accept_losses):
        from standards.cadt.codec import CadtV2Codec
        from standards.cadt.operator import load_operator_profile
        from standards.cadt.picklists import resolve

        operator = load_operator_profile(profile, resolve("v1")) if profile is not None else None
        configured[target] = CadtV2Codec(operator=operator, accept_losses=accept_losses)
    if lenient or xlsx_layout is not None:
        configured["aef"] = AefCodec(xlsx_layout=xlsx_layout or "carbonlink", lenient=lenient)
    if not configured:
        return None
    base = default_catalog()
    return AdapterCatalog(adapters={**base.adapters, **configured}, distributions=dict(base.distributions))


def _report_failure(findings: list[Finding], message: str, as_json: bool, *, losses: list[Loss] | None = None,
                    ) -> None:
    if as_json:
        report: dict[str, Any] = {"valid": False, "message": message, "findings": [f.as_dict() for f in findings]}
        if losses is not None:
            report["losses"] = [loss.as_dict() for loss in losses]
        write_json(report)
    else:
        _print_findings(findings)
        err.print(f"carbonlink: {message}", markup=False)


def rules_command(
    format_name: Annotated[str | None, typer.Option(
        "--format", "-f", metavar="FORMAT", help="Only this format's rules.")] = None,
    standard: DeprecatedStandardOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalogue as JSON.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/rules.md.")] = False,
) -> None:
    """List every validation rule: id, severity, layer, title and the clause it enforces."""
    only = chosen_format(format_name, standard, None)
    catalogues = [c for c in _catalogues(default_catalog()) if only in (None, c.format)]
    # "format" is the format's name; "standard" is its old key, kept for the scripts that read it.
    rows = [{"rule": r.id, "format": r.format, "standard": r.format, "severity": r.severity.value,
             "layer": r.layer.value, "title": r.title, "reference": r.reference} for c in catalogues for r in c]
    if as_json:
        write_json(rows, indent=2)
        return
    if markdown:
        sys.stdout.write(rules_markdown(rows))
        return
    rules_table = table([identifier("rule"), identifier("severity"), identifier("layer"), text("title"),
                     text("reference")])
    for r in rows:
        rules_table.add_row(r["rule"], r["severity"], r["layer"], r["title"], r["reference"])
    print_table(rules_table)
    out.print(f"{len(rows)} rules")


def rules_markdown(rows: list[dict[str, str]]) -> str:
    """The rule catalogue as the Markdown page docs/rules.md."""
    lines = ["# Rule catalogue", "",
             "Every check carbonlink runs, by format, as `carbonlink rules --markdown` prints it (a test keeps",
             "this page in step). Severities are the defaults. Layers run in the order structure, code-list,",
             "field, cross-record; a record that fails a layer skips the later ones.", ""]
    for name in sorted({r["format"] for r in rows}):
        lines += [f"## {name}", "", "| rule | severity | layer | what it checks | reference |", "|---|---|---|---|---|"]
        lines += [f"| `{r['rule']}` | {r['severity']} | {r['layer']} | {r['title']} | {r['reference']} |"
                  for r in rows if r["format"] == name]
        lines.append("")
    return "\n".join(lines)


def formats_command(as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
                    ) -> None:
    """List every format (built-in and plugin adapters) with version and capabilities."""
    catalog = default_catalog()
    # "reads"/"writes": record kinds; "sends"/"receives": the message kinds the gateway derives from them
    rows = [{"name": a.name, "version": a.version, "description": a.description,
             "distribution": catalog.distributions.get(a.name, ""),
             "media": [m.value for m in a.media], "reads": sorted(k.value for k in a.reads),
             "writes": sorted(k.value for k in a.writes),
             "sends": sorted(k.value for k in carried_kinds(a.reads)),
             "receives": sorted(k.value for k in carried_kinds(a.writes))} for a in catalog]
    problems = [{"entry_point": p.entry_point, "problem": p.message} for p in catalog.problems]
    if as_json:
        write_json({"formats": rows, "problems": problems}, indent=2)
        return
    formats_table = table([identifier("format"), identifier("version"), listing("media"), listing("reads"),
                     listing("writes"), text("description")])
    for r in rows:
        formats_table.add_row(str(r["name"]), str(r["version"]), ", ".join(r["media"]), ", ".join(r["reads"]),
                        ", ".join(r["writes"]), str(r["description"]))
    print_table(formats_table)
    for p in problems:
        err.print(f"adapter not loaded: {p['entry_point']}: {p['problem']}", markup=False)


def run_examples() -> int:
    """Validate and translate the bundled example files (the README's first command)."""
    examples = resources.files("standards") / "examples"
    plan = [("aef-v2-report.json", "aef", "cadt-v2"), ("cadt-v2-aef.json", "cadt-v2", "aef")]
    worst = EXIT_OK
    for filename, source, target in plan:
        ref = examples / filename
        data = ref.read_bytes()
        medium = Medium.from_name(filename)
        report = default_catalog().get(source).validate(data, medium=medium)
        out.print(f"[bold]{filename}[/]: {'valid' if report.valid else 'INVALID'} as {source} "
                  f"({report.records} records, {len(report.findings)} findings)")
        _print_findings(report.findings)
        try:
            result = translate(data, source=source, target=target, source_medium=medium,
                               target_medium=Medium.JSON)
        except CarbonlinkError as exc:
            err.print(f"  translation to {target} failed: {exc}", markup=False)
            worst = EXIT_FINDINGS
            continue
        out.print(f"  -> {target}: {len(result.output.data)} bytes, {len(result.losses)} losses, "
                  f"{len(result.target_findings)} target findings")
        for loss in result.losses:
            out.print(f"     loss: {loss.field}: {loss.reason}", markup=False)
    return worst


def register(app: typer.Typer) -> None:
    """Add the translation commands to ``app``."""
    app.command("validate")(validate_command)
    app.command("translate")(translate_command)
    app.command("rules")(rules_command)
    app.command("formats")(formats_command)
