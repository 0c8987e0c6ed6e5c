"""DES code lists as data (``codes.json``): names for transaction types, unit types, statuses, codes.

The lists come from the ITL WSDLs and code lists of the UK ETS registry
(github.com/UKGovernmentBEIS/ukets-registry, ``uk-ets-itl-commons``), a registry that was connected
to the ITL. Where a fact is uncertain (response-code ranges, ``partyType`` values, the special
registry codes) the data file says so, and a deployment can point
:attr:`standards.Options.des_code_lists` (``CARBONLINK_DES_CODELISTS`` at the edge) at its own copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pycountry

from standards._options import current_options
from standards.errors import MalformedInput

#: The variable the edge reads into :attr:`standards.Options.des_code_lists`.
ENV_VAR = "CARBONLINK_DES_CODELISTS"


@dataclass(frozen=True, slots=True)
class TransactionType:
    code: int
    name: str
    canonical: str
    approximate: bool


@dataclass(frozen=True)
class CodeLists:
    """The DES code lists, loaded from one JSON document."""

    raw: dict[str, Any]
    _tables: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def load(cls, path: str | Path | None = None) -> CodeLists:
        """Load a code-list file; the packaged one when ``path`` is None."""
        if path is None:
            text = (resources.files("standards.des") / "codes.json").read_text(encoding="utf-8")
        else:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise MalformedInput(f"cannot read DES code lists {path}: {exc.strerror}") from exc
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise MalformedInput(f"DES code lists {path} are not valid JSON: {exc}") from exc
        return cls(raw)

    def _table(self, key: str) -> dict[str, Any]:
        """A code table without its ``_``-prefixed notes (computed once per key)."""
        table = self._tables.get(key)
        if table is None:
            table = {k: v for k, v in self.raw.get(key, {}).items() if not k.startswith("_")}
            self._tables[key] = table
        return table

    def transaction_type(self, code: int) -> TransactionType | None:
        entry = self._table("transactionTypes").get(str(code))
        if entry is None:
            return None
        return TransactionType(code, entry["name"], entry["canonical"], bool(entry.get("approximate")))

    def transaction_type_for(self, canonical: str) -> int | None:
        """The exact (not approximate) DES transaction type of a canonical action type."""
        for code, entry in self._table("transactionTypes").items():
            if entry["canonical"] == canonical and not entry.get("approximate"):
                return int(code)
        return None

    def supp_transaction_type(self, primary: int, supp: int) -> str | None:
        for entry in self.raw.get("suppTransactionTypes", []):
            if entry["primary"] == primary and entry["supp"] == supp:
                return str(entry["name"])
        return None

    def unit_type(self, code: int) -> str | None:
        name = self._table("unitTypes").get(str(code))
        return None if name is None else str(name)

    def unit_type_code(self, name: str) -> int | None:
        for code, known in self._table("unitTypes").items():
            if known.casefold() == name.strip().casefold():
                return int(code)
        return None

    def needs_project(self, unit_type: int) -> bool:
        return unit_type in self.raw.get("projectUnitTypes", [])

    def supp_unit_type(self, primary: int, supp: int) -> str | None:
        for entry in self.raw.get("suppUnitTypes", []):
            if entry["primary"] == primary and entry["supp"] == supp:
                return str(entry["name"])
        return None

    def commitment_period(self, code: int) -> tuple[str, int, int] | None:
        entry = self._table("commitmentPeriods").get(str(code))
        if entry is None:
            return None
        return str(entry["name"]), int(entry["first"]), int(entry["last"])

    def lulucf_activity(self, code: int) -> str | None:
        return self._name("lulucfActivities", code)

    def track(self, code: int) -> str | None:
        return self._name("tracks", code)

    def account_type(self, code: int) -> str | None:
        return self._name("accountTypes", code)

    def party_type(self, code: int) -> str | None:
        return self._name("partyTypes", code)

    def transaction_status(self, code: int) -> tuple[str, str] | None:
        """``(name, canonical unit status)`` of a transaction status code."""
        entry = self._table("transactionStatuses").get(str(code))
        if entry is None:
            return None
        return str(entry["name"]), str(entry["unitStatus"])

    def is_final_status(self, code: int) -> bool:
        return code in self.raw.get("finalTransactionStatuses", [])

    def response_code(self, code: int) -> tuple[str | None, str | None] | None:
        """``(meaning, range name)`` of a response code; None when it is in no list and no range."""
        table = self._table("responseCodes")
        meaning = table.get(str(code))
        range_name = None
        for entry in self.raw.get("responseCodeRanges", []):
            if entry["first"] <= code <= entry["last"]:
                range_name = str(entry["name"])
                break
        if str(code) not in table and range_name is None:
            return None
        return (None if meaning is None else str(meaning)), range_name

    def is_registry_code(self, code: str) -> bool:
        """An ISO 3166-1 alpha-2 code or one of the configured special registry codes."""
        special = self.raw.get("registryCodes", {}).get("special", [])
        if code in special:
            return True
        if len(code) != 2:
            return False
        return pycountry.countries.get(alpha_2=code) is not None

    def _name(self, key: str, code: int) -> str | None:
        name = self._table(key).get(str(code))
        return None if name is None else str(name)


def default_code_lists() -> CodeLists:
    """The code lists in use: :attr:`standards.Options.des_code_lists` if set, else the packaged file."""
    return _code_lists(current_options().des_code_lists)


@lru_cache(maxsize=8)
def _code_lists(path: Path | None) -> CodeLists:
    """Each file is read once per process (keyed on the option, never on the environment)."""
    return CodeLists.load(path)
