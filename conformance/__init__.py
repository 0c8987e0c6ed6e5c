"""The conformance suite: vendors certify that a registry's messages and endpoints are valid.

A *kit* (``aef-messages 2026.1``, ``cadt-v1-messages``, ...) is a versioned tree suite -> group ->
test, each test tracing to a clause; kits are plugins of the ``carbonlink.conformance_kits``
entry-point group (the built-ins are registered the same way). :func:`run_kit` runs one over a
target; :mod:`conformance.reports` writes JSON, JUnit XML and HTML; :mod:`conformance.certificate`
signs and verifies the certificate; :mod:`conformance.cases` holds the suite's own case files and
their lint. See docs/conformance.md.
"""

from conformance._catalog import GROUP, KitCatalog, default_kits
from conformance._model import (
    Clause,
    Group,
    Kit,
    Observation,
    Progress,
    Suite,
    Target,
    TestResult,
    TestSpec,
    Verdict,
)
from conformance._results import RunResult, document_digest
from conformance.errors import ConformanceError
from conformance.run import run_kit
from conformance.trace import traceability

__all__ = [
    "GROUP",
    "Clause",
    "ConformanceError",
    "Group",
    "Kit",
    "KitCatalog",
    "Observation",
    "Progress",
    "RunResult",
    "Suite",
    "Target",
    "TestResult",
    "TestSpec",
    "Verdict",
    "default_kits",
    "document_digest",
    "run_kit",
    "traceability",
]
