"""The view's store on both backends, for the feeds tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.feeds.store import FeedStore
from tests.support.services import require_postgres, unique_prefix


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.service)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FeedStore]:
    """The same behaviour on both backends: a SQLite file, or PostgreSQL tables no other test uses."""
    if request.param == "sqlite":
        view = FeedStore(tmp_path / "view.sqlite3")
    else:
        view = FeedStore(require_postgres(), prefix=unique_prefix("feed").replace("-", "_") + "_")
    try:
        yield view
    finally:
        view.close()
        if view.database.postgres:
            view.database.drop()
