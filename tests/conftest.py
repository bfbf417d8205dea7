"""Test-wide set-up: each test's deadline (for the time limits of the subprocesses it starts) and markers.

pytest-timeout ends a test that overruns by killing it from inside, which would leave the `python -m bench`
children it started running. So a child's time limit is derived from the test's own remaining time
(tests/cli_helpers.py, `time_left`): the child is stopped, with its process group, and the test fails with
the child's output before pytest-timeout fires.
"""

from __future__ import annotations

import time

import pytest

from tests import cli_helpers


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "machine(why): the outcome depends on this machine's kernel or scheduling (timer slack, "
        "cores, a sleep a descheduled process overruns); `why` names the dependence")


@pytest.fixture(autouse=True)
def _deadline(request: pytest.FixtureRequest):
    """Record when this test's pytest-timeout expires, for cli_helpers.time_left."""
    marker = request.node.get_closest_marker("timeout")
    limit = marker.args[0] if marker and marker.args else request.config.getini("timeout")
    limit = float(limit or 0)
    cli_helpers.DEADLINE = time.monotonic() + limit if limit > 0 else None
    yield
    cli_helpers.DEADLINE = None
