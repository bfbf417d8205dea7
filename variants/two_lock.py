"""Seed 002's single-slot Pipeline: one message slot guarded by two locks, between threads.

Kept as the seed has it, logging left out: the message is read *before* the producer lock is released
(seed 002 does this already; released first, a producer could overwrite the slot before the consumer
reads it, losing one message and delivering the next twice: the race seed 003's lesson walks into).
Changed: the seed's one producer and one consumer become P and C threads; each lock admits one of its
side at a time, so the slot stays a one-slot buffer for any topology.
"""

from __future__ import annotations

import threading

from variants.contract import Outcome, Scenario
from variants.threads import run_threads

NAME = "two_lock"
MODEL = "thread"
SUMMARY = "single slot guarded by a producer lock and a consumer lock (capacity 1 only)"
SEED = "002"
FIFO = True  # one slot: items leave in the order they entered


class Pipeline:
    """A one-message pipeline. Invariant: exactly one of the two locks is free at any quiet moment:
    producer_lock when the slot is empty, consumer_lock when it is full."""

    def __init__(self) -> None:
        self.message = None
        self.producer_lock = threading.Lock()  # held while the slot is full; producers wait on it
        self.consumer_lock = threading.Lock()  # held while the slot is empty; consumers wait on it
        self.consumer_lock.acquire()  # start empty

    def get_message(self) -> object:
        """Wait for a message, take it and free the slot."""
        self.consumer_lock.acquire()
        message = self.message  # read before the release below, as seed 002 does
        self.producer_lock.release()
        return message

    def set_message(self, message: object) -> None:
        """Wait for the slot to be empty, fill it and wake one consumer."""
        self.producer_lock.acquire()
        self.message = message
        self.consumer_lock.release()

    def __repr__(self) -> str:
        full = self.producer_lock.locked() and not self.consumer_lock.locked()
        return f"<Pipeline {'full' if full else 'empty'} message={self.message!r}>"


def unsupported(scenario: Scenario) -> str | None:
    """The pipeline has one slot: only capacity 1; and no get with a timeout: no event stop."""
    if scenario.capacity != 1:
        cap = "unbounded" if scenario.capacity is None else scenario.capacity
        return f"two_lock has a single slot: capacity must be 1, got {cap}"
    if scenario.stop.startswith("event"):
        return "two_lock's get has no timeout: the event stop protocol needs one"
    return None


def run(scenario: Scenario) -> Outcome:
    """Run the scenario once through one Pipeline."""
    pipeline = Pipeline()
    return run_threads(scenario, pipeline.set_message, pipeline.get_message)
