"""Small helpers of the v2 linker: the ``v2`` section of a vocabulary file, a project cell, and the operator
profile's own map of project types (``project.projectTypeV2``), read where the vocabulary has none."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standards.cadt.operator import OperatorProfile
from standards.cadt.vocab import Vocabulary, registry_vocabulary

#: The profile key an operator sets to choose a v2 project type the vocabulary does not give.
PROJECT_TYPE_KEY = OperatorProfile.key("project", "projectTypeV2")


def _cell(extra: Mapping[str, Any], column: str | None) -> str | None:
    value = extra.get(column) if column else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _v2_vocabulary(registry: str | None) -> Vocabulary | None:
    vocab = registry_vocabulary(registry)
    return vocab if vocab is not None and vocab.table("v2") else None


def _v2(vocab: Vocabulary) -> Vocabulary:
    """The ``v2`` section of a vocabulary file, read as a vocabulary of its own."""
    return Vocabulary(vocab.name, vocab.table("v2"))


def profile_project_type(operator: OperatorProfile | None, methodology: str | None,
                         project_type: str | None) -> tuple[str, str] | None:
    """The export's value the profile's ``project.projectTypeV2`` maps (methodology first, then project type,
    as the vocabulary is read) and the v2 project type it maps it to; None when the profile maps neither."""
    if operator is None:
        return None
    for value in (methodology, project_type):
        found = operator.mapped("project", "projectTypeV2", value)
        if found is not None and value is not None:
            return value.strip(), found
    return None
