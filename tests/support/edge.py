"""The standards and adapters options as the edge hands them down: a settings tree built from given
``CARBONLINK_*`` variables (never the process environment), its ``translation`` section in force.

Tests of a lower layer use this instead of setting environment variables, which that layer no
longer reads: ``edge_env.setenv("CARBONLINK_MAX_INPUT_BYTES", "64")`` does what the CLI or the
gateway app would do with that variable set."""

from __future__ import annotations

from contextlib import ExitStack

from gateway.settings import CarbonlinkSettings


class EdgeEnvironment:
    """Variables given one by one; after each, the tree built from all of them so far is in force."""

    def __init__(self) -> None:
        self.variables: dict[str, str] = {}
        self._in_force = ExitStack()

    def setenv(self, name: str, value: str) -> CarbonlinkSettings:
        self.variables[name] = value
        settings = CarbonlinkSettings.from_environ(self.variables)
        self._in_force.enter_context(settings.translation.in_force())
        return settings

    def close(self) -> None:
        """Restore the options in force before the first variable."""
        self._in_force.close()
