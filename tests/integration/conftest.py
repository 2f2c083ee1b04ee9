"""Integration tests (marked `integration` by the root conftest); helpers are in support.py."""

from __future__ import annotations

from tests.support import report, start_poll_once

__all__ = ["report", "start_poll_once"]
