"""The conformance suite's errors: every one a :class:`~standards.errors.CarbonlinkError` with a code."""

from __future__ import annotations

from standards.errors import CarbonlinkError


class ConformanceError(CarbonlinkError):
    """The suite could not run (a usage problem, a kit that cannot load, a target it cannot reach)."""

    code = "CONFORMANCE.ERROR"


class UnknownKit(ConformanceError):
    """No kit of that name (and version) is installed."""

    code = "CONFORMANCE.UNKNOWN_KIT"


class KitLoadError(ConformanceError):
    """A kit plugin failed to import or does not have the kit shape."""

    code = "CONFORMANCE.KIT_LOAD"


class TargetUnusable(ConformanceError):
    """The target names nothing the kit can run over (no file, no reachable endpoint)."""

    code = "CONFORMANCE.TARGET"


class CaseFileInvalid(ConformanceError):
    """A case file is not valid against the case schema or breaks a lint rule."""

    code = "CONFORMANCE.CASES_INVALID"


class CertificateInvalid(ConformanceError):
    """A certificate does not verify: bad signature, unknown key, expired, or a digest that does not match."""

    code = "CONFORMANCE.CERTIFICATE_INVALID"


class DeviationFileInvalid(ConformanceError):
    """An expected-deviation file is not readable or not of the documented shape."""

    code = "CONFORMANCE.DEVIATIONS_INVALID"


class RunUnknown(ConformanceError):
    """No conformance run of that id belongs to the caller (the gateway's runs route)."""

    code = "CONFORMANCE.RUN_UNKNOWN"


class KitNotServed(ConformanceError):
    """The gateway does not run that kit itself (it needs files or the caller's private key)."""

    code = "CONFORMANCE.KIT_NOT_SERVED"


class CertificateRequired(ConformanceError):
    """The gateway accepts this message kind only from senders holding valid certificates for given kits."""

    code = "CONFORMANCE.CERTIFICATE_REQUIRED"
