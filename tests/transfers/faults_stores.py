"""Store faults around real processes: the evidence log's PostgreSQL killed and restarted, a persistent Redis
killed and restarted, and the evidence log's disk really full. Same harness and counts as
:mod:`tests.transfers.faults` (lost / duplicated / falsely receipted, all must be 0); each scenario has a
run of its own, because each needs the stores set up its own way.

* :class:`PrivatePostgres`: a PostgreSQL cluster of this run only (``initdb`` as the ``postgres`` user
  into a temporary directory, ``pg_ctl`` on a free port), stopped with ``-m immediate`` (no shutdown
  checkpoint: what a crash leaves) and started again;
* a ``redis-server`` with ``appendonly yes`` and ``appendfsync always``, SIGKILLed and started again on the
  same append-only file;
* a ``tmpfs`` of a few MiB mounted on the gateway's data directory (the SQLite evidence log), filled to
  the last byte with a filler file, then freed.

Needs root (``runuser``, ``mount``), PostgreSQL's ``initdb``/``pg_ctl`` and ``redis-server``;
:func:`missing_tools` says what is absent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg

from gateway.demo import free_port
from tests.transfers.faults import FaultRun, _mid_flight, _resend_receipted

#: The tmpfs mounted on the gateway's data directory in the disk-full scenario.
DISK_BYTES = 8 * 1024 * 1024


def missing_tools() -> list[str]:
    tools = {"initdb": shutil.which("initdb"), "pg_ctl": shutil.which("pg_ctl"), "runuser": shutil.which("runuser"),
             "redis-server": shutil.which("redis-server"), "mount": shutil.which("mount")}
    return [name for name, path in tools.items() if path is None]


class PrivatePostgres:
    """A PostgreSQL cluster of this run only, owned by the ``postgres`` user, on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="carbonlink-pg-"))
        shutil.chown(self.root, "postgres", "postgres")
        self.data = self.root / "data"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)

    def init(self) -> PrivatePostgres:
        self._as_postgres(str(shutil.which("initdb")), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        return self.start()

    def start(self) -> PrivatePostgres:
        self._as_postgres(str(shutil.which("pg_ctl")), "-D", str(self.data), "-l", str(self.root / "pg.log"), "-w",
                          "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on", "start")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(psycopg.OperationalError), psycopg.connect(self.dsn, connect_timeout=1):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not start on port {self.port}")

    def kill(self) -> None:
        """Stop at once, as a crash would (no shutdown checkpoint; recovery replays the WAL on start)."""
        self._as_postgres(str(shutil.which("pg_ctl")), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def postgres_restart(run: FaultRun, count: int, postgres: PrivatePostgres) -> list[str]:
    """PostgreSQL (the evidence log) is killed while a receiver's answer is in flight and started a second
    later; later it is killed between two messages and started two seconds later."""
    ids: list[str] = []

    def between(index: int) -> None:
        if index == count // 3:
            message_id = "postgres-restart-inflight"
            body = run.message()
            _mid_flight(run, message_id, body, postgres.kill)
            threading.Timer(1.0, postgres.start).start()
            run.send(body, message_id)
            ids.append(message_id)
        if index == 2 * count // 3:
            postgres.kill()
            threading.Timer(2.0, postgres.start).start()

    ids += run.send_many("postgres-restart", count, between)
    return _resend_receipted(run, ids)


def redis_persistent_restart(run: FaultRun, count: int) -> list[str]:
    """Redis with an append-only file is SIGKILLed while a receiver's answer is in flight and started again
    on the same file; later it is killed between two messages and started a second later."""
    ids: list[str] = []

    def between(index: int) -> None:
        if index == count // 3:
            message_id = "redis-aof-inflight"
            body = run.message()
            _mid_flight(run, message_id, body, run.redis.kill)
            run.redis.start()
            run.send(body, message_id)
            ids.append(message_id)
        if index == 2 * count // 3:
            run.redis.kill()
            threading.Timer(1.0, run.redis.start).start()

    ids += run.send_many("redis-aof", count, between)
    return _resend_receipted(run, ids)


class FullDisk:
    """A tmpfs on ``path``; :meth:`fill` takes every free byte, :meth:`free` gives them back."""

    def __init__(self, path: Path, size: int = DISK_BYTES) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
        self.filler = path / "filler.bin"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (65536, 1):  # big chunks, then the last bytes one at a time
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * size)
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


def disk_full(run: FaultRun, count: int, disk: FullDisk) -> list[str]:
    """The evidence log's file system is filled to the last byte a third of the way in, and freed two
    seconds later: refused before delivery (503) while full, relayed after."""
    def between(index: int) -> None:
        if index == count // 3:
            disk.fill()
            run.health_seen["during"] = run.health()
            threading.Timer(2.0, disk.free).start()

    ids = run.send_many("disk-full", count, between)
    run.health_seen["after"] = run.health()
    return ids


Scenario = Callable[[int], tuple[list[str], FaultRun]]


@contextlib.contextmanager
def postgres_run(root: Path) -> Iterator[tuple[FaultRun, PrivatePostgres]]:
    postgres = PrivatePostgres().init()
    try:
        run = FaultRun(root, evidence_url=postgres.dsn + "?table=evidence_faults")
        try:
            yield run, postgres
        finally:
            run.close()
    finally:
        postgres.destroy()


@contextlib.contextmanager
def persistent_redis_run(root: Path) -> Iterator[FaultRun]:
    run = FaultRun(root, persistent_redis=True)
    try:
        yield run
    finally:
        run.close()


@contextlib.contextmanager
def full_disk_run(root: Path) -> Iterator[tuple[FaultRun, FullDisk]]:
    disk = FullDisk(root / "net" / "gateway")
    try:
        run = FaultRun(root)
        try:
            yield run, disk
        finally:
            run.close()
    finally:
        disk.unmount()
