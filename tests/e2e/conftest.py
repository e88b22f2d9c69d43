"""The browser tests' Chromium (one for the session) and the line that says where their
screenshots are."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (tests/browser.py), closed at the session's end."""
    import browser

    with browser.chromium() as launched:
        yield launched


def pytest_terminal_summary(terminalreporter: Any) -> None:
    import browser

    if browser.TAKEN:
        terminalreporter.write_line(
            f"browser screenshots ({len(browser.TAKEN)}, look at them): {browser.SCREENSHOTS}/"
        )
