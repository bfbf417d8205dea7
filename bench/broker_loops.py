"""Plain hand loops doing each broker design's broker commands, for `bench fidelity --brokers`.

Each loop moves `items` pickled ints from one producer process to one consumer process through this
process's own server (variants/servers.py, as the designs' runs do), with the same commands, batches and
bytes as the design in its 1:1, flat, unbounded, no-work scenario, and nothing of the design's own
machinery (no permits, no buffer object, no deque, no per-item get, no lost-broker checks):

  redis_list    producer: LPUSH of up to 100 pickled values per call; consumer: RPOP up to 100, else BRPOP
  redis_stream  producer: 100 XADDs pipelined per round trip; consumer: XREADGROUP COUNT 100 in one group,
                the previous batch's XACK riding in the same pipeline, the last XACK sent at the sentinel
  nats          producer: 100 publishes per turn of its event loop, then a flush (PING/PONG) at the end;
                consumer: a queue-group subscription with a callback, on one event loop for the whole run

The end-of-run signal is the design's, so both do the same work: once the producer has said it is done,
the parent pushes one pickled sentinel (Redis) or publishes an empty end message to the consumer's own
subject and flushes (NATS). The batch sizes, group and field names come from the design modules, so a loop
follows its design's commands; what it leaves out is everything else the design does.

The clock is the designs' (variants/multiprocess.py, run_processes, and workload.TimedRegion): both
processes are started and connected before it, wait at a start barrier, and are released when it starts;
it stops when the parent has the consumer's word that it took the sentinel. Items are pickled inside the
clock, one `pickle.dumps(i, HIGHEST_PROTOCOL)` per item, as the designs pickle theirs: the same bytes.

Each run keeps to keys or subjects of its own (`prodcon-loop:<id>:` in Redis, `prodcon-loop.<id>.` in
NATS), deletes its key afterwards, and joins both processes before it returns.
"""

from __future__ import annotations

import asyncio
import importlib
import multiprocessing
import os
import pickle
import threading
import time
import uuid
from collections.abc import Callable

from variants import nats as nats_design
from variants import redis_list as list_design
from variants import redis_stream as stream_design
from variants import servers, workload

__all__ = ["ITEMS", "KEY_PREFIX", "SUBJECT_PREFIX", "LOOPS", "redis_list_loop", "redis_stream_loop",
           "nats_loop"]

ITEMS = 20_000  # items per run, as `bench fidelity` runs every design
KEY_PREFIX = "prodcon-loop:"  # every Redis key of these loops starts so (the designs' start `prodcon:`)
SUBJECT_PREFIX = "prodcon-loop."  # every NATS subject of these loops starts so
TIMEOUT = 30.0  # seconds the parent waits for a worker's word before it gives up
SENTINEL = pickle.dumps(workload.SENTINEL, pickle.HIGHEST_PROTOCOL)  # the designs' stop marker, pickled


class _Gate:
    """The start barrier: producer, consumer and parent check in, then the workers wait for the release."""

    def __init__(self, ctx) -> None:
        self.ready = ctx.Barrier(3, timeout=TIMEOUT)  # producer, consumer and parent: all connected
        self.go = ctx.Event()  # set by the parent as the clock starts

    def __call__(self) -> None:
        """A worker's side: check in, wait for the release."""
        self.ready.wait()
        self.go.wait()


