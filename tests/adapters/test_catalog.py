"""Adapter discovery through the ``carbonlink.adapters`` entry point group (the adapter catalogue).

A third-party adapter is installed as its own distribution (a real ``.dist-info`` with
``entry_points.txt`` on the path, as pip would lay it out) and found by a separate process.
Broken plugins are reported by name and do not take the others down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from adapters import (
    AdapterCatalog,
    AdapterLoadError,
    NoSuchAdapter,
    Options,
    RegistryAdapter,
    check_adapter,
    default_catalog,
)
from tests.support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]

PLUGIN = '''
from standards.codec import FormatCodec, Medium, RecordKind, ParseResult, SerializeResult
from standards.model import CanonicalDocument, Project


class Acme(FormatCodec):
    name = "acme-registry"
    version = "0.3.1"
    description = "ACME national registry (third-party plugin)"
    reads = frozenset({RecordKind.PROJECTS})
    writes = frozenset({RecordKind.PROJECTS})
    media = (Medium.CSV,)

    def parse(self, data, *, medium):
        ids = [line for line in data.decode().splitlines() if line]
        return ParseResult(CanonicalDocument(projects=[Project(project_id=i) for i in ids]))

    def serialize(self, document, *, medium):
        text = "\\n".join(p.project_id for p in document.projects) + "\\n"
        return SerializeResult(data=text.encode(), medium=medium)


adapter = Acme()


class WrongShape:
    name = "wrong-shape"
    version = "1"

    def parse(self, data):
        return None


wrong_shape = WrongShape()
duplicate = Acme()
'''


def install_plugin(site: Path, entries: dict[str, str]) -> None:
    (site / "acme_carbonlink.py").write_text(PLUGIN)
    dist = site / "acme_carbonlink-0.3.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-carbonlink\nVersion: 0.3.1\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entries.items())
    (dist / "entry_points.txt").write_text(f"[carbonlink.adapters]\n{lines}\n")


def run_formats(site: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    proc = subprocess.run([sys.executable, "-c", "import sys; from gateway.cli import main; sys.exit(main())",
                           "formats", "--json"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_third_party_adapter_is_loaded_from_its_own_distribution(tmp_path: Path) -> None:
    install_plugin(tmp_path, {"acme-registry": "acme_carbonlink:adapter"})
    listing = run_formats(tmp_path)
    formats = {f["name"]: f for f in listing["formats"]}  # type: ignore[attr-defined]
    assert formats["acme-registry"]["version"] == "0.3.1"
    assert formats["acme-registry"]["distribution"] == "acme-carbonlink"
    assert formats["acme-registry"]["reads"] == ["projects"]
    assert "aef" in formats


def test_broken_plugins_are_reported_and_the_others_still_load(tmp_path: Path) -> None:
    install_plugin(tmp_path, {
        "acme-registry": "acme_carbonlink:adapter",
        "missing-module": "acme_not_installed:adapter",
        "wrong-shape": "acme_carbonlink:wrong_shape",
        "acme-again": "acme_carbonlink:duplicate",
        "raises": "acme_carbonlink:no_such_attribute",
    })
    listing = run_formats(tmp_path)
    names = {f["name"] for f in listing["formats"]}  # type: ignore[attr-defined]
    problems = {p["entry_point"]: p["problem"] for p in listing["problems"]}  # type: ignore[attr-defined]
    assert "acme-registry" in names and "aef" in names  # loaded through "acme-again"
    assert set(problems) >= {"missing-module", "wrong-shape", "acme-registry", "raises"}
    # entry points load in name order: the later one with a taken name is refused
    assert "duplicate adapter name 'acme-registry'" in problems["acme-registry"]
    assert "missing" in problems["wrong-shape"]
    assert "ModuleNotFoundError" in problems["missing-module"]


def test_check_adapter_rejects_wrong_signatures() -> None:
    class NoMedium:
        name, version, description = "x", "1", ""
        reads = writes = frozenset()
        media = ()

        def parse(self, data: bytes) -> None: ...
        def serialize(self, document: object, *, medium: object) -> None: ...
        def validate(self, data: bytes, *, medium: object) -> None: ...

    with pytest.raises(AdapterLoadError, match="parse"):
        check_adapter(NoMedium(), "nomedium")


def test_catalog_load_reports_by_name() -> None:
    catalog = AdapterCatalog()
    catalog.load_entry_points([EntryPoint("ghost", "no_such_module_xyz:adapter", "carbonlink.adapters")])
    assert [p.entry_point for p in catalog.problems] == ["ghost"]
    with pytest.raises(NoSuchAdapter):
        catalog.get("ghost")


def test_builtin_adapters_satisfy_the_protocol() -> None:
    catalog = default_catalog()
    for name in ("aef", "aef-draft", "canonical"):
        adapter: RegistryAdapter = catalog.get(name)
        assert isinstance(adapter, RegistryAdapter)


def test_carbonlink_adapters_env_limits_loading() -> None:
    result = run_cli("formats", "--json", env={"CARBONLINK_ADAPTERS": "aef,canonical"})
    assert result.returncode == 0, result.stderr
    assert {f["name"] for f in json.loads(result.stdout)["formats"]} == {"aef", "canonical"}


def test_the_adapter_filter_is_an_option_handed_down() -> None:
    catalog = default_catalog(Options(names=frozenset({"aef", "canonical"})))
    assert sorted(catalog.adapters) == ["aef", "canonical"]
    assert "verra" in default_catalog()  # another filter, another catalogue


@pytest.mark.e2e
def test_carbonlink_adapters_env_limits_loading_in_a_process() -> None:
    env = {**os.environ, "CARBONLINK_ADAPTERS": "aef,canonical"}
    proc = subprocess.run([sys.executable, "-c", "import sys; from gateway.cli import main; sys.exit(main())",
                           "formats", "--json"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    names = {f["name"] for f in json.loads(proc.stdout)["formats"]}
    assert names == {"aef", "canonical"}
