"""A Redis stream read by a consumer group between producer and consumer processes (not from the seeds).

Producers XADD, consumers XREADGROUP as members of one consumer group and XACK what they took: the broker
keeps the delivered and not yet acknowledged entries (the group's pending entries list), so a run checks
acknowledged delivery, not only delivery. Everything else is redis_list's (variants/redis_list.py), reused
rather than copied: the worker processes, the connections, the run's own key (`prodcon:<run id>:stream`,
the only key the run touches, deleted afterwards), the permits bounding capacity, the batches, the stops,
the lost-broker event and error, the broker (variants/servers.py) and `server_startup_s`. `RedisStream`
is a `RedisList` whose sending, fetching and closing speak to a stream.

Batches. In a flat run a producer sends its items in batches of up to redis_list.PUSH_BATCH (100) XADDs
pipelined in one round trip (one connection: the entries keep its order); in paced runs it adds each item
alone, the moment it is due. A consumer asks XREADGROUP for up to redis_list.DRAIN (100) entries when it
has no work to do, for 1 otherwise (so that items go to whichever consumer is free), blocking at most POLL
(0.5 s) at a time so that a lost broker or a stop is noticed. It acknowledges each entry once it has
handed it to the scenario's work: the acknowledgements of the entries handed over since its last read
ride in the same pipelined round trip as its next XREADGROUP, and its sentinel's (with everything still
unacknowledged) are sent at once, before it stops. After the run, outside the clock, run() asks XPENDING
for the group's pending entries: any left (delivered, never acknowledged) fail the run.

Capacity is redis_list's semaphore: a producer holds a permit for each item from before it joins its batch
until a consumer hands it to the work, so items put and not yet taken (in a batch, in the stream unread,
or read into a consumer's batch) never exceed capacity, exactly. Acknowledged entries stay in the stream
(XACK does not delete them) until the key is deleted after the run: they are history, not items held.

Order (FIFO = True, as the verifier means it: each consumer sees each producer's items in the order they
were put). A producer's entries get increasing IDs, and the group hands entries out in ID order (its last
delivered ID only moves forward, and nothing is ever claimed back or delivered again), so whatever subset
of a producer's items one consumer gets, it gets in order. Across consumers nothing is promised.

Stop: sentinels and barrier, as redis_list stops; a consumer that read sentinels beyond its own adds them
back as new entries (with their permits) and acknowledges the ones it read. No event stop: Redis 6.2
(the server here is 6.2.14, hz 10) ends a blocked XREADGROUP's BLOCK only on its 100 ms tick, as it does
BRPOP's timeout; measured on an idle server, 20 reads each: BLOCK 10 and BLOCK 1 both returned empty after
97-104 ms (median 100.5 ms), BRPOP 0.01 the same (and BLOCK 0 blocks for ever).
"""

from __future__ import annotations

import os
import pickle
import queue

from variants import workload
from variants.contract import Outcome, Scenario
from variants.redis_list import (
    POLL,
    BrokerLostError,
    RedisList,
    broker_unavailable,
    connection_errors,
    run_key,
    run_on_broker,
)

NAME = "redis_stream"
MODEL = "broker"  # processes, and a server between them
SUMMARY = ("a Redis stream (XADD, XREADGROUP, XACK) read by a consumer group on a local redis-server between "
           "processes, a semaphore bounding items")
SEED = "-"  # not from the suite's seed documents
FIFO = True  # one stream, entries read in ID order: each consumer gets each producer's items in order

GROUP = "consumers"  # the run's one consumer group
FIELD = b"i"  # an entry's one field: the pickled item
POLL_MS = round(POLL * 1000)  # XREADGROUP's BLOCK, in milliseconds (never 0: that blocks for ever)


