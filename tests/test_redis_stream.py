"""redis_stream: a Redis stream and one consumer group between processes (variants/redis_stream.py).

- it verifies like every design (tests/test_designs.py's check_run) at 1:1, 1:4, 4:4 and 3:5, capacities
  1, 16 and unbounded, payload 16; paced and one-at-a-time runs and the barrier stop too; event is refused;
- an entry a consumer took and never acknowledged fails the run, even though every item arrived once;
- a server killed in the middle of a run fails it in time, "broker connection lost", leaving nothing
  running;
- with PRODCON_BROKER set, nothing is started and only the run's own stream key is touched (and deleted).

The server fixtures and helpers are tests/test_brokers.py's.
"""

from __future__ import annotations

import multiprocessing

import pytest
import redis

from bench.once import run_once
from bench.verify import verify
from tests.test_brokers import _own_broker  # noqa: F401 - _own_broker: the autouse fixture
from tests.test_designs import check_run
from variants import redis_list, redis_stream, servers
from variants.contract import Outcome, Scenario


@pytest.mark.timeout(40)
@pytest.mark.parametrize("capacity", [1, 16, None], ids=lambda c: f"cap{'inf' if c is None else c}")
@pytest.mark.parametrize(("producers", "consumers"), [(1, 1), (1, 4), (4, 4), (3, 5)],
                         ids=lambda n: str(n))
def test_redis_stream_verifies(producers, consumers, capacity):
    scenario = Scenario(producers, consumers, 400, capacity=capacity, payload=16)
    assert redis_stream.unsupported(scenario) is None
    check_run(redis_stream, scenario)


@pytest.mark.timeout(40)
def test_stops_paced_and_one_at_a_time():
    first = check_run(redis_stream, Scenario(2, 3, 300, capacity=4, stop="barrier"))
    assert first.outcome.extras["server_startup_s"] > 0  # started for this run
    for scenario in (Scenario(2, 2, 300, capacity=16, arrival="steady:20000", work="io:50us"),
                     Scenario(2, 2, 300, capacity=2, work="cpu:20us")):
        assert check_run(redis_stream, scenario).outcome.extras["server_startup_s"] == 0.0  # reused
    reason = redis_stream.unsupported(Scenario(2, 2, 10, capacity=16, stop="event"))
    assert isinstance(reason, str) and "100 ms" in reason and "\n" not in reason


@pytest.mark.timeout(30)
def test_an_entry_left_unacknowledged_fails_the_run(monkeypatch):
    """One consumer forgets to acknowledge one entry it handed over: every item still arrives exactly once,
    in order, so only the group's pending entries list can tell."""
    forgotten = multiprocessing.Value("i", 0)  # shared by the forked consumers: one entry in all
    acknowledge = redis_stream.RedisStream._ack

    def forgetful(self, pipe) -> None:
        if self._unacked:
            with forgotten.get_lock():
                if not forgotten.value:
                    forgotten.value = 1
                    self._unacked = self._unacked[1:]
        acknowledge(self, pipe)

    monkeypatch.setattr(redis_stream.RedisStream, "_ack", forgetful)
    scenario = Scenario(2, 3, 600, capacity=16, payload=16)
    result = run_once(redis_stream, scenario)
    assert forgotten.value == 1
    assert result.status == "failed", result
    reason = result.reason
    assert "stream entries delivered and never acknowledged: 1 (XPENDING; consumer-" in reason, reason
    assert "\n" not in reason
    outcome = result.outcome
    assert len(outcome.errors) == 1 and outcome.errors[0].startswith("parent: ")
    assert verify(scenario, Outcome(outcome.elapsed, outcome.received), fifo=True) is None  # all else right
    assert multiprocessing.active_children() == []


@pytest.mark.timeout(30)
def test_external_server_only_the_runs_key_is_touched(monkeypatch):
    server = servers.start_redis()
    try:
        client = redis.Redis(host="127.0.0.1", port=server.port)
        client.set("user:keep", b"mine")
        other = "prodcon:another-run:stream"  # another run's stream, its group and a pending entry
        client.xgroup_create(other, redis_stream.GROUP, id="0", mkstream=True)
        client.xadd(other, {b"i": b"theirs"})
        client.xreadgroup(redis_stream.GROUP, "them", {other: ">"}, count=1)
        keys: list[str] = []
        monkeypatch.setattr(redis_stream, "run_key", lambda kind: keys.append(redis_list.run_key(kind))
                            or keys[-1])
        monkeypatch.setenv(servers.BROKER_ENV, f"redis://127.0.0.1:{server.port}")
        result = check_run(redis_stream, Scenario(2, 2, 400, capacity=16, payload=16))
        assert result.outcome.extras["server_startup_s"] == 0.0
        assert servers.current_server() is None  # nothing started
        assert len(keys) == 1 and keys[0].startswith("prodcon:") and keys[0].endswith(":stream")
        assert client.exists(keys[0]) == 0  # deleted after the run
        assert sorted(client.keys("*")) == [other.encode(), b"user:keep"]
        assert client.get("user:keep") == b"mine"
        assert client.xlen(other) == 1 and client.xpending(other, redis_stream.GROUP)["pending"] == 1
        client.close()
    finally:
        server.stop()
