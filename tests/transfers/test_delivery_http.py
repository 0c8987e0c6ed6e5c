"""The deliveries' HTTP client (gateway.transfers._http) against real loopback servers: keep-alive reuse,
a connection the server closed while idle, timeouts, refused connections, broken answers, the answer cap;
and the same behaviour through the httpx implementation."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.transfers._http import (
    AnswerTooLarge,
    DeliveryHttp,
    HttpAnswer,
    HttpTimeout,
    HttpUnavailable,
    HttpxHttp,
    PooledHttp,
)
from tests.support.pki import Pki
from tests.support.ports import free_port

Handler = Callable[[socket.socket, bytes], bool]  # answers one request; True keeps the connection


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(rest) < length:
        rest += conn.recv(65536)
    return head + b"\r\n\r\n" + rest


class RawServer:
    """A loopback HTTP/1.1 server answering each request with ``handler``; counts connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/messages"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while True:
                try:
                    request = _read_request(conn)
                except OSError:
                    return
                if request is None:
                    return
                self.requests.append(request)
                if not self.handler(conn, request):
                    return

    def close(self) -> None:
        self.listener.close()


def ok(body: bytes = b'{"verdict":"accepted"}') -> Handler:
    def handle(conn: socket.socket, request: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Twice: a\r\nX-Twice: b\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        return True
    return handle


@pytest.fixture(params=["stdlib", "httpx"])
def client(request: pytest.FixtureRequest) -> Iterator[DeliveryHttp]:
    http: DeliveryHttp = PooledHttp() if request.param == "stdlib" else HttpxHttp()
    yield http
    http.close()


def post(http: DeliveryHttp, url: str, *, timeout: float = 5.0, max_bytes: int = 1024) -> HttpAnswer:
    return http.post(url, b'{"x":1}', {"Content-Type": "application/json", "Carbonlink-Message-Id": "m-1"},
                     timeout=timeout, connect_timeout=2.0, max_bytes=max_bytes)


def test_posts_and_reuses_the_connection(client: DeliveryHttp) -> None:
    server = RawServer(ok())
    try:
        first, second = post(client, server.url), post(client, server.url)
    finally:
        server.close()
    assert first.status == second.status == 200
    assert first.body == b'{"verdict":"accepted"}'
    assert first.headers["content-type"] == "application/json"
    assert first.headers["x-twice"] == "a, b"  # repeated headers joined, as httpx does
    assert server.connections == 1  # kept alive
    request = server.requests[0]
    assert request.startswith(b"POST /messages HTTP/1.1\r\n")
    assert b"\r\ncarbonlink-message-id: m-1" in request.lower()
    assert request.endswith(b'\r\n\r\n{"x":1}')


def test_a_connection_the_server_closed_while_idle_is_not_reused(client: DeliveryHttp) -> None:
    def once(conn: socket.socket, request: bytes) -> bool:
        ok()(conn, request)
        return False  # close after answering (no Connection: close header: the client learns it idle)

    server = RawServer(once)
    try:
        assert post(client, server.url).status == 200
        time.sleep(0.2)
        assert post(client, server.url).status == 200
    finally:
        server.close()
    assert server.connections == 2


def test_no_answer_in_time_is_a_timeout(client: DeliveryHttp) -> None:
    server = RawServer(lambda conn, request: (time.sleep(1.5), False)[1])
    try:
        with pytest.raises(HttpTimeout):
            post(client, server.url, timeout=0.3)
    finally:
        server.close()


def test_refused_connection_is_unavailable(client: DeliveryHttp) -> None:
    with pytest.raises(HttpUnavailable) as caught:
        post(client, f"http://127.0.0.1:{free_port()}/messages")
    assert not isinstance(caught.value, HttpTimeout)


def test_an_answer_broken_off_is_unavailable(client: DeliveryHttp) -> None:
    def broken(conn: socket.socket, request: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"verdict\"")
        return False

    server = RawServer(broken)
    try:
        with pytest.raises(HttpUnavailable):
            post(client, server.url)
    finally:
        server.close()


def test_a_chunked_answer_broken_off_is_unavailable(client: DeliveryHttp) -> None:
    def broken(conn: socket.socket, request: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n{\"verdict\"")
        return False

    server = RawServer(broken)
    try:
        with pytest.raises(HttpUnavailable):
            post(client, server.url)
    finally:
        server.close()


def test_a_chunked_answer_over_the_cap_is_refused(client: DeliveryHttp) -> None:
    def big(conn: socket.socket, request: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"400\r\n" + b"y" * 1024
                     + b"\r\n" + b"400\r\n" + b"y" * 1024 + b"\r\n0\r\n\r\n")
        return True

    server = RawServer(big)
    try:
        with pytest.raises(AnswerTooLarge):
            post(client, server.url, max_bytes=1500)
    finally:
        server.close()


def test_garbage_instead_of_http_is_unavailable(client: DeliveryHttp) -> None:
    def garbage(conn: socket.socket, request: bytes) -> bool:
        conn.sendall(b"\x00\x01not http at all\r\n\r\n")
        return False

    server = RawServer(garbage)
    try:
        with pytest.raises(HttpUnavailable):
            post(client, server.url)
    finally:
        server.close()


def test_an_answer_over_the_cap_is_refused_and_the_connection_dropped(client: DeliveryHttp) -> None:
    server = RawServer(ok(b"x" * 5000))
    try:
        with pytest.raises(AnswerTooLarge):
            post(client, server.url, max_bytes=1024)
        assert post(client, server.url, max_bytes=10_000).body == b"x" * 5000
    finally:
        server.close()
    assert server.connections == 2


def test_chunked_answers_are_read_whole() -> None:
    def chunked(conn: socket.socket, request: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        return True

    server = RawServer(chunked)
    http = PooledHttp()
    try:
        assert post(http, server.url).body == b"hello world"
        assert post(http, server.url).body == b"hello world"
    finally:
        http.close()
        server.close()
    assert server.connections == 1


def test_not_an_http_url_is_unavailable() -> None:
    http = PooledHttp()
    for url in ("ftp://example.org/messages", "http:///messages", "http://127.0.0.1:port/messages"):
        with pytest.raises(HttpUnavailable):
            post(http, url)


def _answering(raw: bytes, keep: bool = True) -> Handler:
    def handle(conn: socket.socket, request: bytes) -> bool:
        conn.sendall(raw)
        return keep
    return handle


@pytest.mark.parametrize("together", [True, False], ids=["one-packet", "two-packets"])
def test_interim_answers_are_skipped(together: bool) -> None:
    final = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: yes\r\n\r\nok"

    def handle(conn: socket.socket, request: bytes) -> bool:
        interim = b"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n"
        if together:
            conn.sendall(interim + final)
        else:
            conn.sendall(interim)
            time.sleep(0.05)
            conn.sendall(final)
        return True

    server = RawServer(handle)
    http = PooledHttp()
    try:
        answer = post(http, server.url)
        assert (answer.status, answer.body, answer.headers.get("x-final")) == (200, b"ok", "yes")
        assert "x-interim" not in answer.headers
        assert post(http, server.url).body == b"ok"
    finally:
        http.close()
        server.close()
    assert server.connections == 1


def test_bytes_after_the_answer_keep_the_answer_and_drop_the_connection() -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = RawServer(_answering(answer + b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"))
    http = PooledHttp()
    try:
        first = post(http, server.url)
        assert (first.status, first.body) == (200, b"ok")
        assert post(http, server.url).status == 200
    finally:
        http.close()
        server.close()
    assert server.connections == 2  # the first connection carried more than one answer: not reused


def test_an_answer_without_length_runs_to_the_end_of_the_connection() -> None:
    server = RawServer(_answering(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", keep=False))
    http = PooledHttp()
    try:
        assert post(http, server.url).body == b"all of it"
        assert post(http, server.url).body == b"all of it"
    finally:
        http.close()
        server.close()
    assert server.connections == 2


def test_switching_protocols_is_unavailable() -> None:
    server = RawServer(_answering(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                                  b"Upgrade: websocket\r\n\r\n", keep=False))
    http = PooledHttp()
    try:
        with pytest.raises(HttpUnavailable):
            post(http, server.url)
    finally:
        http.close()
        server.close()


def test_the_request_names_its_host_and_refuses_headers_that_would_split_it() -> None:
    server = RawServer(ok())
    http = PooledHttp()
    try:
        post(http, server.url)
        head = server.requests[0].split(b"\r\n\r\n")[0].split(b"\r\n")
        assert head[1] == f"Host: 127.0.0.1:{server.port}".encode()
        assert head[-1] == b"Content-Length: 7"
        for name, value in (("X-Evil", "a\r\nX-Injected: 1"), ("X Bad", "v"), ("X-Nul", "a\x00")):
            with pytest.raises(ValueError):
                http.post(server.url, b"{}", {name: value}, timeout=5, connect_timeout=2, max_bytes=1024)
    finally:
        http.close()
        server.close()
    assert len(server.requests) == 1  # nothing was sent for the refused headers


def test_deliveries_over_tls_check_the_registry_certificate(tmp_path: Path) -> None:
    pki = Pki(tmp_path)
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(str(pki.server[0]), str(pki.server[1]))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(2):
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                with server_side.wrap_socket(raw, server_side=True) as conn:
                    while (request := _read_request(conn)) is not None:
                        ok()(conn, request)
            except (OSError, ssl.SSLError):
                continue

    threading.Thread(target=serve, daemon=True).start()
    trusted = PooledHttp(ssl_context=ssl.create_default_context(cafile=str(pki.ca_path)))
    untrusted = PooledHttp(ssl_context=ssl.create_default_context())
    url = f"https://127.0.0.1:{port}/messages"
    try:
        assert post(trusted, url).body == b'{"verdict":"accepted"}'
        assert post(trusted, url).status == 200  # the TLS connection kept alive
        with pytest.raises(HttpUnavailable):
            post(untrusted, url)  # a registry certificate the context does not trust
    finally:
        trusted.close()
        untrusted.close()
        listener.close()
