"""The producer/consumer designs, by stable name.

`REGISTRY` maps each design's NAME (it appears in benchmark names and baselines: never rename one) to its
module. Every module keeps the contract in variants/contract.py: NAME, MODEL, SUMMARY, SEED, FIFO,
unsupported(scenario) and run(scenario). This package imports no harness, pyperf, pandas or matplotlib.
"""

from __future__ import annotations

from types import ModuleType

from variants import (
    asyncio_queue,
    coroutine,
    generator,
    greenlets,
    lock_list,
    multiprocess,
    semaphores,
    std_queue,
    two_lock,
)
from variants.contract import Outcome, Scenario

__all__ = ["REGISTRY", "MODELS", "Scenario", "Outcome"]

MODELS = ("thread", "process", "generator", "greenlet", "asyncio")

REGISTRY: dict[str, ModuleType] = {
    module.NAME: module
    for module in (lock_list, two_lock, semaphores, std_queue, generator, coroutine, greenlets, multiprocess,
                   asyncio_queue)
}
