"""The rules every registry-export adapter declares."""

from __future__ import annotations

from standards import (
    Layer,
    RuleCatalogue,
    Severity,
)


def declare_common_rules(rules: RuleCatalogue, prefix: str, reference: str) -> None:
    """The rules every export adapter shares (ids ``<PREFIX>.COLUMNS`` ...)."""
    add = rules.add
    add(f"{prefix}.COLUMNS", severity=Severity.ERROR, layer=Layer.STRUCTURE,
        title="the header is a known export layout with all required columns", reference=reference)
    add(f"{prefix}.EMPTY", severity=Severity.WARNING, layer=Layer.STRUCTURE,
        title="the export has data rows", reference=reference)
    add(f"{prefix}.REQUIRED", severity=Severity.ERROR, layer=Layer.FIELD,
        title="required cells are filled", reference=reference)
    add(f"{prefix}.QUANTITY_INVALID", severity=Severity.ERROR, layer=Layer.FIELD,
        title="quantities are whole or decimal numbers (thousands separators allowed)", reference=reference)
    add(f"{prefix}.DATE_INVALID", severity=Severity.ERROR, layer=Layer.FIELD,
        title="dates are ISO or the registry's slash format", reference=reference)
    add(f"{prefix}.VINTAGE_INVALID", severity=Severity.ERROR, layer=Layer.FIELD,
        title="vintages are years between 1900 and 2100", reference=reference)
    add(f"{prefix}.COUNTRY_UNKNOWN", severity=Severity.WARNING, layer=Layer.CODE_LIST,
        title="countries are ISO 3166-1 names or codes", reference="ISO 3166-1; " + reference)
    add(f"{prefix}.SERIAL_INVALID", severity=Severity.ERROR, layer=Layer.FIELD,
        title="serial numbers have the registry's layout", reference=reference)
    add(f"{prefix}.SERIAL_QUANTITY", severity=Severity.ERROR, layer=Layer.CROSS_RECORD,
        title="the serial range length (last - first + 1) equals the quantity", reference=reference)
    add(f"{prefix}.SERIAL_MISMATCH", severity=Severity.WARNING, layer=Layer.CROSS_RECORD,
        title="the serial's project, country and vintage agree with the row's columns", reference=reference)
    add(f"{prefix}.SERIAL_OVERLAP", severity=Severity.ERROR, layer=Layer.CROSS_RECORD,
        title="no two serial blocks of one series overlap", reference=reference)
