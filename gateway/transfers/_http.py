"""The HTTP client deliveries go through: one POST, its answer read whole (capped), connections kept alive.

Two implementations of one small interface (:class:`DeliveryHttp`):

* :class:`PooledHttp` (the default): keep-alive sockets per origin; the answer is read by ``httptools``
  (the C parser of llhttp, which uvicorn uses too) instead of ``http.client``, whose header parsing goes
  through the ``email`` package. A delivery is one POST with a known body, so it needs no more than that, and
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

import re
import select
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httptools
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


class _Answer:
    """What the parser (``httptools``, the C parser uvicorn uses) reads of the answer to one request: interim
    (1xx) answers skipped, the body capped, anything after the final answer noted (the socket is then not
    reused)."""

    __slots__ = ("cap", "chunks", "complete", "declared", "extra", "final", "headers_done", "keep_alive", "pairs",
                 "parser", "size", "status", "too_large")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parser = httptools.HttpResponseParser(self)
        self.final = self.too_large = self.extra = self.keep_alive = False
        self.on_message_begin()

    def on_message_begin(self) -> None:
        if self.final:
            self.extra = True
            return
        self.pairs: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.size = self.status = 0
        self.declared: int | None = None  # Content-Length, when the answer has one
        self.headers_done = self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.final:
            self.pairs.append((name, value))

    def on_headers_complete(self) -> None:
        if self.final:
            return
        self.headers_done = True
        self.status = self.parser.get_status_code()
        for name, value in self.pairs:
            if name.lower() == b"content-length":
                self.declared = int(value)  # the parser has checked that it is a number
        if self.declared is not None and self.declared > self.cap:
            self.too_large = True

    def on_body(self, body: bytes) -> None:
        if self.final:
            return
        self.size += len(body)
        if self.size > self.cap:
            self.too_large = True
        elif not self.too_large:
            self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.final:
            return
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()  # read while the parser is still on this answer
        self.final = not 100 <= self.status < 200  # an interim answer: the final one follows

    def ended(self) -> bool:
        """At the end of the connection: whether that ends the answer (a body with no length, not chunked)."""
        if not self.headers_done or self.complete or 100 <= self.status < 200 or self.declared is not None:
            return False
        if any(name.lower() == b"transfer-encoding" for name, _ in self.pairs):
            return False
        self.complete = self.final = True
        return True

    def headers(self) -> dict[str, str]:
        return _joined([(name.decode("latin-1"), value.decode("latin-1")) for name, value in self.pairs])


def _read_answer(sock: socket.socket, cap: int) -> _Answer:
    """Read the answer; :class:`AnswerTooLarge` past ``cap``, :class:`HttpUnavailable` when the connection
    ends before the answer does or the registry switches protocols."""
    answer = _Answer(cap)
    while not answer.final:
        data = sock.recv(_RECEIVE)
        if not data:  # the server closed the connection
            if answer.ended():
                break
            raise HttpUnavailable("the connection ended before the answer did")
        try:
            answer.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:  # 101 Switching Protocols: no answer to a delivery
            raise HttpUnavailable("the registry switched protocols") from exc
        if answer.too_large:
            raise AnswerTooLarge(f"the answer is larger than {cap} bytes")
    return answer


_RECEIVE = 65536


class PooledHttp:
    """Keep-alive sockets per origin, shared by the delivery threads (one thread uses a socket at a time):
    the request leaves in one ``sendall``, the answer is read by ``httptools``."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None,
                 max_idle_per_origin: int = MAX_IDLE_PER_ORIGIN) -> None:
        self._ssl_context = ssl_context
        self._max_idle = max_idle_per_origin
        self._idle: dict[tuple[str, str, int], list[socket.socket]] = {}
        self._lock = threading.Lock()

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    def _take(self, origin: tuple[str, str, int]) -> socket.socket | None:
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                sock = idle.pop() if idle else None
            if sock is None:
                return None
            if not _closed_by_peer(sock):
                return sock
            sock.close()

    def _give_back(self, origin: tuple[str, str, int], sock: socket.socket) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._max_idle:
                idle.append(sock)
                return
        sock.close()

    def _connect(self, origin: tuple[str, str, int], connect_timeout: float) -> socket.socket:
        scheme, host, port = origin
        try:
            sock = socket.create_connection((host, port), timeout=connect_timeout)
        except TimeoutError as exc:
            raise HttpTimeout(f"connect: {type(exc).__name__}") from exc
        except OSError as exc:
            raise HttpUnavailable(f"connect: {type(exc).__name__}") from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":  # the handshake within the connect timeout
                sock = self._tls().wrap_socket(sock, server_hostname=host)
        except TimeoutError as exc:
            sock.close()
            raise HttpTimeout(f"connect: {type(exc).__name__}") from exc
        except OSError as exc:
            sock.close()
            raise HttpUnavailable(f"connect: {type(exc).__name__}") from exc
        return sock

    def post(self, url: str, body: bytes, headers: dict[str, str], *, timeout: float, connect_timeout: float,
             max_bytes: int) -> HttpAnswer:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HttpUnavailable(f"not an http(s) URL: {url!r}")
        try:
            origin = (parts.scheme, parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme])
        except ValueError as exc:  # a port that is not a number
            raise HttpUnavailable(f"not an http(s) URL: {url!r}") from exc
        request = _request(origin, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), headers, body)
        sock = self._take(origin) or self._connect(origin, connect_timeout)
        try:
            sock.settimeout(timeout)
            sock.sendall(request)
            answer = _read_answer(sock, max_bytes)
            reusable = answer.keep_alive and not answer.extra
        except TimeoutError as exc:
            sock.close()
            raise HttpTimeout(f"no answer: {type(exc).__name__}") from exc
        except (OSError, httptools.HttpParserError) as exc:
            sock.close()
            raise HttpUnavailable(type(exc).__name__) from exc
        except BaseException:
            sock.close()
            raise
        if reusable:
            self._give_back(origin, sock)
        else:
            sock.close()
        return HttpAnswer(answer.status, answer.headers(), b"".join(answer.chunks))

    def close(self) -> None:
        with self._lock:
            pools, self._idle = list(self._idle.values()), {}
        for idle in pools:
            for sock in idle:
                sock.close()


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _request(origin: tuple[str, str, int], target: str, headers: dict[str, str], body: bytes) -> bytes:
    """The request's bytes: as ``http.client`` writes them (``Host`` with the port unless it is the scheme's
    default, an IPv6 address in brackets; names ASCII, values Latin-1), headers and body in one buffer."""
    scheme, host, port = origin
    if ":" in host:
        host = f"[{host}]"
    if port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    lines = [f"POST {target} HTTP/1.1", f"Host: {host}", f"User-Agent: {USER_AGENT}"]
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name) or _UNSAFE_VALUE.search(value):
            raise ValueError(f"a header that cannot be sent: {name!r}")
        lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(body)}")
    head = "\r\n".join(lines) + "\r\n\r\n"
    if not target.isascii() or any(c in target for c in " \r\n\x00"):
        raise ValueError(f"a request target that cannot be sent: {target!r}")
    return head.encode("latin-1") + body


#: A header name (RFC 9110 token) and the characters a header value may not hold (line breaks, NUL).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_UNSAFE_VALUE = re.compile(r"[\r\n\x00]")


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