class RedisStream(RedisList):
    """redis_list's buffer over a stream and its consumer group: the parent creates both before the clock;
    a consumer also keeps the IDs of the entries it handed over and has not yet acknowledged.

    Invariant: items put and not yet taken <= capacity, held by the permits (None: unbounded).
    """

    def __init__(self, ctx, scenario: Scenario, url: str, key: str) -> None:
        super().__init__(ctx, scenario, url, key)
        self._unacked: list[bytes] = []  # a consumer's entries handed over, not yet acknowledged
        self._name = ""  # a consumer's name in the group, set in open()
        try:
            self._client.xgroup_create(key, GROUP, id="0", mkstream=True)
        except connection_errors() as exc:
            self._client.close()
            raise self._lost_now(exc) from None

    def open(self, role: str, index: int, stamped: bool) -> None:
        """In a worker's process: redis_list's opening, and the consumer's name in the group."""
        super().open(role, index, stamped)
        self._name = f"{role}-{os.getpid()}"

    def _send(self, values: list[bytes]) -> None:
        """Add pickled values to the stream, in order: one XADD, or a pipeline of them (one round trip)."""
        if len(values) == 1:
            self._client.xadd(self.key, {FIELD: values[0]})
            return
        pipe = self._client.pipeline(transaction=False)
        for value in values:
            pipe.xadd(self.key, {FIELD: value})
        pipe.execute()

    def _ack(self, pipe) -> None:
        """Queue on `pipe` the acknowledgement of every entry handed over since the last one."""
        if self._unacked:
            pipe.xack(self.key, GROUP, *self._unacked)
            self._unacked = []

    def _get(self, block: bool = True, timeout: float | None = None):
        """A consumer's get, called as multiprocessing.Queue's is: the next item (queue.Empty if none came
        within `timeout`), its permit released and its entry marked for acknowledgement as it is handed
        over; a sentinel's acknowledgements are sent at once."""
        local = self._local
        if not local:
            self._fetch(0.0 if not block else timeout)
        entry, value = local.popleft()
        item = pickle.loads(value)
        self._unacked.append(entry)
        if item is workload.SENTINEL:
            self._push_back()
        if self._slots is not None:
            self._slots.release()
        return item

    def _fetch(self, timeout: float | None) -> None:
        """Acknowledge what was handed over and read the next entries into the consumer's batch, in one
        round trip: up to its drain, blocking POLL at a time (`timeout`: once for that long, 0: not)."""
        block = POLL_MS if timeout is None else None if timeout == 0.0 else max(1, round(timeout * 1000))
        try:
            while True:
                pipe = self._client.pipeline(transaction=False)
                self._ack(pipe)
                pipe.xreadgroup(GROUP, self._name, {self.key: ">"}, count=self._drain, block=block)
                reply = pipe.execute()[-1]
                if reply:
                    break
                if timeout is not None:
                    raise queue.Empty
                if self._lost.is_set():
                    raise BrokerLostError("broker connection lost (seen by another worker)")
        except connection_errors() as exc:
            raise self._lost_now(exc) from None
        self._local.extend((entry, fields[FIELD]) for entry, fields in reply[0][1])

    def _push_back(self) -> None:
        """A consumer's sentinel: add back what it read beyond it (other consumers' sentinels) as new
        entries, permits and all, and acknowledge everything it read, in one round trip."""
        rest = list(self._local)
        self._local.clear()
        self._unacked += [entry for entry, _ in rest]
        try:
            pipe = self._client.pipeline(transaction=False)
            for _, value in rest:
                pipe.xadd(self.key, {FIELD: value})
            self._ack(pipe)
            pipe.execute()
        except connection_errors() as exc:
            raise self._lost_now(exc) from None

    def unacknowledged(self) -> str | None:
        """The parent's side, after the run: why the group's pending entries list is not empty, or None."""
        pending = self._client.xpending(self.key, GROUP)
        if not pending["pending"]:
            return None
        who = ", ".join(f"{c['name'].decode()}: {c['pending']}" for c in pending["consumers"])
        return f"stream entries delivered and never acknowledged: {pending['pending']} (XPENDING; {who})"

    def close(self) -> None:
        """The parent's side, after the run: the pending entries check (a failure of the run unless the
        broker was lost), then redis_list's close (delete the run's key, close the connection)."""
        try:
            if self._client is not None and self.failure is None and not self._lost.is_set():
                self.failure = self.unacknowledged()
        finally:
            super().close()


def Buffer(ctx, scenario: Scenario, url: str, key: str) -> RedisStream:  # noqa: N802 - like redis_list's
    """The run's stream (a module name, so that a harness can watch it)."""
    return RedisStream(ctx, scenario, url, key)


def unsupported(scenario: Scenario) -> str | None:
    """Sentinels and barrier (see the module docstring), if redis-py imports and a broker can be had."""
    why = broker_unavailable()
    if why:
        return why
    if scenario.stop not in ("sentinels", "barrier"):
        return ("redis_stream stops with sentinels or barrier only: Redis 6.2 ends XREADGROUP's BLOCK on its "
                "100 ms tick (measured: BLOCK 10 returns after ~100 ms), so the event stop's 10 ms takes "
                "would last up to 100 ms")
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once with P producer and C consumer processes around one Redis stream; fail it if
    the consumer group left an entry unacknowledged (checked after the clock)."""
    key = run_key("stream")
    return run_on_broker(scenario, lambda ctx, url: Buffer(ctx, scenario, url, key))
