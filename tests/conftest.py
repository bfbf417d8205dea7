"""Test-wide set-up: each test's deadline (for the time limits of the subprocesses it starts) and markers.

pytest-timeout ends a test that overruns by killing it from inside, which would leave the `python -m bench`
children it started running. So a child's time limit is derived from the test's own remaining time
(tests/cli_helpers.py, `time_left`): the child is stopped, with its process group, and the test fails with
the child's output before pytest-timeout fires.
"""

from __future__ import annotations

import os
import time

import pytest

from tests import cli_helpers


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "machine(why): the outcome depends on this machine's kernel or scheduling (timer slack, "
        "cores, a sleep a descheduled process overruns); `why` names the dependence")


ALLOW_MISSING_ENV = "PRODCON_TESTS_ALLOW_MISSING"  # set to 1: skip designs whose library will not import


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With PRODCON_TESTS_ALLOW_MISSING=1, a test of a design whose library does not import here is skipped
    with the reason (the contract suite run once under another interpreter, e.g. a free-threaded build
    without greenlet). Without it such a test fails: the default install brings every library, and a
    broken install must not pass as skips."""
    if os.environ.get(ALLOW_MISSING_ENV) != "1":
        return
    from variants import REGISTRY
    from variants.contract import Scenario

    for item in items:
        name = getattr(item, "callspec", None) and item.callspec.params.get("name")
        if name in REGISTRY:
            why = REGISTRY[name].unsupported(Scenario(1, 1, 100, 16))
            if why and "cannot be imported" in why:
                item.add_marker(pytest.mark.skip(reason=why))


@pytest.fixture(autouse=True)
def _deadline(request: pytest.FixtureRequest):
    """Record when this test's pytest-timeout expires, for cli_helpers.time_left."""
    marker = request.node.get_closest_marker("timeout")
    limit = marker.args[0] if marker and marker.args else request.config.getini("timeout")
    limit = float(limit or 0)
    cli_helpers.DEADLINE = time.monotonic() + limit if limit > 0 else None
    yield
    cli_helpers.DEADLINE = None
