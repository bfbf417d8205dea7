"""A Redis list between producer and consumer processes: the buffer moved into a broker (not from the seeds).

Producers LPUSH, consumers BRPOP, each process over one connection of its own (redis-py, with hiredis when
installed), over a unix socket to the worker process's own server (variants/servers.py: started on first
use outside the clock, reused by later runs, `server_startup_s` in the extras) or over TCP to the server
PRODCON_BROKER names. Items are pickled, as `multiprocess`, `faster_fifo` and `zmq` pickle theirs, so the
figures compare the transports. Every run keeps to one key of its own (`prodcon:<run id>:items`) and
deletes only that key afterwards. Processes, start gate and clean-up are the `multiprocess` design's
(variants/multiprocess.py: `run_processes`).

Batches. In a flat run (closed loop, nothing stamped) a producer sends its items in batches of up to
PUSH_BATCH values per LPUSH (one round trip each, the list keeping their order), and a consumer with no work
to do takes up to DRAIN items with one RPOP before it blocks in BRPOP. In paced runs a producer pushes
each item the moment it is due, so latency means what it means for the other designs; with work to do a
consumer takes one item at a time, so that items go to whichever consumer is free.

Capacity counts items, and a Redis list has no bound of its own. The bound is a multiprocessing semaphore
of `capacity` permits: a producer acquires one for an item before the item joins its batch, so it holds
permits for every item of a batch before sending it, and a consumer releases one when it hands an item to
the scenario's work (an item drained into a consumer's batch keeps its permit until then). Items put and
not yet taken, whether in a producer's batch, in the list or in a consumer's batch, never exceed capacity,
exactly. A producer that finds no free permit first sends the batch it holds, then waits: its own unsent
items never hold up the consumers it waits for. Sentinels hold permits too.

Stop: sentinels and barrier. With sentinels the parent pushes one per consumer once every producer has
sent all its items, so they lie behind every item; a consumer that drains sentinels beyond its own pushes
them back. With barrier, producer 0 pushes the one sentinel after the others have sent theirs, and each
consumer that takes it pushes it back. No event stop: Redis 6.2 checks a blocked take's timeout only on
its 100 ms cron tick, so the event stop's 10 ms takes would each last up to 100 ms (and a timeout under
1 ms rounds to 0, which blocks for ever). A consumer whose work failed keeps taking until its sentinel, so
that no producer waits on the permits it holds.

A lost broker (the server died, a connection dropped) fails the run: the worker that sees it reports
"broker connection lost: ..." and sets an event every waiting worker looks at every POLL seconds, so no
one waits for ever on a server that is gone. A dead server of this process is reaped after the run, and
the next run starts another.

Shared with the other Redis design (variants/redis_stream.py, a stream and a consumer group): the worker
(`_worker`), the buffer's permits, batches and lost-broker event (`RedisList`: a subclass replaces `_send`,
`_get`, `_fetch`, `_push_back` and extends `open` and `close`), `run_key`, `connection_errors`,
`broker_unavailable` and `run_on_broker`.
"""

from __future__ import annotations

import importlib
import pickle
import queue
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from functools import cache

from variants import servers, workload
from variants.contract import Outcome, Scenario
from variants.multiprocess import run_processes
from variants.threads import StartGate, consume, produce

NAME = "redis_list"
MODEL = "broker"  # processes, and a server between them
SUMMARY = "a Redis list (LPUSH/BRPOP) on a local redis-server between processes, a semaphore bounding items"
SEED = "-"  # not from the suite's seed documents
FIFO = True  # one list: LPUSH at one end, RPOP at the other, and a producer's batch keeps its order

PUSH_BATCH = 100  # values per LPUSH in flat runs
DRAIN = 100  # items one RPOP may take, for a consumer with no work to do
POLL = 0.5  # seconds a waiting worker blocks before it looks whether the broker was lost elsewhere
SOCKET_TIMEOUT = 10.0  # seconds redis-py waits for a reply (a BRPOP of POLL returns well before)
KEY_PREFIX = "prodcon:"  # every key of the suite's runs starts so; a run's own: prodcon:<run id>:


