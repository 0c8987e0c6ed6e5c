"""A receiving registry applies a message, but its answer is lost on the way back.

The sender gets a coded 502 with Retry-After and no receipt; it retries with the same message id;
the gateway delivers again; the registry recognises the message id and answers as before; the
sender gets the receipt. The units arrive once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from gateway.demo import Network, Registry, free_port, itmo_message
from tests.transfers.peers import FlakyProxy

pytestmark = pytest.mark.e2e  # the process tier: real gateway and registry processes over HTTP


@pytest.fixture(scope="module")
def flaky_net() -> Iterator[tuple[Network, FlakyProxy]]:
    receiver_port = free_port()
    proxy = FlakyProxy(f"http://127.0.0.1:{receiver_port}/messages", drop=1).start()
    registries = [
        Registry("gha", "GHA", "aef", holds=["CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-1000-2023@treasury"]),
        Registry("che", "CHE", "aef", port=receiver_port, messages_url=proxy.url + "/messages"),
    ]
    env = {"CARBONLINK_DELIVERY": json.dumps({"timeout": 5, "retries": 0, "retry_after": 3})}
    with Network(registries, gateway_env=env) as net:
        yield net, proxy
    proxy.stop()


def test_retry_after_a_lost_answer_delivers_exactly_once(flaky_net: tuple[Network, FlakyProxy]) -> None:
    net, proxy = flaky_net
    client = net.client("gha")
    body = json.dumps(itmo_message(sender_party="GHA", receiver_party="CHE", first=1, last=300)).encode()
    lost = client.send(body, message_id="once-1")
    assert lost.status == 502 and lost.body["code"] == "UPSTREAM.SERVER_ERROR" and lost.retry_after == "3"
    assert net.sandbox("che").holdings()["total"]["held"] == 300  # applied, but the gateway never heard
    retried = client.send(body, message_id="once-1")
    assert retried.status == 200 and retried.body["outcome"] == "accepted"
    assert proxy.forwarded == 2
    assert net.sandbox("che").holdings()["total"]["held"] == 300  # once, not twice
    again = client.send(body, message_id="once-1")
    assert again.replayed and again.raw == retried.raw and proxy.forwarded == 2
