"""The producer/consumer designs, by stable name.

A variant is one design's implementation: a module of this package named after the design (`variants/queue.py`
is the `queue` design). `REGISTRY` maps each design's NAME (it appears in benchmark names and baselines: never
rename one) to its module; `MODULES` lists the names, so that `load` imports one design alone. A worker
process runs one design, and importing them all cost it 30 ms more (asyncio's import) of about
140 ms here, in each of a quick run's 2,000 processes. Every module keeps the contract in
variants/contract.py: NAME, MODEL, SUMMARY, SEED, FIFO, unsupported(scenario) and run(scenario). This
package imports no harness, pyperf, pandas or matplotlib.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from variants.contract import Outcome, Scenario

__all__ = ["REGISTRY", "MODULES", "MODELS", "ONE_THREAD_MODELS", "Scenario", "Outcome", "load"]

# bridge: producer threads hand items to consumer tasks on an event-loop thread (asyncio_threadsafe);
# broker: producer and consumer processes hand items over through a server (redis_list, redis_stream, nats)
MODELS = ("thread", "process", "generator", "greenlet", "asyncio", "bridge", "broker")
# the models whose workers all share one thread: verification asks them that no task was left behind
# unseen, and the report reads machine noise from their processes' spread (they have no regimes of their own)
ONE_THREAD_MODELS = ("generator", "greenlet", "asyncio")

MODULES = (  # every design's NAME, which is also its module's name here, in the order tables and charts use
    "lock_list", "two_lock", "semaphores", "queue", "generator", "coroutine", "greenlet", "multiprocess",
    "asyncio", "simple_queue", "condition", "asyncio_threadsafe", "janus", "culsans", "uvloop", "trio",
    "gevent", "mp_batched", "faster_fifo", "zmq", "redis_list", "redis_stream", "nats",
)


def load(name: str) -> ModuleType:
    """The design module called `name` (one of MODULES), imported on first use."""
    if name not in MODULES:
        raise KeyError(name)
    return importlib.import_module(f"{__name__}.{name}")


def __getattr__(attribute: str) -> dict[str, ModuleType]:
    """`REGISTRY`, every design by NAME in MODULES' order, built on first use and kept (PEP 562)."""
    if attribute == "REGISTRY":
        registry = globals()["REGISTRY"] = {name: load(name) for name in MODULES}
        return registry
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
