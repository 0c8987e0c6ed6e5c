"""Headless Chromium for the console's browser tests: Debian's ``chromium`` driven by Playwright for Python
(never ``playwright install``: the system browser, a fresh profile per test module). Tests skip with the
reason when the browser or Playwright is missing; ``.ci/run`` installs the browser."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.services import REQUIRE_SERVICES

CHROMIUM = os.environ.get("CARBONLINK_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _missing(reason: str) -> None:
    if os.environ.get(REQUIRE_SERVICES) == "1":
        pytest.fail(f"{reason}; {REQUIRE_SERVICES}=1 makes this a failure")
    pytest.skip(reason)


def require_browser() -> str:
    """The Chromium executable, or skip (fail under ``CARBONLINK_REQUIRE_SERVICES=1``) with the reason."""
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("Playwright for Python is not installed (pip install -e '.[test]')")
    return CHROMIUM


@contextmanager
def browser_context(**options: Any) -> Iterator[Any]:
    """A Chromium context with a fresh user-data-dir, closed and removed afterwards."""
    from playwright.sync_api import sync_playwright

    executable = require_browser()
    profile = tempfile.mkdtemp(prefix="carbonlink-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=executable, headless=True, args=ARGS,
                viewport={"width": 1280, "height": 900}, **options)
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """The WCAG 2.1 contrast ratio of two colours."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