class _Run:
    """A producer and a consumer process around one run, from their start to their join (a context).

    Each worker is `(body, *args)`: body(*args, gate, report) connects, calls gate() (the start barrier,
    then the release), does its part and calls report(count) once it is done; any exception it raises is
    reported instead.
    """

    def __init__(self, items: int, producer: tuple, consumer: tuple) -> None:
        ctx = multiprocessing.get_context()  # the designs' (run_processes)
        self.items = items
        self._gate = _Gate(ctx)
        self._reader, self._writer = ctx.Pipe(duplex=False)  # each worker's (role, count, error)
        self._workers = [ctx.Process(target=_worker, args=(role, *spec, self._gate, self._writer),
                                     daemon=True, name=role)
                         for role, spec in (("consumer", consumer), ("producer", producer))]

    def __enter__(self) -> _Run:
        for process in self._workers:
            process.start()
        return self

    def timed(self, end: Callable[[], None]) -> float:
        """Seconds from the release to the consumer's word; `end()` (the stop signal) once the producer is
        done. RuntimeError if a worker failed or the consumer did not take every item."""
        try:
            self._gate.ready.wait()
        except threading.BrokenBarrierError:
            raise RuntimeError(f"a worker failed before the start: {self._why()}") from None
        start = time.perf_counter()
        self._gate.go.set()
        self._take("producer")
        end()
        count = self._take("consumer")
        elapsed = time.perf_counter() - start
        if count != self.items:
            raise RuntimeError(f"the consumer took {count} items of {self.items}")
        return elapsed

    def _take(self, role: str) -> int:
        if not self._reader.poll(TIMEOUT):
            raise RuntimeError(f"no word from the {role} within {TIMEOUT:g} s")
        who, count, error = self._reader.recv()
        if error or who != role:
            raise RuntimeError(error or f"the {who} was done before the {role}")
        return count

    def _why(self) -> str:
        return self._reader.recv()[2] if self._reader.poll(1.0) else "no word from it"

    def __exit__(self, *exc_info) -> None:
        self._gate.ready.abort()  # a worker still at the barrier (the run failed) leaves it
        for process in self._workers:
            process.join(TIMEOUT if exc_info[0] is None else 1.0)
            if process.is_alive():
                process.kill()
                process.join()
        self._reader.close()
        self._writer.close()


def _worker(role: str, body: Callable, *args) -> None:
    """A worker process: the body; its failure reported, and the barrier broken so that no one waits."""
    workload.set_timer_slack()  # as the designs' workers do
    *args, gate, writer = args

    def report(count: int) -> None:
        writer.send((role, count, None))

    try:
        body(*args, gate, report)
    except BaseException as exc:
        gate.ready.abort()
        writer.send((role, 0, f"{role}: {exc!r}"))


def _batches(items: int, size: int):
    """The pickled items 0 .. items-1, in lists of up to `size`, pickled as the designs pickle theirs."""
    dumps, protocol = pickle.dumps, pickle.HIGHEST_PROTOCOL
    for start in range(0, items, size):
        yield [dumps(i, protocol) for i in range(start, min(start + size, items))]


# --- Redis ------------------------------------------------------------------------------------------------


def _redis(url: str):
    """A plain redis-py connection (hiredis when installed, as the designs' have)."""
    client = importlib.import_module("redis").Redis.from_url(url, socket_timeout=TIMEOUT)
    client.ping()
    return client


def _list_producer(url: str, key: str, items: int, gate: Callable, report: Callable) -> None:
    client = _redis(url)
    lpush = client.lpush
    gate()
    for batch in _batches(items, list_design.PUSH_BATCH):
        lpush(key, *batch)
    report(items)
    client.close()


def _list_consumer(url: str, key: str, gate: Callable, report: Callable) -> None:
    client = _redis(url)
    rpop, brpop, loads, count = client.rpop, client.brpop, pickle.loads, 0
    gate()
    while True:
        batch = rpop(key, list_design.DRAIN)
        if not batch:
            while (reply := brpop(key, list_design.POLL)) is None:
                pass
            batch = [reply[1]]
        for value in batch:
            if loads(value) is None:
                report(count)
                client.close()
                return
            count += 1


def redis_list_loop(items: int = ITEMS) -> float:
    """redis_list's commands by hand (LPUSH 100 / RPOP 100, else BRPOP): seconds per item."""
    url = servers.broker("redis").url
    key = f"{KEY_PREFIX}{uuid.uuid4().hex}:items"
    client = None
    try:
        with _Run(items, (_list_producer, url, key, items), (_list_consumer, url, key)) as run:
            client = _redis(url)  # after the workers' fork: they inherit no socket
            elapsed = run.timed(lambda: client.lpush(key, SENTINEL))
    finally:
        _remove(client, key)
    return elapsed / items


def _remove(client, key: str) -> None:
    """Delete the loop's key once its workers are joined (none can write it again), and disconnect."""
    if client is not None:
        client.delete(key)
        client.close()


def _stream_producer(url: str, key: str, items: int, gate: Callable, report: Callable) -> None:
    client, field = _redis(url), stream_design.FIELD
    gate()
    for batch in _batches(items, list_design.PUSH_BATCH):
        pipe = client.pipeline(transaction=False)
        for value in batch:
            pipe.xadd(key, {field: value})
        pipe.execute()
    report(items)
    client.close()


