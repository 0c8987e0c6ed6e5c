"""Record kinds (what a format reads and writes) and message kinds (what the gateway relays) are two
vocabularies; the gateway derives the message kinds a format carries from its record kinds."""

from __future__ import annotations

import importlib
import json
import warnings

import pytest
from typer.testing import CliRunner

from adapters import default_catalog
from gateway.cli import app
from gateway.protocol import CARRIED_AS, MRV_KINDS, NOTICE_KINDS, RELAYED_KINDS, MessageKind, carried_kinds
from gateway.trust.directory import Participant
from standards.codec import RecordKind


def test_every_relayed_kind_is_carried_by_records_or_is_a_notice() -> None:
    # the MRV kinds are canonical MRV JSON, whatever the parties' formats (docs/mrv.md)
    assert set(CARRIED_AS) | NOTICE_KINDS | MRV_KINDS == RELAYED_KINDS
    assert not set(CARRIED_AS) & NOTICE_KINDS and not (set(CARRIED_AS) | NOTICE_KINDS) & MRV_KINDS
    assert all(carriers and carriers <= set(RecordKind) for carriers in CARRIED_AS.values())


def test_what_a_format_carries_follows_from_its_record_kinds() -> None:
    assert carried_kinds([]) == NOTICE_KINDS
    blocks = carried_kinds([RecordKind.UNIT_BLOCKS, RecordKind.PROJECTS])
    assert blocks == {MessageKind.TRANSFERS, MessageKind.RETIREMENTS, MessageKind.CANCELLATIONS} | NOTICE_KINDS
    actions = carried_kinds([RecordKind.ACTIONS])
    assert {MessageKind.ACTIONS, MessageKind.AUTHORIZATIONS, MessageKind.TRANSFERS} <= actions
    assert carried_kinds([RecordKind.HOLDINGS]) == NOTICE_KINDS


def test_the_old_record_kind_names_are_still_message_kinds_on_the_wire() -> None:
    """Signed directories list e.g. ``holdings`` (docs/trust.md): they keep verifying."""
    assert {k.value for k in MessageKind} >= {k.value for k in RecordKind}
    entry = {"id": "che", "party": "CHE", "party_registry_id": "CHE01", "status": "active", "format": "aef",
             "x5t#S256": "x", "message_kinds": ["transfers", "holdings"]}
    assert Participant.model_validate(entry).message_kinds == [MessageKind.TRANSFERS, MessageKind.HOLDINGS]


def test_formats_json_lists_record_kinds_and_the_message_kinds_derived_from_them() -> None:
    result = CliRunner().invoke(app, ["formats", "--json"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    listed = {f["name"]: f for f in json.loads(result.stdout)["formats"]}
    catalog = default_catalog()
    for name, row in listed.items():
        adapter = catalog.get(name)
        assert row["reads"] == sorted(k.value for k in adapter.reads)
        assert row["sends"] == sorted(k.value for k in carried_kinds(adapter.reads))
        assert row["receives"] == sorted(k.value for k in carried_kinds(adapter.writes))
    assert "transfers" in listed["verra"]["sends"] and "unit-blocks" in listed["verra"]["reads"]


@pytest.mark.parametrize("module", ["standards", "standards.codec", "adapters", "adapters.protocol"])
def test_message_kind_is_the_deprecated_old_name_of_record_kind(module: str) -> None:
    imported = importlib.import_module(module)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert imported.MessageKind is RecordKind
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    with pytest.raises(AttributeError):
        _ = imported.NoSuchName
