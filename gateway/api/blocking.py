"""Running the relay's blocking work (store writes, the outbound HTTP exchange) off the event loop.

:func:`run_blocking` hands a call to a thread pool of its own through ``loop.run_in_executor``, in a
copy of the caller's context (so the options :class:`gateway.main.TranslationOptionsMiddleware` puts
in force reach the thread), as ``starlette.concurrency.run_in_threadpool`` does. It is cheaper per
call than anyio's worker threads (a C queue instead of a ``queue.Queue`` with its Python condition
variables and a capacity limiter), which the relay pays on every message. The pool has as many
threads as anyio's default limiter (40), so as many messages are in flight at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

#: Threads running blocking relay work at once (anyio's default thread limiter has as many).
MAX_THREADS = 40

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    pool = _pool
    if pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="carbonlink-relay")
            pool = _pool
    return pool


async def run_blocking(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``func(*args, **kwargs)`` in a worker thread, in a copy of the current context."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, func, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_executor(), call)
