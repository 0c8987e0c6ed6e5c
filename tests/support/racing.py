"""Processes that race each other: every worker opens its store, says it is ready, then waits for
one start signal, so the race starts only when all of them can run.

Workers run as modules (``python -m tests.<package>.<worker>``) from the repository root, so they
import this module as the tests do."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ready_file(start: Path, tag: str) -> Path:
    return Path(f"{start}.ready-{tag}")


def await_start(start: Path, tag: str, timeout: float = 30) -> bool:
    """In a worker: say ``tag`` is ready and wait for ``start`` to exist (False: it never came)."""
    ready_file(start, tag).touch()
    deadline = time.monotonic() + timeout
    while not start.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def start_race(worker: str, args_by_tag: dict[str, list[str]], start: Path, timeout: float = 60
               ) -> dict[str, subprocess.Popen[str]]:
    """Start ``python -m worker ARGS`` for each tag, wait until every one is ready, then fire ``start``."""
    procs = {tag: subprocess.Popen([sys.executable, "-m", worker, *args], cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
             for tag, args in args_by_tag.items()}
    deadline = time.monotonic() + timeout
    while not all(ready_file(start, tag).exists() for tag in procs):
        assert time.monotonic() < deadline, "a worker did not start"
        assert all(p.poll() is None for p in procs.values()), "a worker died before the start"
        time.sleep(0.01)
    start.touch()
    return procs


def finish_race(procs: dict[str, subprocess.Popen[str]], timeout: float = 120) -> dict[str, str]:
    """Each worker's stdout, once all have exited with status 0."""
    outputs = {}
    for tag, proc in procs.items():
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err
        outputs[tag] = out
    return outputs
