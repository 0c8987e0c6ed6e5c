"""The console's coded errors (their HTTP statuses are rows of ``gateway/_status_table.py``)."""

from __future__ import annotations

from standards.errors import CarbonlinkError


class ConsoleError(CarbonlinkError):
    """Something the operator console refused."""

    code = "CONSOLE.ERROR"


class SignedOut(ConsoleError):
    """No console session, or one that expired or was tampered with."""

    code = "CONSOLE.SIGNED_OUT"


class ConsoleForbidden(ConsoleError):
    """The signed-in operator's role does not allow this."""

    code = "CONSOLE.FORBIDDEN"


class CsrfRefused(ConsoleError):
    """A form came without the session's CSRF token, or from another site."""

    code = "CONSOLE.CSRF"


class TicketRefused(ConsoleError):
    """A console login ticket that is malformed, expired, tampered with or already used."""

    code = "CONSOLE.TICKET"


class ConsoleNotFound(ConsoleError):
    """No such message, record or participant (or not one the operator may see)."""

    code = "CONSOLE.NOT_FOUND"


class ConsoleInputInvalid(ConsoleError):
    """A filter or form field the console cannot read."""

    code = "CONSOLE.INPUT"


class DevLoginDisabled(ConsoleError):
    """The development login is off (always in production)."""

    code = "CONSOLE.DEV_LOGIN_DISABLED"
