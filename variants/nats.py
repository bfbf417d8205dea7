"""Core NATS between producer and consumer processes: a queue group on a local nats-server (not from seeds).

Producers publish to the run's subject; consumers subscribe to it in one queue group, and the server hands
each message to one member of the group. Each process has one connection of its own (nats-py, on an asyncio
loop that the process runs only inside its own `put` and `get`), to the worker process's own nats-server
(variants/servers.py: started on first use outside the clock, reused by later runs, `server_startup_s` in
the extras; TCP on 127.0.0.1, NATS has no unix socket) or to the server PRODCON_BROKER names
(`nats://HOST:PORT`). Items are pickled, as `redis_list`, `multiprocess` and `zmq` pickle theirs. Every
run keeps to subjects of its own (`prodcon.<run id>.`), so nothing else on a shared server is touched.
Worker processes, start gate, the run around them and clean-up are redis_list's (`run_on_broker`:
its workers, the lost-broker handling, server reaping), which are the `multiprocess` design's processes.

Core NATS or JetStream. Core NATS delivers at most once: a message is dropped if no member of the group has
subscribed yet, if a client's pending buffer is full (nats-py drops it and calls the error callback), or if
the server's buffer for a slow client passes its max_pending (the server closes that connection). The
design makes each of these impossible or loud: every consumer subscribes, and flushes (a PING answered
means the server holds the subscription), before the start gate, so before any publish; its subscriptions
have no pending limit (0: unbounded), so nats-py never drops; and the capacity semaphore bounds the
messages the server holds for a consumer, so with a capacity it never nears max_pending (64 MB), and a
slow-consumer cut (possible only unbounded, past 64 MB held for one consumer) closes a connection, which
fails the run as a lost broker, never losing an item silently. So core NATS keeps the contract and
verifies, and it needs no acks: JetStream's work-queue stream with a pull consumer also keeps it (stored,
acked, redelivered after ack_wait, so an item held past ack_wait by a slow consumer would come twice unless
acked on take), but every publish waits for its stream acknowledgement and every take is a fetch request
and an ack. Measured on the suite's server (2 cores, nats-py 2.16, nats-server 2.15.1, 20,000 pickled
items of 16 bytes, one publishing and one subscribing connection on one event loop): core NATS moved them
in 0.12 s (165,000/s, twice); a JetStream work-queue stream in memory, each publish awaiting its ack and
a pull consumer fetching 100 at a time and acking each, in 3.9 and 4.8 s (4,000-5,000/s): 30-40x slower
for a guarantee the design already has.

Batches. In a flat run a producer publishes up to PUSH_BATCH items per turn of its event loop (the client
writes them in one go); in paced runs it publishes each item the moment it is due. A consumer's loop moves
everything its connection has read into the consumer's own batch, so items already delivered are handed
over without another turn.

Capacity counts items, exactly as in `redis_list`: a multiprocessing semaphore of `capacity` permits, one
acquired by a producer for an item before the item joins its batch, released by a consumer when it hands
the item to the scenario's work. Items put and not yet taken, in a producer's batch, in the server, in a
socket or in a consumer's batch, never exceed capacity. A producer that finds no free permit first sends
its batch and waits until the server has it (a flush: PING and PONG), then waits for a permit: its unsent
items never hold up the consumers it waits for.

Stop: sentinels only. NATS keeps the order of one publisher's messages to one subscriber, not across
publishers, and a queue group routes each message to a member at random: C sentinels sent to the group
could reach one consumer twice and another never. So a producer, once its items are all sent, flushes
(the server answers the PING only after it has routed every earlier message into its subscribers'
buffers), and only then says `done`; the parent, after every producer's `done`, publishes one empty end
message to each consumer's own subject (`prodcon.<run id>.end.<c>`). On a consumer's connection the end
message therefore follows every item routed to it, and the client queues what it reads in that order: a
consumer stops once it has its end message and no item is left in its subscription or its batch. End
messages hold no permit. Unlike `zmq` the sentinels can come from the parent, because the flush tells a
producer that the server has routed its items, which ZeroMQ cannot. No barrier stop: a consumer cannot put
the one sentinel back for another consumer (the group may route it back to itself). No event stop: a take
that times out does not show the buffer empty (items may still be in the server or a socket).

A lost broker (the server died, a connection dropped) fails the run: the worker that sees it reports
"broker connection lost: ..." and sets an event that every waiting worker looks at every POLL seconds.
Connections do not reconnect. A dead server of this process is reaped after the run, and the next run starts
another.
"""

from __future__ import annotations

import asyncio
import importlib
import pickle
import uuid
from collections import deque
from functools import cache

from variants import servers, workload
from variants.contract import Outcome, Scenario
from variants.redis_list import BrokerLostError, Permits, one_line, run_on_broker

NAME = "nats"
MODEL = "broker"  # processes, and a server between them
SUMMARY = "core NATS: a queue group on a local nats-server between processes, a semaphore bounding items"
SEED = "-"  # not from the suite's seed documents
FIFO = True  # NATS keeps each publisher's order to each subscriber

