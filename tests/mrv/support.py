"""Helpers of the MRV tests."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def changed(doc: M, updates: dict[str, Any]) -> M:
    """``doc`` with ``updates``, validated again (``model_copy`` would not validate)."""
    return type(doc).model_validate(doc.model_dump() | updates)
