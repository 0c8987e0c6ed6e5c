"""``registry-endpoint 2026.1``: the suite plays the gateway against a live registry endpoint.

Ordered gates: discovery (JWKS), gateway tokens (missing, forged, alg none, wrong issuer or audience,
expired, replayed jti, hostile header values), the gateway's body signature (missing, garbled - and
the garbled message not recorded), messages (a valid transfer accepted with a signed answer that
verifies, an invalid one refused with a coded reason, a repeated message id answered once) and
timing. Options: :mod:`conformance.kits.registry_endpoint._probe`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from conformance._model import Clause, Progress, Suite, Target, TestResult
from conformance.gates import gated_suite, run_gates
from conformance.kits.registry_endpoint._checks import gates
from conformance.kits.registry_endpoint._probe import RegistryProbe

NAME = "registry-endpoint"
VERSION = "2026.1"
#: Clauses the kit aims at but does not test yet (shown as not covered by the traceability report).
NOT_YET = (Clause("RFC 8705 section 3 (mTLS-bound tokens toward the registry)", NAME),)


def _template() -> RegistryProbe:
    return RegistryProbe.for_target(Target("http://127.0.0.1:1/messages"))


@dataclass(frozen=True)
class RegistryEndpointKit:
    name: str = NAME
    version: str = VERSION
    description: str = ("A live registry endpoint, the suite playing the gateway: tokens, body signatures, "
                        "transfers, signed answers, idempotency, timing (ordered gates)")

    @property
    def suite(self) -> Suite:
        probe = _template()
        try:
            return gated_suite(NAME, "Registry endpoint", gates(probe))
        finally:
            probe.close()

    @property
    def clauses(self) -> Sequence[Clause]:
        seen = {test.clause.id: test.clause for _, test in self.suite.tests()}
        return [*seen.values(), *NOT_YET]

    def run(self, target: Target, progress: Progress | None = None) -> list[TestResult]:
        probe = RegistryProbe.for_target(target)
        try:
            return run_gates(gates(probe), "endpoint", progress)
        finally:
            probe.close()


def kit() -> RegistryEndpointKit:
    return RegistryEndpointKit()