PUSH_BATCH = 100  # items a flat producer publishes per turn of its event loop
POLL = 0.5  # seconds a waiting worker blocks before it looks whether the broker was lost elsewhere
TIMEOUT = 10.0  # seconds to connect, and for a flush's PONG
SUBJECT_PREFIX = "prodcon."  # every subject of the suite's runs starts so; a run's own: prodcon.<run id>.
GROUP = "consumers"  # the consumers' queue group

# A forked worker inherits the parent's loop and connection: they are never run there, and kept here so that
# the garbage collector does not close the parent's socket in the child or complain of pending tasks.
_INHERITED: list = []


@cache
def _library():
    """The nats module, or the ImportError that says why not (imported on first use only)."""
    try:
        return importlib.import_module("nats")  # the library: this module is variants.nats
    except ImportError as exc:
        return exc


def _errors() -> tuple[type[BaseException], ...]:
    """What nats-py raises when the connection is gone or the server does not answer."""
    return _library().errors.Error, OSError, asyncio.TimeoutError


class Subjects(Permits):
    """What every worker is given as its buffer: the run's subjects, its permits and the lost-broker event;
    once `open` has run in a worker's process, that worker's loop and connection, its `put` (producer) or
    `get` (consumer), and its batch. In the parent, `put` sends the end messages and `close` ends the run.

    Invariant: items put and not yet taken <= capacity, held by `_slots` (None: unbounded).
    """

    def __init__(self, ctx, scenario: Scenario, url: str, prefix: str) -> None:
        self.url = url
        self.items = f"{prefix}items"
        self.ends = [f"{prefix}end.{c}" for c in range(scenario.consumers)]
        self._slots = None if scenario.capacity is None else ctx.BoundedSemaphore(scenario.capacity)
        self._lost = ctx.Event()  # set by any process that lost its connection: waiters give up
        self._push_batch = 1
        self._pending: list[bytes] = []  # a producer's pickled items not yet published
        self._local: deque = deque()  # a consumer's items read from its connection, not yet handed over
        self._ended = False  # a consumer's end message has come
        self._broken: str | None = None  # why this process's connection closed, if it did
        self._waiter: asyncio.Future | None = None  # a consumer's wait, woken by what its connection reads
        self._sub = None  # a consumer's subscription to the items
        self._ends_sent = 0  # the parent's end messages so far
        self.failure: str | None = None  # the parent's own loss of the broker, if any
        self._loop = self._nc = None
        self._connect()  # the parent's; a worker makes its own in open()

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_loop": None, "_nc": None}  # a spawned worker connects in open()

    def _run(self, coroutine):
        """Run the process's loop until the coroutine is done (the loop runs only inside these calls)."""
        return self._loop.run_until_complete(coroutine)

    def _connect(self) -> None:
        self._loop = asyncio.new_event_loop()  # a forked worker leaves its parent's loop and socket alone
        try:
            self._nc = self._run(_library().connect(
                self.url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=TIMEOUT,
                error_cb=self._on_error, disconnected_cb=self._on_closed, closed_cb=self._on_closed))
        except _errors() as exc:
            raise self._lost_now(exc) from None

    async def _on_error(self, exc: Exception) -> None:
        self._broken = self._broken or one_line(exc)
        self._wake()

    async def _on_closed(self) -> None:
        self._broken = self._broken or "the connection closed"
        self._wake()

    # --- a worker's side ---

    def open(self, role: str, index: int, stamped: bool) -> None:
        """In a worker's process, before the gate: its own connection; a consumer's subscriptions, held by
        the server before the gate opens; and its hand-off, bound once."""
        _INHERITED.append((self._loop, self._nc))  # a forked worker's copy of the parent's: never run, kept
        self._connect()
        if role == "consumer":
            try:
                self._sub = self._run(self._nc.subscribe(
                    self.items, queue=GROUP, cb=self._on_item, pending_msgs_limit=0, pending_bytes_limit=0))
                self._run(self._nc.subscribe(self.ends[index], cb=self._on_end))
                self._run(self._confirm())  # answered: the server has both subscriptions
            except _errors() as exc:
                raise self._lost_now(exc) from None
            self.get = self._get
        else:  # a paced producer publishes each item at once
            self._push_batch = 1 if stamped else PUSH_BATCH
            self.put = self._put

    def _put(self, item) -> None:
        """A producer's put: a permit (sending the batch first if none is free), then into the batch."""
        slots = self._slots
        if slots is not None and not slots.acquire(False):
            self.flush()
            self._acquire()
        self._pending.append(pickle.dumps(item, pickle.HIGHEST_PROTOCOL))
        if len(self._pending) >= self._push_batch:
            self._send(confirm=False)

    def flush(self) -> None:
        """Send the producer's batch and wait until the server has routed it (a flush: PING, PONG)."""
        self._send(confirm=True)

    def _send(self, confirm: bool) -> None:
        pending, self._pending = self._pending, []
        try:
            self._run(self._publish(pending, confirm))
        except _errors() as exc:
            raise self._lost_now(self._broken or exc) from None

    async def _publish(self, batch: list[bytes], confirm: bool) -> None:
        publish, subject = self._nc.publish, self.items
        for data in batch:
            await publish(subject, data)
        if confirm:
            await self._confirm()
        else:
            await asyncio.sleep(0)  # one turn: the client's flusher task writes the batch to the socket

    async def _confirm(self) -> None:
        """A flush (PING, then the server's PONG once it has handled everything sent before), given up as soon
        as the connection closes: nats-py would leave the PONG's wait running until TIMEOUT."""
        flush = asyncio.ensure_future(self._nc.flush(TIMEOUT))
        flush.add_done_callback(lambda _: self._wake())
        while not flush.done() and not self._broken:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if not flush.done():
            flush.cancel()
            raise _library().errors.ConnectionClosedError
        flush.result()

    async def _on_item(self, msg) -> None:
        self._local.append(msg.data)
        self._wake()

    async def _on_end(self, msg) -> None:
        self._ended = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _get(self, block: bool = True, timeout: float | None = None):
        """A consumer's get, called as multiprocessing.Queue's is: the next item, its permit released as it is
        handed over; the sentinel once the end message has come and no item is left. Always blocks."""
        if not block or timeout is not None:
            raise ValueError("nats's get always blocks: the design takes no event stop")
        local = self._local
        while not local:
            # an item read before the end message is in the subscription's queue or in `local`
            if self._ended and self._sub.pending_msgs == 0:
                return workload.SENTINEL
            self._wait()
        item = pickle.loads(local.popleft())
        if self._slots is not None:
            self._slots.release()
        return item

    def _wait(self) -> None:
        """Run the loop until the connection brings something, POLL at most; raise if the broker is lost."""
        if self._broken or self._nc.is_closed:
            raise self._lost_now(self._broken or "the connection closed")
        if self._lost.is_set():
            raise BrokerLostError("broker connection lost (seen by another worker)")
        loop = self._loop
        self._waiter = waiter = loop.create_future()
        timer = loop.call_later(POLL, self._wake)
        try:
            self._run(waiter)
        finally:
            timer.cancel()
            self._waiter = None

    def shut(self) -> None:
        """Close the worker's connection and its loop."""
        if self._nc is not None:
            try:
                self._run(self._nc.close())
            except _errors():
                pass  # a lost broker was reported already
            self._nc = None
        if self._loop is not None:
            self._run(_cancel_all())  # the client's tasks, stopped by close(): let them end
            self._loop.close()
            self._loop = None

    # --- the parent's side ---

    def put(self, item) -> None:
        """The parent's put: the next consumer's end message, flushed. It never raises: a lost broker is kept
        in `failure` (the run's error) and told to the workers, which fail on their own."""
        subject = self.ends[self._ends_sent]
        self._ends_sent += 1
        if self.failure is not None:
            return
        try:
            self._run(self._publish_end(subject))
        except _errors() as exc:
            self.failure = str(self._lost_now(self._broken or exc))

    async def _publish_end(self, subject: str) -> None:
        await self._nc.publish(subject, b"")
        await self._confirm()

    def close(self) -> None:
        """The parent's side, after the run: close its connection and loop (once)."""
        self.shut()

    def join_thread(self) -> None:
        """No thread of the parent's to join."""

    def __repr__(self) -> str:
        free = "unbounded" if self._slots is None else f"free={self._slots.get_value()}"
        return f"<Subjects {self.items} {free} lost={self._lost.is_set()}>"


