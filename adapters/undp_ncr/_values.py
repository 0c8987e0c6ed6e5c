"""Value readers and writers for UNDP records: text, numbers, epochs, serials, kept native values and
losses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from adapters.undp_ncr._profile import UndpProfile
from adapters.undp_ncr._rules import R_PARTY, R_REQUIRED, R_SERIAL, R_SHAPE, R_TYPE, SCHEME, UNCONFIGURED_PARTY
from standards import (
    CanonicalDocument,
    Finding,
    InvalidValue,
    Location,
    ParseResult,
    Rule,
    TranslationError,
    UnknownParty,
    alpha2_or_none,
    json_pointer,
    to_alpha3,
)
from standards.serials import InvalidSerial, Serial, parse_serial


class _Bad(InvalidValue):
    """A native value that cannot be read; carries the rule and the JSON pointer tail. Raised and caught
    inside the adapter, where it becomes a finding under ``rule``."""

    def __init__(self, rule: Rule, key: str, message: str) -> None:
        super().__init__(message, code=rule.id)
        self.rule, self.key = rule, key


# ------------------------------------------------------------------------------------ value readers

def _text(value: Any, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Bad(R_TYPE, key, f"{key} must be text or a whole number, not {type(value).__name__}")
    return str(value)


def _number(value: Any, key: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Bad(R_TYPE, key, f"{key} must be a number, not {type(value).__name__}")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise _Bad(R_TYPE, key, f"{key} is {value!r}, which is not a number") from exc
    if not number.is_finite() or number < 0:
        raise _Bad(R_TYPE, key, f"{key} is {value!r}; a credit amount is a finite number of at least 0")
    return number


def _year(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit() \
            or not 1900 <= int(value) <= 2100:
        raise _Bad(R_TYPE, key, f"{key} is {value!r}, which is not a year between 1900 and 2100")
    return int(value)


def _epoch(value: Any, key: str) -> datetime:
    """Epoch seconds or milliseconds (TypeORM returns bigint columns as text)."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise _Bad(R_TYPE, key, f"{key} is {value!r}, which is not an epoch time in milliseconds")
    number = int(value)
    seconds = number / 1000 if number >= 100_000_000_000 else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _Bad(R_TYPE, key, f"{key} is {value!r}, which is no date") from exc