def _stream_consumer(url: str, key: str, gate: Callable, report: Callable) -> None:
    client, group, field = _redis(url), stream_design.GROUP, stream_design.FIELD
    name, loads, unacked, count = f"consumer-{os.getpid()}", pickle.loads, [], 0
    gate()
    while True:
        pipe = client.pipeline(transaction=False)
        if unacked:
            pipe.xack(key, group, *unacked)
            unacked = []
        pipe.xreadgroup(group, name, {key: ">"}, count=list_design.DRAIN, block=stream_design.POLL_MS)
        reply = pipe.execute()[-1]
        for entry, fields in reply[0][1] if reply else ():
            unacked.append(entry)
            if loads(fields[field]) is None:
                client.xack(key, group, *unacked)
                report(count)
                client.close()
                return
            count += 1


def redis_stream_loop(items: int = ITEMS) -> float:
    """redis_stream's commands by hand (XADD x100 pipelined / XREADGROUP COUNT 100 + XACK): seconds per
    item."""
    url = servers.broker("redis").url
    key = f"{KEY_PREFIX}{uuid.uuid4().hex}:stream"
    client = None
    try:
        with _Run(items, (_stream_producer, url, key, items), (_stream_consumer, url, key)) as run:
            client = _redis(url)  # after the workers' fork: they inherit no socket
            client.xgroup_create(key, stream_design.GROUP, id="0", mkstream=True)
            elapsed = run.timed(lambda: client.xadd(key, {stream_design.FIELD: SENTINEL}))
    finally:
        _remove(client, key)
    return elapsed / items


# --- NATS -------------------------------------------------------------------------------------------------


def _nats_connect(loop: asyncio.AbstractEventLoop, url: str):
    nats = importlib.import_module("nats")
    return loop.run_until_complete(nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0,
                                                connect_timeout=nats_design.TIMEOUT))


def _nats_close(loop: asyncio.AbstractEventLoop, client) -> None:
    loop.run_until_complete(client.close())
    loop.close()


def _nats_producer(url: str, subject: str, items: int, gate: Callable, report: Callable) -> None:
    loop = asyncio.new_event_loop()
    client = _nats_connect(loop, url)

    async def publish() -> None:
        send = client.publish
        for batch in _batches(items, nats_design.PUSH_BATCH):
            for value in batch:
                await send(subject, value)
            await asyncio.sleep(0)  # one turn: the client's flusher writes the batch
        await client.flush(nats_design.TIMEOUT)  # the server has routed every item

    gate()
    loop.run_until_complete(publish())
    report(items)
    _nats_close(loop, client)


def _nats_consumer(url: str, subject: str, end: str, gate: Callable, report: Callable) -> None:
    loop = asyncio.new_event_loop()
    client = _nats_connect(loop, url)
    loads, count, ended = pickle.loads, 0, loop.create_future()

    async def on_item(msg) -> None:
        nonlocal count
        loads(msg.data)
        count += 1

    async def on_end(msg) -> None:
        if not ended.done():
            ended.set_result(None)

    async def subscribe():
        sub = await client.subscribe(subject, queue=nats_design.GROUP, cb=on_item, pending_msgs_limit=0,
                                     pending_bytes_limit=0)
        await client.subscribe(end, cb=on_end)
        await client.flush(nats_design.TIMEOUT)  # the server holds both subscriptions before the start
        return sub

    async def take() -> None:
        await ended
        while sub.pending_msgs:  # items read before the end message, not yet handed to on_item
            await asyncio.sleep(0)

    sub = loop.run_until_complete(subscribe())
    gate()
    loop.run_until_complete(take())
    report(count)
    _nats_close(loop, client)


def nats_loop(items: int = ITEMS) -> float:
    """nats's commands by hand (publish x100 per turn + flush / a queue-group subscription): seconds per
    item."""
    url = servers.broker("nats").url
    prefix = f"{SUBJECT_PREFIX}{uuid.uuid4().hex}."
    subject, end = f"{prefix}items", f"{prefix}end.0"
    with _Run(items, (_nats_producer, url, subject, items), (_nats_consumer, url, subject, end)) as run:
        loop = asyncio.new_event_loop()  # after the workers' fork: they inherit no loop, no socket
        client = _nats_connect(loop, url)

        async def stop() -> None:
            await client.publish(end, b"")
            await client.flush(nats_design.TIMEOUT)

        try:
            elapsed = run.timed(lambda: loop.run_until_complete(stop()))
        finally:
            _nats_close(loop, client)
    return elapsed / items


LOOPS: dict[str, Callable[[int], float]] = {"redis_list": redis_list_loop, "redis_stream": redis_stream_loop,
                                            "nats": nats_loop}
