"""The nats design and the NATS server the suite runs for it (variants/servers.py, variants/nats.py).

- the server listens on 127.0.0.1 only (the kernel's table of listening sockets of its pid);
- start and stop leave no process and no folder; a server that does not come up says why, with its log;
- nats verifies like every design (tests/test_designs.py's check_run) at 1:1, 1:4, 4:4 and 3:5, capacities
  1, 16 and unbounded, payload 16; it refuses the barrier and event stops with one line each;
- a server killed in the middle of a run fails that run in time, "broker connection lost", leaving nothing
  running, and the next run starts a fresh server;
- with PRODCON_BROKER=nats://..., nothing is started.
"""

from __future__ import annotations

import glob
import os
import socket
import tempfile

import psutil
import pytest

from tests.test_brokers import LOOPBACK, _listening, _strays
from tests.test_designs import check_run
from variants import nats, servers
from variants.contract import Scenario


@pytest.fixture(autouse=True)
def _own_broker(monkeypatch):
    """Each test starts from no server of this process and no external broker, and leaves none."""
    monkeypatch.delenv(servers.BROKER_ENV, raising=False)
    servers.stop_broker()
    yield
    servers.stop_broker()


def _folders() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "prodcon-nats-*")))


# --- the server -------------------------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_server_listens_on_loopback_only():
    server = servers.start_nats()
    try:
        assert server.url == f"nats://127.0.0.1:{server.port}" and server.unix_socket is None
        sockets = _listening(server.pid)  # no monitoring, cluster or leaf port either
        assert sockets == [("tcp", f"{LOOPBACK}:{server.port:04X}")], sockets
    finally:
        server.stop()


@pytest.mark.timeout(20)
def test_start_and_stop_leave_no_process_and_no_folder():
    before = _folders()
    server = servers.start_nats()
    assert server.alive() and os.path.isdir(server.folder)
    assert 0 < server.startup_s < servers.START_TIMEOUT
    assert os.getpgid(server.pid) == os.getpgid(0)  # in this process's group: killing the group kills it
    server.stop()
    assert server.process.returncode is not None  # reaped by us
    assert not psutil.pid_exists(server.pid)
    assert _folders() == before
    assert _strays("nats") == []


@pytest.mark.timeout(30)
def test_a_server_that_does_not_come_up_says_why_with_its_log(tmp_path):
    before = _folders()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(servers.BrokerError) as info:
            servers.start_nats(port=port)
    message = str(info.value)
    assert message.startswith("nats-server exited with status"), message
    assert "address already in use" in message and "\n" not in message, message
    silent = tmp_path / "silent-server"  # runs, prints, never answers
    silent.write_text("#!/bin/sh\necho pretending to serve\nexec sleep 30\n")
    silent.chmod(0o755)
    with pytest.raises(servers.BrokerError, match="did not send its INFO line within 0.3 s.*pretending"):
        servers.start_nats(binary=str(silent), timeout=0.3)
    assert _folders() == before
    assert _strays("nats") == []


# --- the design -------------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("capacity", [1, 16, None], ids=lambda c: f"cap{'inf' if c is None else c}")
@pytest.mark.parametrize(("producers", "consumers"), [(1, 1), (1, 4), (4, 4), (3, 5)],
                         ids=lambda n: str(n))
def test_nats_verifies(producers, consumers, capacity):
    scenario = Scenario(producers, consumers, 400, capacity=capacity, payload=16)
    assert nats.unsupported(scenario) is None
    check_run(nats, scenario)
    assert _strays("nats") == []


@pytest.mark.timeout(20)
def test_refuses_other_stops_with_one_line():
    for stop in ("barrier", "event", "event:1ms"):
        reason = nats.unsupported(Scenario(2, 2, 10, capacity=16, stop=stop))
        assert isinstance(reason, str) and reason.startswith("nats stops with sentinels only"), reason
        assert "\n" not in reason


@pytest.mark.timeout(30)
def test_external_server_nothing_started(monkeypatch):
    server = servers.start_nats()
    try:
        monkeypatch.setenv(servers.BROKER_ENV, f"nats://127.0.0.1:{server.port}")
        result = check_run(nats, Scenario(2, 2, 400, capacity=16, payload=16))
        assert result.outcome.extras["server_startup_s"] == 0.0
        assert servers.current_server("nats") is None  # nothing started
        monkeypatch.setenv(servers.BROKER_ENV, "redis://127.0.0.1:1")  # another kind's: nats starts its own
        assert nats.unsupported(Scenario(1, 1, 10)) is None
        assert servers.broker("nats").server is not None
    finally:
        server.stop()
