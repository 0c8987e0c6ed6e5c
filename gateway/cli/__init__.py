"""The ``carbonlink`` command line.

Each area registers its own commands: :mod:`gateway.cli.translation` (validate, translate,
rules, formats), :mod:`gateway.cli.trust` (serve, directory, keys), :mod:`gateway.cli.sandbox`,
:mod:`gateway.cli.evidence` and :mod:`gateway.cli.transfers` (demo). What they share (exit codes,
consoles, one-line failures, tables, the settings tree the CLI reads) lives in ``gateway.cli._common``.
The root callback reads the settings tree once per command and puts its ``translation`` section in
force (``standards``/``adapters`` options) for the whole command.
Run without a command, it validates and translates the bundled example files.
"""

from __future__ import annotations

import sys

import typer

from gateway.cli import (
    approvals,
    conformance,
    console,
    evidence,
    feeds,
    governance,
    mrv,
    policy,
    sandbox,
    title,
    transfers,
    translation,
    trust,
)
from gateway.cli._common import EXIT_OK, EXIT_USAGE, cli_settings, fail
from standards.errors import CarbonlinkError

app = typer.Typer(
    name="carbonlink",
    help="Interoperability gateway and message-standard broker for carbon-market registries.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context) -> None:
    """Without a command: validate and translate the bundled example files."""
    try:
        settings = cli_settings()
    except CarbonlinkError as exc:
        raise fail(exc) from exc
    ctx.with_resource(settings.translation.in_force())
    if ctx.invoked_subcommand is None:
        raise typer.Exit(translation.run_examples())


translation.register(app)
trust.register(app)
sandbox.register(app)
evidence.register(app)
transfers.register(app)
conformance.register(app)
feeds.register(app)
console.register(app)
governance.register(app)
policy.register(app)
approvals.register(app)
title.register(app)
mrv.register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``carbonlink`` script; returns the exit code."""
    try:
        app(args=argv if argv is not None else sys.argv[1:], prog_name="carbonlink", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
    except CarbonlinkError as exc:
        print(f"carbonlink: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if _debugging():
            raise
        print(f"carbonlink: INTERNAL: {type(exc).__name__}: {exc} (set CARBONLINK_DEBUG=1 for details)",
              file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _debugging() -> bool:
    """CARBONLINK_DEBUG set: let an unexpected error end with its traceback."""
    try:
        return cli_settings().cli.debug
    except CarbonlinkError:
        return False
