"""``translate`` pauses the cyclic garbage collector while it runs and puts it back as it was: after success,
after a refusal, across concurrent translations, and when the host had it off."""

from __future__ import annotations

import gc
import importlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters._gc_pause import cyclic_gc_paused
from adapters.translate import translate
from bench import bench_verra as bv
from gateway.cli.translation import configured_catalog
from standards import ValidationFailed
from standards.codec import Medium

#: the module (``adapters.translate`` names the function re-exported by the package)
translate_module = importlib.import_module("adapters.translate")


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_translate_runs_with_the_collector_off_and_restores_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "transactions.csv"
    bv.generate(source, 40)
    seen: list[bool] = []
    real = translate_module._translate

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(translate_module, "_translate", spy)
    catalog = configured_catalog("verra", "cadt-v1", bv.PROFILE, True, None, False)
    result = translate(source.read_bytes(), source="verra", target="cadt-v1", source_medium=Medium.CSV,
                       target_medium=Medium.JSON, catalog=catalog, accept_losses=True)  # the whole-file path
    assert seen == [False] and gc.isenabled()
    assert isinstance(result, translate_module.Translation)
    assert result.records_read == 40 and result.output.data.startswith(b"{")


def test_a_refused_translation_restores_the_collector() -> None:
    with pytest.raises(ValidationFailed):
        translate(b"Issuance Date,Nonsense\n2020-01-01,x\n", source="verra", target="cadt-v1",
                  source_medium=Medium.CSV, target_medium=Medium.JSON)
    assert gc.isenabled()


def test_a_collector_the_host_turned_off_stays_off() -> None:
    gc.disable()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_concurrent_pauses_keep_it_off_until_the_last_one_ends() -> None:
    inside, release = threading.Event(), threading.Event()
    states: list[bool] = []

    def worker() -> None:
        with cyclic_gc_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(5)
    with cyclic_gc_paused():
        states.append(gc.isenabled())
    states.append(gc.isenabled())  # the worker still translates
    release.set()
    thread.join(5)
    assert states == [False, False] and gc.isenabled()
