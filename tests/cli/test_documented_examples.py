"""Every ``carbonlink validate`` / ``carbonlink translate`` example in the README and the adapter docs runs, on the
test fixture of the file it names, and produces real output: ``validate`` finds the file valid (as the format it
names or detects), ``translate`` exits 0 and writes records. A new example naming a file this test cannot place
fails the test, so the table below grows with the docs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
BENCH = ROOT / "bench"

#: document -> (file named in its examples -> fixture, the operator profile its `operator.yaml` stands for)
PLACES: dict[str, tuple[dict[str, str], str | None]] = {
    "README.md": ({"ledger.xlsx": "spreadsheet/itmo-ledger.xlsx", "transactions.csv": "verra/transactions.csv",
                   "projects.csv": "apx/acr-projects.csv", "issuances.csv": "apx/acr-issuances.csv",
                   "retirements.csv": "apx/acr-retirements.csv"}, None),
    "docs/adapters/apx.md": ({"retirements.csv": "apx/acr-retirements.csv", "projects.csv": "apx/acr-projects.csv",
                              "issuances.csv": "apx/acr-issuances.csv"}, "cadt_operator_profile_apx.yaml"),
    "docs/adapters/carb.md": ({"issuance-table.csv": "carb/issuance-table.csv"}, None),
    "docs/adapters/cercarbono.md": ({"retirements.csv": "cercarbono/retirements.csv",
                                     "projects.csv": "cercarbono/projects.csv"},
                                    "cadt_operator_profile_registries.yaml"),
    "docs/adapters/des-xml.md": ({"proposal.xml": "des-xml/proposal-external-transfer.xml",
                                  "archive.xml": "des-xml/batch.xml"}, None),
    "docs/adapters/gold-standard.md": ({"issuances.csv": "gold-standard/issuances.csv"}, None),
    "docs/adapters/isometric.md": ({"projects.csv": "isometric/projects.csv",
                                    "issuances.csv": "isometric/issuances.csv",
                                    "retirements.csv": "isometric/retirements.csv",
                                    "credit-batches.csv": "isometric/credit-batches.csv"},
                                   "cadt_operator_profile_registries.yaml"),
    "docs/adapters/spreadsheet.md": ({"ledger.xlsx": "spreadsheet/itmo-ledger.xlsx"}, None),
    "docs/adapters/undp-ncr.md": ({"blocks.json": "undp-ncr/registry.json",
                                   "aef-actions.csv": "undp-ncr/aef-actions.csv"}, None),
    "docs/adapters/verra.md": ({"transactions.csv": "verra/transactions.csv", "projects.csv": "verra/projects.csv"},
                               "cadt_operator_profile.yaml"),
}
#: README's operator.yaml, per source format
README_PROFILES = {"verra": "cadt_operator_profile.yaml", "apx": "cadt_operator_profile_apx.yaml"}
COMMAND = re.compile(r"carbonlink (?:translate|validate) [^`#\n]*")
ENV = {"CARBONLINK_UNDP_REGISTRY_SUFFIX": "01", "CARBONLINK_UNDP_MITIGATION_TYPE": "Emission reductions"}


def _examples() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for document in PLACES:
        for match in COMMAND.finditer((ROOT / document).read_text(encoding="utf-8")):
            command = match.group(0).strip().rstrip("\\").strip()
            words = command.split()
            if any(w.startswith("FILE") or w.startswith("[") for w in words) or "..." in words or len(words) < 3 \
                    or words[2].startswith("-"):
                continue  # a synopsis or a fragment, not a command to run
            found.append((document, command))
    return found


EXAMPLES = _examples()


def test_the_docs_hold_examples() -> None:
    assert len(EXAMPLES) >= 20 and {d for d, _ in EXAMPLES} == set(PLACES)


@pytest.mark.parametrize(("document", "command"), EXAMPLES, ids=[f"{d}:{c[11:60]}" for d, c in EXAMPLES])
def test_every_documented_example_produces_real_output(tmp_path: Path, document: str, command: str) -> None:
    files, profile = PLACES[document]
    words = shlex.split(command)[1:]
    source = words[words.index("--from") + 1] if "--from" in words else None
    if profile is None and source is not None:
        profile = README_PROFILES.get(source)
    argv: list[str] = []
    output: Path | None = None
    for i, word in enumerate(words):
        previous = words[i - 1] if i else ""
        if previous in ("-o", "--output"):
            output = tmp_path / word
            argv.append(str(output))
        elif word == "operator.yaml":
            assert profile is not None, f"{document}: no operator profile stands for {command}"
            argv.append(str(BENCH / profile))
        elif not word.startswith("-") and previous not in ("--from", "--to", "--format", "--medium") \
                and "." in word and i > 0:
            assert word in files, f"{document}: `{command}` names {word}, which this test cannot place"
            argv.append(str(FIXTURES / files[word]))
        else:
            argv.append(word)
    done = run_cli(*argv, env=ENV)
    assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
    if words[0] == "validate":
        assert " valid as " in done.stdout, done.stdout
    else:
        assert output is not None and output.stat().st_size > 0
        written = re.search(r"\((\d+) of (\d+) records written", done.stderr)
        assert written is not None and int(written.group(1)) > 0, done.stderr
