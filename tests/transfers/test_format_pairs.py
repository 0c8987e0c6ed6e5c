"""Transfers between every pair of the sandbox formats that can carry an ITMO transfer.

Each registry speaks its own format; the sender writes the message in its format, the gateway
translates it to the receiver's, and the receiver credits the units. Formats that cannot carry the
message (a loss of the whole action) are refused before delivery with a coded 422.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest

from adapters import default_catalog
from gateway.demo import Network, Registry, itmo_message
from gateway.transfers.service import MEDIA_TYPES
from standards.aef.codec import AEF
from standards.codec import Medium

pytestmark = pytest.mark.e2e  # the process tier: real gateway and registry processes over HTTP

FORMATS = {"GHA": "aef", "CHE": "canonical", "SGP": "spreadsheet"}
PAIRS = [(a, b) for a, b in itertools.permutations(FORMATS, 2)]


@pytest.fixture(scope="module")
def net() -> Iterator[Network]:
    registries = [Registry(party.lower(), party, fmt, holds=[f"CA0001-{party}01-{party}-1-2023.."
                                                           f"CA0001-{party}01-{party}-100000-2023@treasury"])
                  for party, fmt in FORMATS.items()]
    registries.append(Registry("nzl", "NZL", "des-xml"))
    with Network(registries) as network:
        yield network


def native_message(sender: str, receiver: str, first: int, last: int) -> tuple[bytes, str]:
    aef = json.dumps(itmo_message(sender_party=sender, receiver_party=receiver, first=first, last=last)).encode()
    document = AEF.parse(aef, medium=Medium.JSON).document
    adapter = default_catalog().get(FORMATS[sender])
    medium = adapter.media[0]
    return adapter.serialize(document, medium=medium).data, MEDIA_TYPES[medium]


@pytest.mark.parametrize(("sender", "receiver"), PAIRS, ids=[f"{FORMATS[a]}->{FORMATS[b]}" for a, b in PAIRS])
def test_transfer_between_formats(net: Network, sender: str, receiver: str) -> None:
    offset = PAIRS.index((sender, receiver)) * 1000
    body, content_type = native_message(sender, receiver, offset + 1, offset + 500)
    before = net.sandbox(receiver.lower()).holdings()["total"]["held"]
    sent = net.client(sender.lower()).send(body, message_id=f"pair-{sender}-{receiver}", content_type=content_type)
    assert sent.status == 200, sent.body
    assert sent.body["outcome"] == "accepted", sent.body["receiver_answer"]
    assert sent.body["inbound"]["format"] == FORMATS[sender] and sent.body["outbound"]["format"] == FORMATS[receiver]
    assert net.sandbox(receiver.lower()).holdings()["total"]["held"] == before + 500


def test_a_format_that_cannot_carry_the_transfer_is_refused_before_delivery(net: Network) -> None:
    body, content_type = native_message("GHA", "NZL", 90_001, 90_010)
    sent = net.client("gha").send(body, message_id="pair-to-des", content_type=content_type)
    assert sent.status == 422 and sent.body["code"] == "TRANSFER.OUTPUT_INVALID"
    assert net.sandbox("nzl").holdings()["total"]["held"] == 0
