"""Declaring an adapter's rules: the positional shorthand its rule tables are written with."""

from __future__ import annotations

from collections.abc import Callable

from standards import Layer, Rule, RuleCatalogue, Severity

__all__ = ["RuleDeclarer", "rule_declarer"]

#: ``declare(rule_id, severity, layer, title, reference)`` -> the :class:`Rule` added to a catalogue.
RuleDeclarer = Callable[[str, Severity, Layer, str, str], Rule]


def rule_declarer(catalogue: RuleCatalogue) -> RuleDeclarer:
    """A function that adds one rule to ``catalogue`` from positional arguments and returns it."""
    def declare(rule_id: str, severity: Severity, layer: Layer, title: str, reference: str) -> Rule:
        return catalogue.add(rule_id, severity=severity, layer=layer, title=title, reference=reference)
    return declare
