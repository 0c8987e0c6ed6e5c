"""bench/bench_verra.py: its lean CAD Trust v2 mapping gives what the plain mapping gives, and a short
pipeline run writes one such JSON line per generated row."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from adapters.verra import adapter
from bench import bench_verra as bv
from standards.codec import Medium
from standards.model import UnitBlock, UnitStatus

_STATUS = {UnitStatus.ISSUED: "Held", UnitStatus.RETIRED: "Retired", UnitStatus.CANCELLED: "Cancelled"}


def plain_cadt_v2_unit(block: UnitBlock) -> dict[str, Any]:
    """The mapping as first written (CAD Trust v2 data dictionary names)."""
    record: dict[str, Any] = {
        "unitSerialId": block.serial,
        "unitStartBlock": str(block.first_id),
        "unitEndBlock": str(block.last_id),
        "unitCount": int(block.quantity) if block.quantity is not None else None,
        "unitType": "Reduction - nature",
        "unitVintageYear": block.vintage,
        "unitStatus": _STATUS.get(block.status, "Held") if block.status else "Held",
        "unitMetric": "tCO2e",
        "unitLink": block.link,
    }
    if block.status_date is not None:
        record["unitStatusDate"] = block.status_date.isoformat()
    if block.status_reason:
        record["unitStatusReason"] = block.status_reason
    if block.beneficiary:
        record["unitRetirementBeneficiary"] = block.beneficiary
    return record


def test_lean_mapping_equals_the_plain_one_for_every_status_and_gap() -> None:
    blocks = [UnitBlock(), UnitBlock(quantity=Decimal("12.5"), status_reason="", beneficiary="")]
    for status in [None, *UnitStatus]:
        blocks.append(UnitBlock(serial="s", first_id=1, last_id=5, quantity=Decimal(5), vintage=2020,
                                status=status, status_date=date(2026, 1, 2), status_reason="r", beneficiary="b",
                                link="https://example.org/p"))
    for block in blocks:
        lean, plain = bv.cadt_v2_unit(block), plain_cadt_v2_unit(block)
        assert lean == plain and list(lean) == list(plain)
        assert orjson.dumps(lean) == orjson.dumps(plain)


def test_pipeline_writes_the_plain_mapping_of_each_block(tmp_path: Path) -> None:
    source, out = tmp_path / "transactions.csv", tmp_path / "units.jsonl"
    bv.generate(source, 300)
    count, findings = bv.pipeline(source, out)
    assert count == 300 and not [f for f in findings if f.is_error]
    lines = out.read_bytes().splitlines()
    with source.open("rb") as handle:
        blocks = [b for b in adapter.iter_records(handle, medium=Medium.CSV) if isinstance(b, UnitBlock)]
    assert len(lines) == len(blocks) == 300
    assert lines == [orjson.dumps(plain_cadt_v2_unit(b)) for b in blocks]
    assert {orjson.loads(line)["unitStatus"] for line in lines} == {"Held", "Retired"}
