"""``bench/bench_http_server.py``: the bare application's answers, the server's CPU figure, bad arguments."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from typing import Any

import pytest

from bench import bench_http_server as bhs


def test_the_bare_application_reads_the_body_and_answers_the_receipt_sized_json() -> None:
    received = [{"type": "http.request", "body": bhs.BODY[:10], "more_body": True},
                {"type": "http.request", "body": bhs.BODY[10:], "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return received.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(bhs.app({"type": "http", "method": "POST", "path": "/v1/transfers"}, receive, send))
    assert received == []  # the whole body was read
    assert sent[0]["status"] == 200
    assert dict(sent[0]["headers"])[b"content-length"] == str(len(bhs.ANSWER)).encode()
    assert sent[1]["body"] == bhs.ANSWER


def test_an_unknown_server_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bhs.main(["--servers", "uvicorn,hypercorn"])
    assert "unknown ['hypercorn']" in capsys.readouterr().err


@pytest.mark.e2e  # a server process on a free port
# granian is not a dependency: it is measured where it is installed
@pytest.mark.parametrize("server", ["uvicorn"] + (["granian"] if importlib.util.find_spec("granian") else []))
def test_a_short_run_counts_the_server_process_cpu(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert bhs.main(["--servers", server, "--requests", "480", "--clients", "4", "--rounds", "1", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["server"] == server and result["requests"] == 480
    # /proc counts CPU in clock ticks (10 ms): 480 requests take several
    assert result["server_cpu_us_per_request"] > 0 and result["requests_per_second"] > 0
