"""The demo network's start-up: a process that fails to start leaves nothing running."""

from __future__ import annotations

import socket

import pytest

from gateway.demo import Network, Registry

pytestmark = pytest.mark.e2e


def test_a_registry_that_cannot_start_stops_the_gateway_already_started() -> None:
    with socket.socket() as taken:  # the registry's port is held by someone else: its sandbox exits at once
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        net = Network([Registry("che", "CHE", "aef", port=port)])
        with pytest.raises(RuntimeError, match=r"exited|did not start"):
            net.start()
    assert net.gateways, "the gateway was started before the registry"
    assert all(process.poll() is not None for process in net.gateways), "a gateway process is still running"
    assert not net.root.exists()
