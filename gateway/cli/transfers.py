"""``carbonlink demo``: a transfer through the gateway between two sandbox registries."""

from __future__ import annotations

from typing import Annotated

import typer


def demo_command(
    sender_format: Annotated[str, typer.Option(help="Format the sending registry speaks.")] = "aef",
    receiver_format: Annotated[str, typer.Option(help="Format the receiving registry speaks.")] = "spreadsheet",
    quantity: Annotated[int, typer.Option(min=1, max=50_000, help="ITMOs to transfer.")] = 20_000,
    console: Annotated[bool, typer.Option("--console/--no-console",
                                          help="Afterwards keep the gateway running with its operator console "
                                               "on the demo's traffic until Ctrl-C (prints its URL and the "
                                               "development login).")] = False,
    mrv: Annotated[bool, typer.Option("--mrv", help="Run the MRV chain instead: monitoring report, verification, "
                                                    "issuance, then a first transfer of the issued units (docs/mrv.md)"
                                      )] = False,
) -> None:
    """Start a gateway and two sandbox registries on loopback and send one transfer through."""
    from gateway.demo import run_demo

    if mrv:
        from gateway.demo_mrv import run_mrv_demo

        raise typer.Exit(run_mrv_demo())

    raise typer.Exit(run_demo(sender_format=sender_format, receiver_format=receiver_format, quantity=quantity,
                              console=console))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
