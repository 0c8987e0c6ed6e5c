"""The app's long-lived services, built when the app starts (its lifespan) and closed when it stops."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from standards.errors import CarbonlinkError

log = logging.getLogger("carbonlink.gateway")


class Closable(Protocol):
    def close(self) -> None: ...


S = TypeVar("S", bound=Closable)


class ServiceSlot(Generic[S]):
    """One service of the app. :meth:`start` builds it at start-up; when that fails with a coded error
    (its store is unreachable, say), the app still starts and the next request that needs the service
    builds it again, so that request gets the coded error (503) until the store is back."""

    def __init__(self, name: str, build: Callable[[], S]) -> None:
        self.name = name
        self._build = build
        self._service: S | None = None
        self._lock = threading.Lock()

    @property
    def ready(self) -> S | None:
        """The service, if it is built (no waiting, no I/O)."""
        return self._service

    def start(self) -> None:
        try:
            self.get()
        except CarbonlinkError as exc:
            log.error("the %s service could not start (%s): %s; the next request retries", self.name, exc.code,
                      exc.message)

    def get(self) -> S:
        """The service, built now if it is not yet (blocking: call it from a worker thread)."""
        service = self._service
        if service is None:
            with self._lock:
                if self._service is None:
                    self._service = self._build()
                service = self._service
        return service

    def close(self) -> None:
        with self._lock:
            service, self._service = self._service, None
        if service is not None:
            service.close()
