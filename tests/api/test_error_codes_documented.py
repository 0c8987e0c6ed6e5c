"""Every error code the gateway, its sandbox registry or the formats under them can answer with is
documented: it appears, spelled out, in one of the documents below.

The codes are collected from the source: ``code = "..."`` of every error class and ``code="..."`` of every
raise (gateway, standards, adapters; the command line's and the client library's own codes excepted), and
the JOSE families (``DPOP.*``, ``TOKEN.*``, ``CLIENT.ASSERTION_*``, ...) expanded with every reason the strict
JOSE layer gives (:class:`gateway.trust.errors.JwsRejected`)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ("docs/trust.md", "docs/transfers.md", "docs/sandbox.md", "docs/evidence.md", "docs/reliability.md",
             "docs/feeds.md", "docs/console.md", "docs/governance.md", "docs/mrv.md")
#: Codes of the command line and of the client library: printed on a terminal or raised in the caller's
#: process, never answered by the gateway (docs/cli.md and gateway/client.py name them). The CAD Trust
#: operator profile is read by ``carbonlink translate --profile`` only (docs/cadtrust.md names its code), and
#: the translation pipeline's record-loss refusals only by ``carbonlink translate`` (README.md names them).
NOT_ANSWERED = ("gateway/cli/", "gateway/client.py", "gateway/sandbox/client.py", "standards/cadt/operator.py",
                "adapters/translate.py")
SOURCES = ("gateway", "standards", "adapters")

_ATTRIBUTE = re.compile(r'^\s+code\s*(?::\s*str\s*)?=\s*"([A-Z][A-Z0-9_]*\.[A-Z0-9_.]+)"', re.M)
_KEYWORD = re.compile(r'code=\s*"([A-Z][A-Z0-9_]*\.[A-Z0-9_.]+)"')
_FAMILY = re.compile(r'code=\s*f"([A-Z][A-Z0-9_]*\.[A-Z0-9_]*)\{exc\.reason\}"')
_REASON = re.compile(r'JwsRejected\(\s*"([A-Z_]+)"')


def _sources() -> list[tuple[str, str]]:
    found = []
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if not name.startswith(NOT_ANSWERED):
                found.append((name, path.read_text(encoding="utf-8")))
    return found


def answerable_codes() -> dict[str, str]:
    """Every code with the first file that raises or declares it."""
    sources = _sources()
    reasons = {reason for _, text in sources for reason in _REASON.findall(text)} | {"B64"}
    codes: dict[str, str] = {}
    for name, text in sources:
        for code in [*_ATTRIBUTE.findall(text), *_KEYWORD.findall(text)]:
            codes.setdefault(code, name)
        for family in _FAMILY.findall(text):
            for reason in reasons:
                codes.setdefault(family + reason, name)
    return codes


def test_the_collection_finds_the_codes_the_issue_named() -> None:
    codes = answerable_codes()
    for code in ("TRANSFER.MESSAGE_ID_INVALID", "OAUTH.CONTENT_TYPE", "OAUTH.INVALID_SCOPE", "DPOP.NONCE_STALE",
                 "CLIENT.ASSERTION_KEY", "HTTP.INVALID_REQUEST", "FORMAT.UNKNOWN", "AEF.JSON_SHAPE",
                 "HTTP.CONTENT_TYPE", "INPUT.JSON_NUMBER", "SANDBOX.SIGNATURE_SIGNATURE"):
        assert code in codes, code
    assert len(codes) > 150


def test_every_code_the_gateway_can_answer_is_documented() -> None:
    text = "\n".join((ROOT / doc).read_text(encoding="utf-8") for doc in DOCUMENTS if (ROOT / doc).exists())
    documented = set(re.findall(r"[A-Z][A-Z0-9_]*\.[A-Z0-9_]+", text))
    missing = {code: where for code, where in answerable_codes().items() if code not in documented}
    assert not missing, "undocumented codes (add them to an error table):\n" + "\n".join(
        f"{code}  ({where})" for code, where in sorted(missing.items()))


def test_the_error_tables_name_no_code_that_does_not_exist() -> None:
    known = set(answerable_codes())
    source = "\n".join(text for _, text in _sources())
    for doc in ("docs/trust.md", "docs/transfers.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        table = text.split("rror codes\n", 1)[1].split("\n## ", 1)[0]
        named = set(re.findall(r"`([A-Z][A-Z0-9_]*\.[A-Z0-9_]+)`", table))
        invented = {code for code in named if code not in known and f'"{code}"' not in source}
        assert not invented, (doc, sorted(invented))
