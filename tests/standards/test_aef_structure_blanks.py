"""The structure layer looks for blank text (``""``) only in plain text columns: every other field type
must refuse ``""`` when typed, so a typed ``""`` can only be in those columns."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from standards.aef.structure import PLAIN_TEXT_TYPES, row_adapter
from standards.aef.tables import TABLES


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
def test_only_plain_text_types_type_an_empty_string(strict: bool) -> None:
    for table_id, spec in TABLES.items():
        adapter = row_adapter(table_id, strict)
        for field in spec.fields:
            for blank in ("", "   "):
                try:
                    typed = adapter.validate_python([{field.cn: blank}])[0][field.cn]
                except ValidationError:
                    assert field.type not in PLAIN_TEXT_TYPES, (table_id, field.cn)
                    continue
                assert field.type in PLAIN_TEXT_TYPES and typed == "", (table_id, field.cn, field.type, typed)
