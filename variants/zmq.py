"""pyzmq PUSH/PULL over ipc:// between producer and consumer processes (not from the seeds).

Each consumer binds one PULL socket at its own ipc endpoint in a temporary folder (removed after the run);
each producer's PUSH connects to every consumer, and ZeroMQ hands each message to the next of its
connections in turn. The consumers bind because a connecting PUSH has a queue for each consumer the moment
connect() returns, so its turns always go over all of them (a bound PUSH would deal only among consumers
already connected). Every connection has finished its handshake before the gate opens. Items are pickled,
as `multiprocess` and `faster_fifo` pickle theirs, so the figures compare the transports. Processes, start
gate and clean-up are the `multiprocess` design's (variants/multiprocess.py: `run_processes`).

Capacity counts items, and ZeroMQ's high-water marks cannot hold it: a mark bounds one connection's queue
at one end (P x C connections, each with a sending and a receiving queue), the kernel's socket buffer
between them holds more, and a sender learns of reads only in batches. Measured here, a 1:1 ipc pipe with
both marks at 1 took 282 small items before a send would block, and at 16, 1,248. So the marks are off (0:
no limit) and the bound is a multiprocessing semaphore of `capacity` permits that a producer acquires
before each send and a consumer releases after each receive: items sent and not yet received never exceed
capacity, exactly. With marks on, a connection at its mark would also lose its turn, and the stop
below relies on the turns.

Stop: sentinels only, from the producers. ZeroMQ keeps order within one connection, not across them: a
sentinel from the parent could overtake items still on a producer's connection. So each producer, after
its items (or its failure), sends one empty message, the end marker, on each of its C connections (C
sends take C turns), and a consumer stops once it has one from every producer; a consumer whose work
failed keeps receiving until then, so that no producer waits on it. End markers hold no permit.
"""

from __future__ import annotations

import importlib
import pickle
import tempfile
import time
from collections.abc import Callable
from functools import cache

from variants import workload
from variants.contract import Outcome, Scenario
from variants.multiprocess import run_processes
from variants.threads import StartGate, consume, produce

NAME = "zmq"
MODEL = "process"
SUMMARY = "pyzmq PUSH/PULL over ipc:// between processes, a semaphore bounding items"
SEED = "-"  # not from the suite's seed documents
FIFO = True  # one connection per producer and consumer, and ZeroMQ keeps each connection's order

END = b""  # the end marker: an empty message (a pickle never is)
RECONNECT_MS = 1  # a producer that connects before its consumer has bound tries again this soon


@cache
def _library():
    """The zmq module, or the ImportError that says why not (imported on first use only)."""
    try:
        return importlib.import_module("zmq")  # the library: this module is variants.zmq
    except ImportError as exc:
        return exc


class Pipes:
    """What every worker is given as its buffer: the consumers' endpoints and the item bound; once `open` has
    run in a worker's process, that worker's socket and its `put` (producer) or `get` (consumer).

    Invariant: items sent and not yet received <= capacity, held by `slots` (None: unbounded).
    """

    def __init__(self, ctx, scenario: Scenario, folder: str) -> None:
        self.endpoints = [f"ipc://{folder}/{c}" for c in range(scenario.consumers)]
        self.producers = scenario.producers
        # free places: a producer waits on it before each send, a consumer gives one back after each receive
        self.slots = None if scenario.capacity is None else ctx.BoundedSemaphore(scenario.capacity)
        self._context = self._socket = None  # the worker's own, made by open() in its process

    def open(self, role: str, index: int) -> None:
        """In a worker's process, before the gate: its socket, connected (a ZeroMQ context does not survive
        a fork), and its hand-off, bound once: `put` for a producer, `get` for a consumer."""
        zmq = _library()
        self._context = zmq.Context()
        self._socket = _socket(zmq, self._context, role, index, self)
        if role == "producer":
            self.put = _sender(self._socket, self.slots)
        else:
            self.get = _receiver(self._socket, self.producers, self.slots)

    def end(self) -> None:
        """A producer's end marker on each of its connections (C sends take C turns)."""
        for _ in self.endpoints:
            self._socket.send(END)

    def shut(self, role: str) -> None:
        """Close the worker's socket; a producer's messages all leave first."""
        self._socket.close(linger=-1 if role == "producer" else 0)
        self._context.term()

    def close(self) -> None:
        """The parent's side: nothing (the sockets are the workers'; the folder goes with the run)."""

    def join_thread(self) -> None:
        """No thread of the parent's to join."""

    def __repr__(self) -> str:
        free = "unbounded" if self.slots is None else f"free={self.slots.get_value()}"
        return f"<Pipes consumers={len(self.endpoints)} producers={self.producers} {free}>"


