"""Running the relay's blocking work (store writes, the outbound HTTP exchange) off the event loop.

:func:`run_blocking` hands a call to a pool of worker threads of its own, in a copy of the caller's context
(so the options :class:`gateway.main.TranslationOptionsMiddleware` puts in force reach the thread), as
``starlette.concurrency.run_in_threadpool`` does. The relay pays the hand-over on every message, so it is
the least it can be: the call goes to the workers through one C queue (``queue.SimpleQueue``) and its result
comes back to the event loop with one ``call_soon_threadsafe`` - no ``concurrent.futures.Future`` (whose
condition variable and callbacks ``loop.run_in_executor`` adds, and ``asyncio.wrap_future`` after it), no
capacity limiter. The pool starts a thread when no worker is idle, up to as many threads as anyio's default
limiter has (40), so as many messages are in flight at once; idle threads wait on the queue. A call whose
awaiting task was cancelled before a worker took it is not run (as an executor's pending future is
cancelled). The threads are daemon threads: a call still running when the process exits is cut off, which
the server's graceful shutdown avoids (it waits for the requests in flight, and each awaits its call).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

#: Threads running blocking relay work at once (anyio's default thread limiter has as many).
MAX_THREADS = 40

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """On the event loop: hand the worker's result (or exception) to the awaiting task."""
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class WorkerPool:
    """Worker threads fed from one queue (see the module docstring)."""

    def __init__(self, max_threads: int = MAX_THREADS, name: str = "carbonlink-relay") -> None:
        self.max_threads = max_threads
        self.name = name
        self._jobs: SimpleQueue[_Job] = SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        #: threads minus the calls queued or running: above 0 some worker waits on the queue
        self._idle = 0

    def _work(self) -> None:
        jobs, lock = self._jobs, self._lock
        while True:
            loop, future, call = jobs.get()
            result: Any = None
            error: BaseException | None = None
            cancelled = future.cancelled()
            if not cancelled:
                try:
                    result = call()
                except BaseException as exc:  # handed to the awaiting task, as an executor does
                    error = exc
            with lock:  # idle again before the awaiting task can queue its next call
                self._idle += 1
            if not cancelled:
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody awaits the result any more
                    loop.call_soon_threadsafe(_settle, future, result, error)
            del result, error

    def submit(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], call: Callable[[], Any]) -> None:
        """Queue ``call``; start a worker if none is idle and the pool is not full."""
        with self._lock:  # _idle is threads minus queued and running calls
            start = self._idle <= 0 and self._threads < self.max_threads
            number = self._threads
            if start:
                self._threads += 1
            else:
                self._idle -= 1
        if start:
            thread = threading.Thread(target=self._work, name=f"{self.name}_{number}", daemon=True)
            thread.start()
        self._jobs.put((loop, future, call))


_pool = WorkerPool()


async def run_blocking(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``func(*args, **kwargs)`` in a worker thread, in a copy of the current context."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    _pool.submit(loop, future, functools.partial(contextvars.copy_context().run, func, *args, **kwargs))
    return await future
