"""Date formats in mappings: Excel-style tokens compiled to parsers and writers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

# --------------------------------------------------------------------------- date formats

_TOKEN_RE = re.compile(r"yyyy|yy|mmmm|mmm|mm|m|dd|d|hh|h|ss|s|[^ymdhs]+|.", re.IGNORECASE)


_STRFTIME = {"yyyy": "%Y", "yy": "%y", "mmmm": "%B", "mmm": "%b", "mm": "%m", "m": "%m", "dd": "%d", "d": "%d",
             "hh": "%H", "h": "%H", "ss": "%S", "s": "%S"}


@dataclass(frozen=True, slots=True)
class DateFormat:
    """A date format given Excel-style (``dd/mm/yyyy``) or as strftime (``%d/%m/%Y``)."""

    text: str
    strptime: str
    tokens: tuple[str, ...]
    has_time: bool
    #: A regular expression for all-numeric formats, much faster than ``strptime``.
    fast: re.Pattern[str] | None = None

    @classmethod
    def compile(cls, text: str) -> DateFormat:
        if "%" in text:
            has_time = any(t in text for t in ("%H", "%I", "%M", "%S", "%T", "%X"))
            fmt = cls(text, text, (), has_time)
        else:
            raw = [m.group(0) for m in _TOKEN_RE.finditer(text)]
            tokens: list[str] = [t.lower() if t.lower() in _STRFTIME else "LIT:" + t for t in raw]
            codes = [i for i, t in enumerate(tokens) if not t.startswith("LIT:")]
            for pos, i in enumerate(codes):
                if tokens[i] not in ("mm", "m"):
                    continue
                before = tokens[codes[pos - 1]] if pos > 0 else ""
                after = tokens[codes[pos + 1]] if pos + 1 < len(codes) else ""
                if before in ("hh", "h") or after in ("ss", "s"):
                    tokens[i] = "MINUTE"
            parts = []
            for tok in tokens:
                if tok == "MINUTE":
                    parts.append("%M")
                elif tok.startswith("LIT:"):
                    parts.append(tok[4:].replace("%", "%%"))
                else:
                    parts.append(_STRFTIME[tok])
            has_time = any(t in ("hh", "h", "MINUTE", "ss", "s") for t in tokens)
            fmt = cls(text, "".join(parts), tuple(tokens), has_time, _fast_pattern(tokens))
        sample = datetime(2031, 11, 27, 13, 45, 56) if fmt.has_time else datetime(2031, 11, 27)
        try:
            back = fmt.parse(fmt.format(sample))
        except (ValueError, re.error, TypeError):
            back = None
        if back != sample:
            raise ValueError(f"{text!r} is not a usable date format (it must show day, month and year once)")
        return fmt

    @property
    def excel_number_format(self) -> str:
        """The Excel number format used when writing real date cells."""
        if self.tokens:
            return self.text
        return "yyyy-mm-dd hh:mm:ss" if self.has_time else "yyyy-mm-dd"

    def parse(self, text: str) -> datetime:
        if self.fast is not None:
            match = self.fast.fullmatch(text)
            if match is None:
                raise ValueError(f"{text!r} does not match {self.text}")
            parts = match.groupdict()
            return datetime(int(parts["Y"]), int(parts["m"]), int(parts["d"]), int(parts.get("H") or 0),
                            int(parts.get("M") or 0), int(parts.get("S") or 0))
        return datetime.strptime(text, self.strptime)

    def format(self, value: datetime | date) -> str:
        if not self.tokens:
            return value.strftime(self.strptime)
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        out = []
        for tok in self.tokens:
            if tok.startswith("LIT:"):
                out.append(tok[4:])
            elif tok == "MINUTE":
                out.append(f"{moment.minute:02d}")
            elif tok in ("m", "d", "h", "s"):
                out.append(str({"m": moment.month, "d": moment.day, "h": moment.hour, "s": moment.second}[tok]))
            else:
                out.append(moment.strftime(_STRFTIME[tok]))
        return "".join(out)


_FAST = {"yyyy": r"(?P<Y>\d{4})", "mm": r"(?P<m>\d{1,2})", "m": r"(?P<m>\d{1,2})", "dd": r"(?P<d>\d{1,2})",
         "d": r"(?P<d>\d{1,2})", "hh": r"(?P<H>\d{1,2})", "h": r"(?P<H>\d{1,2})", "MINUTE": r"(?P<M>\d{1,2})",
         "ss": r"(?P<S>\d{1,2})", "s": r"(?P<S>\d{1,2})"}


def _fast_pattern(tokens: list[str]) -> re.Pattern[str] | None:
    """A regex for formats made only of numeric codes and literals (the same text ``strptime`` takes)."""
    parts = []
    for tok in tokens:
        if tok.startswith("LIT:"):
            parts.append(re.escape(tok[4:]))
        elif tok in _FAST:
            parts.append(_FAST[tok])
        else:
            return None
    try:
        pattern = re.compile("".join(parts))
    except re.error:
        return None
    return pattern if {"Y", "m", "d"} <= set(pattern.groupindex) else None
