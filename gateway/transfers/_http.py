"""The HTTP client deliveries go through: one POST, its answer read whole (capped), connections kept alive.

Two implementations of one small interface (:class:`DeliveryHttp`):

* :class:`PooledHttp` (the default): the standard library's ``http.client`` with a pool of keep-alive
  connections per origin. A delivery is one POST with a known body, so it needs no more than that, and
  it costs the gateway about half the CPU of an ``httpx`` request (headers and body leave in one
  ``send``; no event hooks, auth or redirect machinery). TLS uses the context ``httpx`` would
  (:func:`httpx.create_ssl_context`: the same CA bundle and checks). It connects directly: it does
  not read ``HTTP(S)_PROXY``.
* :class:`HttpxHttp`: the same through an ``httpx.Client`` (``CARBONLINK_DELIVERY_CLIENT=httpx``), e.g.
  for a deployment that reaches registries through a proxy named in the environment.

Both raise :class:`HttpTimeout` when the registry does not connect or answer in time,
:class:`HttpUnavailable` when it cannot be reached or breaks the exchange off, and
:class:`AnswerTooLarge` for an answer over the cap; the delivery turns them into coded errors.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx

#: Idle keep-alive connections kept per origin (scheme, host, port).
MAX_IDLE_PER_ORIGIN = 64
#: The ``User-Agent`` of deliveries.
USER_AGENT = "carbonlink-gateway"


class HttpUnavailable(Exception):
    """The registry could not be reached, or broke the exchange off (the message names the cause)."""


class HttpTimeout(HttpUnavailable):
    """The registry did not connect, or did not answer, in time."""


class AnswerTooLarge(Exception):
    """The answer is larger than the cap (the connection is closed, the answer not read further)."""


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """A registry's answer: status, headers (lower-case names; repeated ones joined with ``, ``), body."""

    status: int
    headers: dict[str, str]
    body: bytes


class DeliveryHttp(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str], *, timeout: float, connect_timeout: float,
             max_bytes: int) -> HttpAnswer:
        """POST ``body`` to ``url``; the answer read whole (:class:`AnswerTooLarge` past ``max_bytes``)."""

    def close(self) -> None: ...


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _closed_by_peer(sock: socket.socket) -> bool:
    """An idle keep-alive connection that is readable was closed by the server (or sent something it
    should not have): either way it cannot carry another request."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class PooledHttp:
    """``http.client`` connections, kept alive per origin and shared by the delivery threads (one
    thread uses a connection at a time)."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None,
                 max_idle_per_origin: int = MAX_IDLE_PER_ORIGIN) -> None:
        self._ssl_context = ssl_context
        self._max_idle = max_idle_per_origin
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    def _take(self, origin: tuple[str, str, int]) -> http.client.HTTPConnection | None:
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                conn = idle.pop() if idle else None
            if conn is None:
                return None
            if conn.sock is not None and not _closed_by_peer(conn.sock):
                return conn
            conn.close()

    def _give_back(self, origin: tuple[str, str, int], conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._max_idle:
                idle.append(conn)
                return
        conn.close()

    def _connect(self, origin: tuple[str, str, int], connect_timeout: float) -> http.client.HTTPConnection:
        scheme, host, port = origin
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=connect_timeout, context=self._tls())
        else:
            conn = http.client.HTTPConnection(host, port, timeout=connect_timeout)
        try:
            conn.connect()
        except TimeoutError as exc:
            conn.close()
            raise HttpTimeout(f"connect: {type(exc).__name__}") from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise HttpUnavailable(f"connect: {type(exc).__name__}") from exc
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def post(self, url: str, body: bytes, headers: dict[str, str], *, timeout: float, connect_timeout: float,
             max_bytes: int) -> HttpAnswer:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HttpUnavailable(f"not an http(s) URL: {url!r}")
        try:
            origin = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        except ValueError as exc:  # a port that is not a number
            raise HttpUnavailable(f"not an http(s) URL: {url!r}") from exc
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn = self._take(origin) or self._connect(origin, connect_timeout)
        try:
            assert conn.sock is not None
            conn.sock.settimeout(timeout)
            conn.putrequest("POST", target, skip_accept_encoding=True)
            conn.putheader("User-Agent", USER_AGENT)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)  # headers and body in one send
            response = conn.getresponse()
            declared = response.length  # Content-Length, when the answer has one
            if declared is not None and declared > max_bytes:  # the connection is closed below, unread
                raise AnswerTooLarge(f"the answer is larger than {max_bytes} bytes")
            # read() of a declared length raises IncompleteRead when the answer breaks off; chunked or
            # close-delimited answers are read to their end, at most one byte past the cap
            data = response.read() if declared is not None else response.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise AnswerTooLarge(f"the answer is larger than {max_bytes} bytes")
            answer = HttpAnswer(response.status, _joined(response.getheaders()), data)
            reusable = not response.will_close and response.isclosed() and conn.sock is not None
        except TimeoutError as exc:
            conn.close()
            raise HttpTimeout(f"no answer: {type(exc).__name__}") from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise HttpUnavailable(type(exc).__name__) from exc
        except BaseException:
            conn.close()
            raise
        if reusable:
            self._give_back(origin, conn)
        else:
            conn.close()
        return answer

    def close(self) -> None:
        with self._lock:
            pools, self._idle = list(self._idle.values()), {}
        for idle in pools:
            for conn in idle:
                conn.close()


#: Outbound connections of :class:`HttpxHttp`.
HTTPX_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=64)


class HttpxHttp:
    """Deliveries through an ``httpx.Client`` (environment proxies and all of httpx's defaults)."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(follow_redirects=False, limits=HTTPX_LIMITS)

    def post(self, url: str, body: bytes, headers: dict[str, str], *, timeout: float, connect_timeout: float,
             max_bytes: int) -> HttpAnswer:
        limits = httpx.Timeout(timeout, connect=connect_timeout)
        try:
            with self.client.stream("POST", url, content=body, headers=headers, timeout=limits) as response:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise AnswerTooLarge(f"the answer is larger than {max_bytes} bytes")
                    chunks.append(chunk)
                return HttpAnswer(response.status_code, dict(response.headers), b"".join(chunks))
        except httpx.TimeoutException as exc:
            raise HttpTimeout(type(exc).__name__) from exc
        except httpx.TransportError as exc:
            raise HttpUnavailable(type(exc).__name__) from exc

    def close(self) -> None:
        self.client.close()
