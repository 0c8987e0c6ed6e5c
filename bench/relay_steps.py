"""Thread CPU of each step of :meth:`TransferService.submit` (``bench_relay_cpu.py --steps``).

The steps' methods are wrapped while the timed messages run: each call adds the ``time.thread_time`` it
took to its step (nested steps are counted in their own row and in the row that contains them). No
sampling and no profiler: the wrappers cost a microsecond or two per call, so the figures are the
steps' own CPU.
"""

from __future__ import annotations

import functools
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from gateway.evidence.log import EvidenceLog
from gateway.evidence.record import Exchange
from gateway.evidence.signing import JwkSigner
from gateway.idempotency.redis import RedisIdempotencyStore
from gateway.idempotency.sqlite import SqliteIdempotencyStore
from gateway.transfers._http import PooledHttp
from gateway.transfers._recorder import Recorder
from gateway.transfers._signer import DetachedSigner
from gateway.transfers.service import TransferService
from gateway.trust.outbound import OutboundClient

#: ``(class, method, step)`` in report order; indented steps are part of the step above them.
STEPS: tuple[tuple[type, str, str], ...] = (
    (TransferService, "_claim", "claim (idempotency claim and evidence read)"),
    (SqliteIdempotencyStore, "claim", "  idempotency claim (SQLite)"),
    (RedisIdempotencyStore, "claim", "  idempotency claim (Redis)"),
    (Recorder, "lookup", "  evidence read (the message's records)"),
    (TransferService, "plan", "plan (read and validate, route, translate and re-validate)"),
    (Recorder, "intend", "intent record (evidence append)"),
    (TransferService, "_deliver", "deliver"),
    (DetachedSigner, "sign", "  detached signatures (message, receipt)"),
    (OutboundClient, "gateway_token", "  delivery token"),
    (PooledHttp, "post", "  HTTP exchange"),
    (OutboundClient, "verify", "  registry answer verified"),
    (Recorder, "receipt", "receipt built"),
    (Recorder, "record", "receipt record (evidence append, claim completion)"),
    (SqliteIdempotencyStore, "complete", "  claim completion (SQLite)"),
    (RedisIdempotencyStore, "complete", "  claim completion (Redis)"),
    (EvidenceLog, "_enqueue", "evidence appends (both; the seals below are part of them)"),
    (EvidenceLog, "seal", "evidence seals (both appends)"),
    (JwkSigner, "sign", "  evidence signatures"),
    (Exchange, "checked", "evidence entry checks (both appends)"),
    (TransferService, "submit", "TransferService.submit, whole"),
)


def _timed(method: Callable[..., Any], step: str, spent: dict[str, float]) -> Callable[..., Any]:
    @functools.wraps(method)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return method(*args, **kwargs)
        finally:
            spent[step] += time.thread_time() - started
    return timed


@contextmanager
def steps_timed() -> Iterator[dict[str, float]]:
    """Seconds of thread CPU per step while the block runs (the methods are restored after it)."""
    spent: dict[str, float] = defaultdict(float)
    originals = [(cls, name, cls.__dict__[name]) for cls, name, _ in STEPS]
    try:
        for cls, name, step in STEPS:
            setattr(cls, name, _timed(getattr(cls, name), step, spent))
        yield spent
    finally:
        for cls, name, original in originals:
            setattr(cls, name, original)


def per_message(spent: dict[str, float], messages: int) -> dict[str, float]:
    """Milliseconds per message of every step, in :data:`STEPS` order."""
    return {step: round(spent.get(step, 0.0) / messages * 1e3, 3) for _, _, step in STEPS}