def _epoch_ms(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def _plain_number(number: Decimal) -> int | str:
    return int(number) if number == number.to_integral_value() else format(number, "f")


# ------------------------------------------------------------------------------------ serial parts

@dataclass(frozen=True, slots=True)
class SerialInfo:
    """A UNDP v2 serial with its Parties in alpha-3."""

    serial: Serial
    originating: str | None
    first_transferring: str | None
    placeholder: bool

    @property
    def cooperative_approach(self) -> str:
        return str(self.serial.part("cooperative_approach"))

    @property
    def project(self) -> str:
        return str(self.serial.part("project"))


def _serial(text: Any, key: str) -> SerialInfo:
    if not isinstance(text, str):
        raise _Bad(R_TYPE, key, f"{key} must be text, not {type(text).__name__}")
    try:
        serial = parse_serial(text.strip(), SCHEME)
    except InvalidSerial as exc:
        raise _Bad(R_SERIAL, key, f"{exc.message} (expected CA####-<party>-<party>-<project>-<first>-<last>"
                                  "-<vintage>, e.g. CA0004-VU-CH-356-3001-5000-2024)") from exc
    return _serial_info(serial, key)


def _serial_info(serial: Serial, key: str) -> SerialInfo:
    """Check a parsed UNDP serial's range and convert its alpha-2 Parties."""
    if serial.first < 1 or serial.last < serial.first:
        raise _Bad(R_SERIAL, key, f"serial {serial} has the range {serial.first}-{serial.last}; the first unit "
                                  "must be at least 1 and not after the last")
    parties: list[str | None] = []
    placeholder = False
    for part in ("originating_party", "first_transferring_party"):
        code = str(serial.part(part))
        if code == UNCONFIGURED_PARTY:
            placeholder = True
            parties.append(None)
            continue
        try:
            parties.append(to_alpha3(code)[0])
        except UnknownParty as exc:
            raise _Bad(R_PARTY, key, f"serial {serial}: {code!r} is not an ISO 3166-1 Party code") from exc
    return SerialInfo(serial, parties[0], parties[1], placeholder)


_T = TypeVar("_T")


@dataclass
class _Context:
    """One parse: findings, the project index and the deployment profile."""

    profile: UndpProfile
    findings: list[Finding] = field(default_factory=list)
    authorizations: dict[str, str] = field(default_factory=dict)

    def bad(self, exc: _Bad, pointer: list[str | int], line: int | None = None) -> None:
        self.findings.append(exc.rule.finding(str(exc), Location(pointer=json_pointer([*pointer, exc.key]),
                                                                  line=line)))

    def attempt(self, build: Callable[[], _T], pointer: list[str | int]) -> _T | None:
        """``build()``, or None with a finding when it finds a bad value or the canonical model refuses one."""
        try:
            return build()
        except _Bad as exc:
            self.bad(exc, pointer)
        except ValidationError as exc:
            self.invalid(exc, pointer)
        return None

    def is_object(self, record: object, what: str, pointer: list[str | int]) -> bool:
        """Whether ``record`` is a JSON object; a ``UNDP.SHAPE`` finding when it is not."""
        if isinstance(record, dict):
            return True
        self.findings.append(R_SHAPE.finding(f"{what} must be an object", Location(json_pointer(pointer))))
        return False

    def invalid(self, exc: ValidationError, pointer: list[str | int], line: int | None = None) -> None:
        """A value the canonical model refuses (an empty id, a year out of range)."""
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        self.findings.append(R_TYPE.finding(f"{where}: {first['msg']}", Location(json_pointer(pointer), line=line)))


def _require(record: dict[str, Any], keys: Iterable[str], what: str) -> None:
    for key in keys:
        if record.get(key) is None:
            raise _Bad(R_REQUIRED, key, f"the {what} has no {key}")


class _Refused(TranslationError):
    """A canonical record the UNDP registry cannot hold at all (caught by the writer: a reported loss)."""

    def __str__(self) -> str:
        return self.message  # the text of the reported loss


def _kind(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    if "creditBlockId" in record and "ownerCompanyId" in record:
        return "creditBlocks"
    if "recieverId" in record or ("amount" in record and "status" in record):
        return "transactions"
    if "refId" in record:
        return "projects"
    return None


def _result(document: CanonicalDocument, findings: list[Finding]) -> ParseResult:
    """No partial result: an input with errors gives an empty document and its findings."""
    if any(f.is_error for f in findings):
        return ParseResult(CanonicalDocument(), findings)
    return ParseResult(document, findings)


def _opt_text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    return None if value is None else _text(value, key)


def _native(record: BaseModel) -> dict[str, Any]:
    extra = getattr(record, "extra", {})
    native = extra.get("undp") if isinstance(extra, dict) else None
    return dict(native) if isinstance(native, dict) else {}


def _keep(native: dict[str, Any], key: str, value: Any, parse: Callable[[Any], Any]) -> Any:
    """The native value when it reads as ``value``; otherwise ``value`` itself."""
    if key in native and native[key] is not None:
        try:
            if parse(native[key]) == value:
                return native[key]
        except (TypeError, ValueError):
            pass
    return value


def _keep_number(native: dict[str, Any], key: str, value: Decimal) -> Any:
    try:
        if key in native and Decimal(str(native[key])) == value:
            return native[key]
    except InvalidOperation:
        pass
    return _plain_number(value)


def _put(native: dict[str, Any], key: str, value: str | None, parse: Callable[[Any], Any]) -> None:
    if value is None:
        native.pop(key, None)
    else:
        native[key] = _keep(native, key, value, parse)


def _ordered(native: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    known = {k: native[k] for k in order if k in native}
    return known | {k: v for k, v in native.items() if k not in known}


def _safe_epoch(value: Any) -> datetime | None:
    try:
        return _epoch(value, "time")
    except _Bad:
        return None


def _safe_date(value: Any) -> date | None:
    moment = _safe_epoch(value)
    return None if moment is None else moment.date()


def _safe_party(value: Any) -> str | None:
    try:
        return to_alpha3(str(value))[0]
    except UnknownParty:
        return None


_alpha2 = alpha2_or_none


def _lost_fields(original: BaseModel, read_back: BaseModel) -> list[str]:
    """Canonical fields with a value in ``original`` that reading the written record does not give back."""
    lost: list[str] = []
    for name in type(original).model_fields:
        value = getattr(original, name)
        if value is None or value == {} or value == [] or name == "extra":
            continue
        back = getattr(read_back, name)
        if isinstance(value, BaseModel) and isinstance(back, BaseModel):
            lost += [f"{name}.{sub}" for sub in _lost_fields(value, back)]
        elif value != back:
            lost.append(name)
    extra = getattr(original, "extra", {})
    lost += [f"extra.{key}" for key in extra if key != "undp"]
    return lost
