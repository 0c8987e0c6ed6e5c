"""The relay's worker hand-over (gateway/api/blocking.py): results, errors, context, bounded threads."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from gateway.api import blocking
from gateway.api.blocking import WorkerPool, run_blocking

OPTION: contextvars.ContextVar[str] = contextvars.ContextVar("option", default="unset")


def test_a_call_runs_in_a_worker_thread_with_the_callers_context() -> None:
    async def main() -> tuple[str, str, int]:
        OPTION.set("in force")
        name, option = await run_blocking(lambda: (threading.current_thread().name, OPTION.get()))
        return name, option, threading.get_ident()

    name, option, loop_thread = asyncio.run(main())
    assert name.startswith("carbonlink-relay_") and option == "in force"
    assert loop_thread == threading.get_ident()  # asyncio.run's loop is this thread; the call ran elsewhere


def test_an_error_reaches_the_awaiting_task_unchanged() -> None:
    class Refused(Exception):
        pass

    def fail(code: str) -> None:
        raise Refused(code)

    async def main() -> None:
        await run_blocking(fail, "X.Y")

    with pytest.raises(Refused, match=r"X\.Y"):
        asyncio.run(main())


def test_the_pool_starts_threads_only_as_needed_and_never_more_than_its_bound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pool = WorkerPool(max_threads=3, name="bounded")
    monkeypatch.setattr(blocking, "_pool", pool)
    running: list[int] = []
    most = 0
    lock = threading.Lock()

    def work(n: int) -> int:
        nonlocal most
        with lock:
            running.append(n)
            most = max(most, len(running))
        time.sleep(0.02)
        with lock:
            running.remove(n)
        return n * n

    async def main() -> list[int]:
        one_by_one = [await run_blocking(work, n) for n in range(5)]
        assert pool._threads == 1  # each call found the one worker idle again
        return one_by_one + list(await asyncio.gather(*(run_blocking(work, n) for n in range(10))))

    results = asyncio.run(main())
    assert results == [n * n for n in range(5)] + [n * n for n in range(10)]
    assert pool._threads == 3 and most == 3
    names = {t.name for t in threading.enumerate() if t.name.startswith("bounded_")}
    assert names == {"bounded_0", "bounded_1", "bounded_2"}


def test_a_call_cancelled_before_a_worker_takes_it_does_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = WorkerPool(max_threads=1, name="cancel")
    monkeypatch.setattr(blocking, "_pool", pool)
    ran: list[str] = []
    release = threading.Event()

    async def main() -> None:
        first = asyncio.ensure_future(run_blocking(release.wait, 5))
        second = asyncio.ensure_future(run_blocking(ran.append, "second"))
        await asyncio.sleep(0.05)  # the one worker is busy with the first call
        second.cancel()
        release.set()
        assert await first is True
        with pytest.raises(asyncio.CancelledError):
            await second
        await run_blocking(ran.append, "third")

    asyncio.run(main())
    assert ran == ["third"]
