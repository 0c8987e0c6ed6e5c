"""The ``carbonlink`` command line.

Each area registers its own commands: :mod:`gateway.cli.translation` (validate, translate,
rules, formats) and :mod:`gateway.cli.trust` (serve, directory). Run without a command, it runs
the main job on the embedded defaults.
"""

from __future__ import annotations

import os
import sys

import typer

from gateway.cli import evidence, sandbox, transfers, translation, trust
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
    if ctx.invoked_subcommand is None:
        raise typer.Exit(translation.run_examples())


translation.register(app)
trust.register(app)
sandbox.register(app)
evidence.register(app)
transfers.register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``carbonlink`` script; returns the exit code."""
    try:
        app(args=argv if argv is not None else sys.argv[1:], prog_name="carbonlink", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    except CarbonlinkError as exc:
        print(f"carbonlink: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if os.environ.get("CARBONLINK_DEBUG"):
            raise
        print(f"carbonlink: INTERNAL: {type(exc).__name__}: {exc} (set CARBONLINK_DEBUG=1 for details)",
              file=sys.stderr)
        return 2
    return 0