async def _cancel_all() -> None:
    """Cancel every other task of the running loop and wait until each has ended."""
    tasks = asyncio.all_tasks() - {asyncio.current_task()}
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def Buffer(ctx, scenario: Scenario, url: str, prefix: str) -> Subjects:  # noqa: N802 - like the others' Buffer
    """The run's subjects (a module name, so that a harness can watch it)."""
    return Subjects(ctx, scenario, url, prefix)


def unsupported(scenario: Scenario) -> str | None:
    """Sentinels only (see the module docstring), if nats-py imports and a server can be had."""
    library = _library()
    if isinstance(library, ImportError):
        return f"nats cannot be imported (pip install nats-py): {library}"
    why = servers.unavailable("nats")
    if why:
        return why
    if scenario.stop == "barrier":
        return ("nats stops with sentinels only: a queue group routes a message to a member at random, so a "
                "consumer cannot put the barrier stop's one sentinel back for another")
    if scenario.stop != "sentinels":
        return ("nats stops with sentinels only: a take that times out does not show the buffer empty "
                "(items may still be in the server or a socket), so the event stop could lose items")
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once with P producer and C consumer processes around one NATS queue group (the
    worker processes and the run around them are redis_list's: `run_on_broker`)."""
    prefix = f"{SUBJECT_PREFIX}{uuid.uuid4().hex}."
    return run_on_broker(scenario, lambda ctx, url: Buffer(ctx, scenario, url, prefix), kind="nats")