def Buffer(ctx, scenario: Scenario, folder: str) -> Pipes:  # noqa: N802 - named like the other designs' Buffer
    """The run's buffer, endpoints in `folder` (a module name, so that a harness can watch it)."""
    return Pipes(ctx, scenario, folder)


def _socket(zmq, context, role: str, index: int, pipes: Pipes):
    """A consumer's bound PULL, or a producer's PUSH connected to every consumer, handshakes done."""
    if role == "consumer":
        socket = context.socket(zmq.PULL)
        socket.setsockopt(zmq.RCVHWM, 0)
        socket.bind(pipes.endpoints[index])
        return socket
    socket = context.socket(zmq.PUSH)
    socket.setsockopt(zmq.SNDHWM, 0)
    socket.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)
    monitor = socket.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    for endpoint in pipes.endpoints:
        socket.connect(endpoint)
    for _ in pipes.endpoints:
        monitor.recv_multipart()  # one event per connection made
    socket.disable_monitor()
    monitor.close()
    return socket


def _sender(socket, slots) -> Callable:
    """A producer's put: wait for a free place, then send the pickled item."""
    send, dumps, protocol = socket.send, pickle.dumps, pickle.HIGHEST_PROTOCOL
    if slots is None:
        return lambda item: send(dumps(item, protocol))
    acquire = slots.acquire

    def put(item) -> None:
        acquire()
        send(dumps(item, protocol))
    return put


def _receiver(socket, producers: int, slots) -> Callable:
    """A consumer's get: the next item, or the sentinel once every producer's end marker has come.

    Called as multiprocessing.Queue's get is; it always blocks (the design takes no event stop).
    """
    recv, loads = socket.recv, pickle.loads
    release = None if slots is None else slots.release
    ends = 0

    def get(block: bool = True, timeout: float | None = None):
        nonlocal ends
        if not block or timeout is not None:
            raise ValueError("zmq's get always blocks: the design takes no event stop")
        while ends < producers:
            message = recv()
            if message == END:
                ends += 1
                continue
            if release is not None:
                release()
            return loads(message)
        return workload.SENTINEL
    return get


def _worker(role: str, index: int, gate: StartGate, done, results, buffer: Pipes, task: tuple,
            stamped: bool, stop: workload.Stop, barrier, finished) -> None:
    """One producer (task: items, offsets) or consumer (task: work, spins), from its socket to `done`."""
    workload.set_timer_slack()  # equal waits: see docs/design.md, "Equal waits"
    buffer.open(role, index)
    origin = gate.wait()
    cpu = time.process_time()
    got, stamps, error = [], [] if stamped else None, None
    try:
        if role == "producer":
            try:
                produce(buffer.put, *task, origin, stamps)
            finally:
                buffer.end()  # consumers wait for every producer's end marker, failed or not
        else:
            try:
                consume(buffer.get, got, *task, stamps)
            except BaseException:
                while buffer.get() is not workload.SENTINEL:  # drain: every send to this consumer lands
                    pass
                raise
    except BaseException as exc:  # reported to the parent; the verifier fails the run
        error = repr(exc)
    done.put(time.process_time() - cpu)  # the parent's clock waits for this
    results.put((role, index, got, stamps, error))
    buffer.shut(role)


def unsupported(scenario: Scenario) -> str | None:
    """Sentinels only (see the module docstring), if the library imports."""
    library = _library()
    if isinstance(library, ImportError):
        return f"zmq cannot be imported (pip install pyzmq): {library}"
    if scenario.stop == "barrier":
        return ("zmq stops with sentinels only: a PULL socket cannot put the barrier stop's one sentinel "
                "back for the next consumer")
    if scenario.stop != "sentinels":
        return ("zmq stops with sentinels only: a take that times out does not show the buffer empty "
                "(messages may still be in a socket buffer), so the event stop could lose items")
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once with P producer and C consumer processes over ipc PUSH/PULL sockets."""
    _library()  # imported once, before the workers fork
    with tempfile.TemporaryDirectory(prefix="prodcon-zmq-", ignore_cleanup_errors=True) as folder:
        return run_processes(scenario, lambda ctx: Buffer(ctx, scenario, folder), _worker,
                             parent_sentinels=False)
