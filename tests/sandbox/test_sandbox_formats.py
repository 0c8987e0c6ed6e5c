"""One first transfer (the AEF example's GHA -> CHE, ITMOs 1-20000), written by each adapter that
can carry it, as the gateway would deliver it: every such sandbox credits the same block."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from adapters import default_catalog
from standards.codec import Medium
from tests.sandbox.support import SandboxServer, World, aef_actions, itmo_label

Start = Callable[..., SandboxServer]


@pytest.mark.parametrize(("fmt", "medium"), [
    ("aef", "json"), ("aef", "xlsx"), ("canonical", "json"), ("cadt", "json"), ("cadt", "xlsx"),
    ("cadt-v2", "json"), ("spreadsheet", "csv"), ("spreadsheet", "xlsx"),
])
def test_each_format_credits_the_same_itmo_block(world: World, start: Start, fmt: str, medium: str) -> None:
    catalog = default_catalog()
    document = catalog.get("aef").parse(aef_actions({}), medium=Medium.JSON).document
    body = catalog.get(fmt).serialize(document, medium=Medium(medium)).data
    server = start(f"sbx-{fmt}", fmt, medium=medium)
    resp = world.send(server, body, f"ft-{fmt}-{medium}")
    answer = json.loads(resp.content)
    assert resp.status_code == 200, answer
    assert [(a["direction"], a["units"], a["quantity"]) for a in answer["applied"]] == [
        ("credit", itmo_label(1, 20000), 20000)]
    world.verify(server, resp, body)