@cache
def _library():
    """The redis module, or the ImportError that says why not (imported on first use only)."""
    try:
        return importlib.import_module("redis")
    except ImportError as exc:
        return exc


class BrokerLostError(Exception):
    """The connection to the broker is gone (the server died, or a connection dropped)."""


def _client(url: str):
    """A connection to the broker, made now: no retries (a lost broker fails the run at once)."""
    redis = _library()
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), socket_timeout=SOCKET_TIMEOUT,
                                  socket_connect_timeout=SOCKET_TIMEOUT)
    client.ping()
    return client


def run_key(kind: str) -> str:
    """A key of a run's own: `prodcon:<run id>:<kind>` (the only key that run touches)."""
    return f"{KEY_PREFIX}{uuid.uuid4().hex}:{kind}"


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (its type's name if it has none)."""
    return " ".join(str(exc).split()) or type(exc).__name__


class Permits:
    """What every broker design's buffer shares (redis_list's, redis_stream's, nats's): the permits that
    bound items in flight (`_slots`, None: unbounded) and the event that tells every worker the broker is
    gone (`_lost`), both made by the subclass."""

    def _lost_now(self, exc: BaseException | str) -> BrokerLostError:
        """Tell every worker the broker is gone; the exception to raise."""
        self._lost.set()
        why = exc if isinstance(exc, str) else one_line(exc)
        return BrokerLostError(f"broker connection lost: {why}")

    def _acquire(self) -> None:
        """Wait for a free permit, giving up if the broker was lost (no one would release one)."""
        while not self._slots.acquire(True, POLL):
            if self._lost.is_set():
                raise BrokerLostError("broker connection lost (seen by another worker)")


class RedisList(Permits):
    """What every worker is given as its buffer: the run's key, its permits and the lost-broker event; once
    `open` has run in a worker's process, that worker's connection, its `put` (producer) or `get`
    (consumer), and its batch. In the parent, `put` pushes the stop's sentinels and `close` ends the run.

    Invariant: items put and not yet taken <= capacity, held by `_slots` (None: unbounded).
    """

    def __init__(self, ctx, scenario: Scenario, url: str, key: str) -> None:
        self.url, self.key = url, key
        self._slots = None if scenario.capacity is None else ctx.BoundedSemaphore(scenario.capacity)
        self._lost = ctx.Event()  # set by any process that lost its connection: waiters give up
        self._drain = DRAIN if workload.parse_work(scenario.work).kind == "none" else 1
        self._push_batch = 1
        self._pending: list[bytes] = []  # a producer's pickled items not yet sent
        self._local: deque = deque()  # a consumer's items taken from the list and not yet handed over
        self.failure: str | None = None  # the parent's own loss of the broker, if any
        self._client = self._connect()  # the parent's; a worker makes its own in open()

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_client": None}  # a spawned worker connects in open()

    def _connect(self):
        try:
            return _client(self.url)
        except connection_errors() as exc:
            raise self._lost_now(exc) from None

    # --- a worker's side ---

    def open(self, role: str, index: int, stamped: bool) -> None:
        """In a worker's process, before the gate: its own connection, and its hand-off bound once."""
        self._client = self._connect()
        # a consumer puts only the barrier's sentinel back, at once; a paced producer every item at once
        self._push_batch = PUSH_BATCH if role == "producer" and not stamped else 1
        self.put, self.get = self._put, self._get

    def _put(self, item) -> None:
        """A producer's put: a permit (sending the batch first if none is free), then into the batch."""
        slots = self._slots
        if slots is not None and not slots.acquire(False):
            self.flush()
            self._acquire()
        self._pending.append(pickle.dumps(item, pickle.HIGHEST_PROTOCOL))
        if len(self._pending) >= self._push_batch:
            self.flush()

    def flush(self) -> None:
        """Send the producer's batch: one LPUSH, its items in order."""
        if self._pending:
            pending, self._pending = self._pending, []
            try:
                self._send(pending)
            except connection_errors() as exc:
                raise self._lost_now(exc) from None

    def _send(self, values: list[bytes]) -> None:
        """Put pickled values on the list, in order, in one round trip (redis-py's errors pass through)."""
        self._client.lpush(self.key, *values)

    def _get(self, block: bool = True, timeout: float | None = None):
        """A consumer's get, called as multiprocessing.Queue's is: the next item (queue.Empty if none came
        within `timeout`), its permit released as it is handed over."""
        local = self._local
        if not local:
            self._fetch(0.0 if not block else timeout)
        item = pickle.loads(local.popleft())
        if item is workload.SENTINEL and local:
            self._push_back()
        if self._slots is not None:
            self._slots.release()
        return item

    def _fetch(self, timeout: float | None) -> None:
        """Take the next items into the consumer's batch: RPOP up to its drain, else wait in BRPOP."""
        client, key, local = self._client, self.key, self._local
        try:
            if self._drain > 1 or timeout == 0.0:
                batch = client.rpop(key, self._drain)
                if batch:
                    local.extend(batch)
                    return
                if timeout == 0.0:
                    raise queue.Empty
            if timeout is None:
                while (reply := client.brpop(key, POLL)) is None:
                    if self._lost.is_set():
                        raise BrokerLostError("broker connection lost (seen by another worker)")
            elif (reply := client.brpop(key, timeout)) is None:
                raise queue.Empty
        except connection_errors() as exc:
            raise self._lost_now(exc) from None
        local.append(reply[1])

    def _push_back(self) -> None:
        """Return what a consumer drained beyond its sentinel (other consumers' sentinels) to the list's
        taking end, in order, permits and all."""
        rest = list(self._local)
        self._local.clear()
        try:
            self._client.rpush(self.key, *reversed(rest))
        except connection_errors() as exc:
            raise self._lost_now(exc) from None

    def shut(self) -> None:
        """Close the worker's connection."""
        if self._client is not None:
            self._client.close()
            self._client = None

    # --- the parent's side ---

    def put(self, item) -> None:
        """The parent's put: one stop sentinel, with its permit. It never raises: a lost broker is kept in
        `failure` (the run's error) and told to the workers, which fail on their own."""
        if self.failure is not None:
            return
        try:
            if self._slots is not None:
                self._acquire()
            self._send([pickle.dumps(item, pickle.HIGHEST_PROTOCOL)])
        except BrokerLostError as exc:
            self.failure = str(exc)
        except connection_errors() as exc:
            self.failure = str(self._lost_now(exc))

    def close(self) -> None:
        """The parent's side, after the run: delete the run's key, close the connection (once; a lost
        broker has nothing left to delete)."""
        if self._client is None:
            return
        try:
            self._client.delete(self.key)
        except connection_errors():
            if not self._lost.is_set():
                raise
        finally:
            self._client.close()
            self._client = None

    def join_thread(self) -> None:
        """No thread of the parent's to join."""

    def __repr__(self) -> str:
        free = "unbounded" if self._slots is None else f"free={self._slots.get_value()}"
        return f"<{type(self).__name__} {self.key} {free} lost={self._lost.is_set()}>"


def connection_errors() -> tuple[type[BaseException], ...]:
    """What redis-py raises when the connection is gone or the server does not answer."""
    redis = _library()
    return redis.ConnectionError, redis.TimeoutError, OSError


def Buffer(ctx, scenario: Scenario, url: str, key: str) -> RedisList:  # noqa: N802 - like the others' Buffer
    """The run's list (a module name, so that a harness can watch it)."""
    return RedisList(ctx, scenario, url, key)


def _worker(role: str, index: int, gate: StartGate, done, results, buffer: RedisList, task: tuple,
            stamped: bool, stop: workload.Stop, barrier, finished) -> None:
    """One producer (task: items, offsets) or consumer (task: work, spins), from its connection to `done`."""
    workload.set_timer_slack()  # equal waits: see docs/design.md, "Equal waits"
    try:
        buffer.open(role, index, stamped)
        opened = None
    except BaseException as exc:  # reported after the gate: the run must not wait for this worker
        opened = exc
    origin = gate.wait()
    cpu = time.process_time()
    got, stamps, error = [], [] if stamped else None, None
    try:
        if opened is not None:
            raise opened
        if role == "producer":
            _produce(buffer, index, task, origin, stamps, stop, barrier)
        else:
            _consume(buffer, got, task, stamps, stop)
    except BaseException as exc:  # reported to the parent; the verifier fails the run
        if barrier is not None:
            barrier.abort()  # the other producers would wait for this one for ever
        error = repr(exc)
    done.put(time.process_time() - cpu)  # the parent's clock waits for this
    results.put((role, index, got, stamps, error))
    buffer.shut()


def _produce(buffer, index: int, task: tuple, origin: float, stamps, stop: workload.Stop, barrier) -> None:
    try:
        produce(buffer.put, *task, origin, stamps)
    finally:
        buffer.flush()  # every item is in the list before `done` (and a failed batch frees its permits)
    if stop.kind == "barrier":
        barrier.wait()  # the others have sent their items
        if index == 0:
            buffer.put(workload.SENTINEL)  # one sentinel for all consumers, behind every item
            buffer.flush()


def _consume(buffer, got: list, task: tuple, stamps, stop: workload.Stop) -> None:
    get, failure = buffer.get, None
    try:
        consume(get, got, *task, stamps)
    except BrokerLostError:
        raise
    except BaseException as exc:
        failure = exc
        while get() is not workload.SENTINEL:  # drain: no producer waits on the permits this one holds
            pass
    if stop.kind == "barrier":
        buffer.put(workload.SENTINEL)  # put it back for the next consumer
        buffer.flush()
    if failure is not None:
        raise failure


def broker_unavailable() -> str | None:
    """Why a Redis design cannot run here (one line: redis-py does not import, no broker), or None."""
    library = _library()
    if isinstance(library, ImportError):
        return f"redis cannot be imported (pip install redis hiredis): {library}"
    return servers.unavailable()


def unsupported(scenario: Scenario) -> str | None:
    """Sentinels and barrier (see the module docstring), if redis-py imports and a broker can be had."""
    why = broker_unavailable()
    if why:
        return why
    if scenario.stop not in ("sentinels", "barrier"):
        return ("redis_list stops with sentinels or barrier only: Redis 6.2 ends a blocked take's timeout "
                "on its 100 ms tick, so the event stop's 10 ms takes would last up to 100 ms")
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once with P producer and C consumer processes around one Redis list."""
    key = run_key("items")
    return run_on_broker(scenario, lambda ctx, url: Buffer(ctx, scenario, url, key))


def run_on_broker(scenario: Scenario, make_buffer: Callable, kind: str = "redis") -> Outcome:
    """Run the scenario with `_worker` processes around the buffer `make_buffer(ctx, url)` makes on this
    process's broker of `kind` (variants/servers.py); then close it (its `failure`, if any, fails the run),
    reap a server that died, and report `server_startup_s`.

    The buffer: a RedisList, a subclass, or any object with the same worker side (open(role, index,
    stamped), put, get, flush, shut; a take that sees the broker lost raises BrokerLostError) and parent
    side (put, close, failure): nats's Subjects is one.
    """
    place = servers.broker(kind)  # before the clock: started now (server_startup_s) or reused
    made: list = []

    def make(ctx):
        made.append(buffer := make_buffer(ctx, place.url))
        return buffer

    try:
        outcome = run_processes(scenario, make, _worker)
    finally:
        for buffer in made:
            buffer.close()
        if place.server is not None and not place.server.alive():
            servers.stop_broker(kind)  # it died: reaped now, its folder removed; the next run starts another
    failure = made[0].failure if made else None
    errors = outcome.errors + ((f"parent: {failure}",) if failure else ())
    return replace(outcome, errors=errors, extras={**outcome.extras, "server_startup_s": place.startup_s})
