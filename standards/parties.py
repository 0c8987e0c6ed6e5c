"""Party codes: ISO 3166-1 alpha-3, converted from alpha-2 and names with pycountry.

The AEF identifies Parties by alpha-3, with reserved codes such as ``EUE`` for the European
Union; CAD Trust uses country names and its examples alpha-2. :func:`to_alpha3` accepts all
three and says which form it saw. Names are also read as registries spell them: pycountry's names
with the comma of an inverted name left out (``Tanzania United Republic of``), and the shared data
table ``standards/data/country_spellings.json`` for the rest.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from importlib import resources

import pycountry

from standards.errors import InvalidValue

#: Reserved, non-ISO Party codes accepted as alpha-3 (code -> name, alpha-2 alias).
RESERVED_PARTIES: dict[str, tuple[str, str | None]] = {
    "EUE": ("European Union", "EU"),
}

#: The shared table of country spellings registries use that pycountry does not resolve (data, extendable).
SPELLINGS_FILE = resources.files("standards") / "data" / "country_spellings.json"


def normalized_name(text: str) -> str:
    """A country name for matching: accents, case, punctuation and repeated spaces ignored."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain.casefold()).split())


@lru_cache(maxsize=1)
def registry_spellings() -> dict[str, str]:
    """The data table of registry spellings, keyed by :func:`normalized_name`."""
    table = json.loads(SPELLINGS_FILE.read_text(encoding="utf-8"))["spellings"]
    return {normalized_name(name): str(code) for name, code in table.items()}


@lru_cache(maxsize=1)
def _pycountry_names() -> dict[str, str]:
    """Every pycountry name (short, official, common), also comma-inverted ("Korea, Republic of" is read
    as "Korea Republic of" and "Republic of Korea"), keyed by :func:`normalized_name`."""
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            name = getattr(country, attr, None)
            if not name:
                continue
            forms = [name]
            if ", " in name:
                head, tail = name.split(", ", 1)
                forms.append(f"{tail} {head}")
            for form in forms:
                names.setdefault(normalized_name(form), str(country.alpha_3))
    return names


def _name_to_alpha3(text: str) -> str | None:
    key = normalized_name(text)
    found = registry_spellings().get(key)
    if found is not None:
        return found
    for candidate in (text, text.split(" (")[0]):
        try:
            return str(pycountry.countries.lookup(candidate).alpha_3)
        except LookupError:
            continue
    return _pycountry_names().get(key) or _pycountry_names().get(key.removeprefix("the "))


class UnknownParty(InvalidValue):
    """The value names no ISO 3166-1 country and no reserved Party code."""

    code = "PARTY.UNKNOWN"


def party_codes() -> frozenset[str]:
    """Every code :func:`is_alpha3` accepts: the ISO 3166-1 alpha-3 codes and the reserved Party codes."""
    return frozenset(c.alpha_3 for c in pycountry.countries) | frozenset(RESERVED_PARTIES)


def is_alpha3(code: str) -> bool:
    """True when ``code`` is an ISO 3166-1 alpha-3 code or a reserved Party code."""
    return _alpha3_known(code)


@lru_cache(maxsize=1024)
def _alpha3_known(code: str) -> bool:
    if code in RESERVED_PARTIES:
        return True
    if len(code) != 3 or not code.isupper():
        return False
    return pycountry.countries.get(alpha_3=code) is not None


@lru_cache(maxsize=4096)
def to_alpha3(value: str) -> tuple[str, str]:
    """Return ``(alpha3, form)`` where form is ``alpha-3``, ``alpha-2`` or ``name``.

    Raises :class:`UnknownParty` when the value cannot be resolved.
    """
    text = value.strip()
    if not text:
        raise UnknownParty("empty Party code")
    upper = text.upper()
    if len(text) == 3 and _alpha3_known(upper):
        return upper, "alpha-3"
    if len(text) == 2:
        for code, (_name, alpha2) in RESERVED_PARTIES.items():
            if alpha2 == upper:
                return code, "alpha-2"
        country = pycountry.countries.get(alpha_2=upper)
        if country is not None:
            return str(country.alpha_3), "alpha-2"
        raise UnknownParty(f"{value!r} is not an ISO 3166-1 alpha-2 code")
    found = _name_to_alpha3(text)
    if found is not None:
        return found, "name"
    raise UnknownParty(f"{value!r} is not a known country name or ISO 3166-1 code")


@lru_cache(maxsize=1024)
def party_name(alpha3: str) -> str:
    """The ISO short name of a Party (or the reserved code's name)."""
    if alpha3 in RESERVED_PARTIES:
        return RESERVED_PARTIES[alpha3][0]
    country = pycountry.countries.get(alpha_3=alpha3)
    if country is None:
        raise UnknownParty(f"{alpha3!r} is not an ISO 3166-1 alpha-3 code")
    return str(country.name)


@lru_cache(maxsize=1024)
def to_alpha2(alpha3: str) -> str:
    """The alpha-2 form of an alpha-3 Party code (``EU`` for ``EUE``)."""
    if alpha3 in RESERVED_PARTIES:
        alpha2 = RESERVED_PARTIES[alpha3][1]
        if alpha2 is None:
            raise UnknownParty(f"{alpha3!r} has no alpha-2 form")
        return alpha2
    country = pycountry.countries.get(alpha_3=alpha3)
    if country is None:
        raise UnknownParty(f"{alpha3!r} is not an ISO 3166-1 alpha-3 code")
    return str(country.alpha_2)


def alpha2_or_none(alpha3: str | None) -> str | None:
    """:func:`to_alpha2`, or None for no Party or one without an alpha-2 form."""
    if alpha3 is None:
        return None
    try:
        return to_alpha2(alpha3)
    except UnknownParty:
        return None
