"""`python -m bench rounds D1,D2,... [scenario flags]`: one worker measures a scenario's designs in rounds.

The worker `bench all` starts for a scenario (docs/design.md, "Paired standings"). After `--warmups` rounds of
warm-up, each of `--rounds` rounds runs every design once, in a fresh random order (seeded by `--seed`;
every round's order goes to the sidecar), each run through the watchdog and the verifier as in
`bench run` (bench/once.py). With `--budget`, the rounds are cut to fit it at the warm-up's pace (slow
scenarios: fewer rounds, each still pairing every design). A design's values therefore sit next to its
rivals' in time: the ratio of two designs in one round carries the machine's noise of that moment once,
not twice.

The output is a pyperf suite (`--output`): one benchmark per design, each with one run (this process) whose
values are the design's rounds, in seconds per item (paced cells: mean latency per item), with the same
metadata as `bench run` plus `prodcon_paired_with`. pyperf's own worker is not used: a pyperf worker runs
one benchmark, and interleaving designs within a process is the point. A design that fails (verification,
an exception, a depth run with `--depth`) is dropped from the later rounds and reported on the sidecar; the
others go on, so a failure costs its own cell only. A timeout leaves threads running, so the process
writes what it has and leaves at once (exit status 1).
"""

from __future__ import annotations

import gc
import json
import os
import random
import sys
import time
from pathlib import Path

from bench.designs import get_design
from bench.interpreters import benchmark_name, check_tag, gil_turned_on, here_tag
from bench.once import measured_waits, run_once, run_record
from bench.pyperf_run import benchmark_metadata
from runs.errors import UsageError
from variants import workload
from variants.contract import Scenario

__all__ = ["run_rounds", "ROUND_KEYS"]

ROUND_KEYS = ("round", "position")  # sidecar keys of a measured value: its round, its place in the order


class _Worker:
    """The state of one rounds worker: its designs, their values, the sidecar it appends to."""

    def __init__(self, designs: list, scenario: Scenario, metrics: str | None,
                 deadline: float | None, python_tag: str | None = None) -> None:
        self.designs = {design.NAME: design for design in designs}
        self.scenario = scenario
        self.metrics = metrics
        self.deadline = deadline
        self.values: dict[str, list[float]] = {name: [] for name in self.designs}
        self.warmups: dict[str, list[float]] = {name: [] for name in self.designs}
        self.failed: dict[str, str] = {}  # design -> "status: reason"
        self.calls: dict[str, int] = dict.fromkeys(self.designs, 0)
        self.waits = measured_waits(scenario)
        self.python_tag = python_tag  # names the benchmarks after the interpreter (bench all --python)

    def benchmark(self, name: str) -> str:
        return benchmark_name(name, self.scenario.name, self.python_tag)

    def write(self, name: str, record: dict) -> None:
        """Append one sidecar line for design `name` (a no-op without --metrics)."""
        if self.metrics is None:
            return
        record = {"benchmark": self.benchmark(name), "pid": os.getpid(), "call": self.calls[name],
                  **self.waits, **record}
        with open(self.metrics, "a", encoding="utf-8") as file:
            file.write(json.dumps(record, sort_keys=True) + "\n")

    def active(self) -> list[str]:
        return [name for name in self.designs if name not in self.failed]

    def fail(self, name: str, status: str, reason: str) -> None:
        self.failed[name] = f"{status}: {reason}"
        self.write(name, {"phase": "value", "status": status, "reason": reason, "verified": False})
        print(f"prodcon: {self.benchmark(name)}: {status}: {reason}", file=sys.stderr, flush=True)

    def depth(self) -> None:
        """The instrumented run of every design (bench.depth): a design that overfills its buffer fails."""
        from bench.depth import depth_run  # imports asyncio, which only the first worker of a scenario pays

        for name in self.active():
            max_depth, reason = depth_run(self.designs[name], self.scenario, self.deadline)
            if reason:
                self.fail(name, "failed", f"instrumented run: {reason}")
            else:
                self.write(name, {"phase": "depth", "status": "ok", "max_depth": max_depth})

    def measure(self, name: str, phase: str, where: dict) -> bool:
        """Run design `name` once; record its value; False when the process must stop (a timeout)."""
        self.calls[name] += 1
        gc.collect()  # every design starts from a collected heap, whichever design ran before it
        result = run_once(self.designs[name], self.scenario, self.deadline)
        if not result.ok:
            self.fail(name, result.status, result.reason)
            return not result.poisoned and result.status != "timeout"
        record = run_record(self.scenario, result.outcome)
        total = record["latency_sum_s"] if "latency_sum_s" in record else record["elapsed_s"]
        (self.values if phase == "value" else self.warmups)[name].append(total / self.scenario.items)
        self.write(name, {"phase": phase, "status": "ok", "verified": True, "loops": 1, **where, **record})
        return True

    def rounds(self, warmups: int, rounds: int, budget: float | None, rng: random.Random) -> bool:
        """Warm-ups, then the rounds, each in a fresh random order; False if a timeout cut them short.

        With a budget (seconds), the rounds are cut to what fits in it at the pace of the last warm-up
        round, but never below one.
        """
        for number in range(warmups):
            began = time.perf_counter()
            if not self._round("warmup", number, rng):
                return False
            if budget is not None and number == warmups - 1:
                pace = time.perf_counter() - began
                rounds = max(1, min(rounds, int(budget / pace) if pace > 0 else rounds))
        return all(self._round("value", number, rng) for number in range(rounds))

    def _round(self, phase: str, number: int, rng: random.Random) -> bool:
        """One round: every design still in, once, in a fresh random order; False after a timeout."""
        order = self.active()
        rng.shuffle(order)
        for position, name in enumerate(order):
            where = {"round": number, "position": position, "order": ",".join(order)}
            if not self.measure(name, phase, where if phase == "value" else {}):
                return False
        return True

    def suite(self, timer_slack: bool):
        """The pyperf suite of this process: one benchmark per design that has values, one run each."""
        import pyperf

        paired_with = ",".join(sorted(self.designs))
        benchmarks = []
        for name, values in self.values.items():
            if name in self.failed or not values:
                continue
            metadata = benchmark_metadata(self.designs[name], self.scenario, self.waits, timer_slack)
            metadata.update(name=self.benchmark(name), loops=1, inner_loops=self.scenario.items,
                            unit="second", prodcon_paired_with=paired_with)
            warmups = [(1, value) for value in self.warmups[name]]
            benchmarks.append(pyperf.Benchmark([pyperf.Run(values, warmups=warmups or None,
                                                           metadata=metadata)]))
        return pyperf.BenchmarkSuite(benchmarks) if benchmarks else None


def _write_suite(suite, output: Path) -> None:
    """Dump the suite to `output` atomically (pyperf refuses to replace a file: write, then rename)."""
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        suite.dump(str(tmp))
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)


def run_rounds(args) -> int:
    """Measure the designs of `args.designs` on the scenario in rounds; 0 when every design verified."""
    from bench.flags import apply_spin_rate, deadline_from_args, scenario_from_args

    check_tag(args.python_tag)  # before any design is imported: one may turn the GIL on
    tag = here_tag()
    names = [name for name in args.designs.split(",") if name]
    if len(set(names)) != len(names) or not names:
        raise UsageError(f"designs must be distinct names separated by commas, got {args.designs!r}")
    designs = [get_design(name) for name in names]
    if gil_turned_on(tag):
        raise UsageError(f"importing {', '.join(names)} turned the GIL on under {tag}")
    scenario = scenario_from_args(args)
    apply_spin_rate(args)
    for design in designs:
        why = design.unsupported(scenario)
        if why:
            raise UsageError(f"{design.NAME} does not support this scenario: {why}")
    counts = {}
    budget = None
    if args.budget is not None:
        try:
            budget = float(args.budget)
        except ValueError:
            budget = -1.0
        if not 0 < budget < float("inf"):
            raise UsageError(f"--budget must be a positive number of seconds, got {args.budget!r}")
    for flag in ("rounds", "warmups", "seed"):
        text = getattr(args, flag)
        if not text.isdigit() or (flag == "rounds" and int(text) < 1):
            raise UsageError(f"--{flag} must be a whole number{' >= 1' if flag == 'rounds' else ''}, "
                             f"got {text!r}")
        counts[flag] = int(text)
    timer_slack = workload.set_timer_slack()  # equal waits (docs/design.md, "Equal waits")
    worker = _Worker(designs, scenario, args.metrics, deadline_from_args(args), args.python_tag)
    if args.depth:
        worker.depth()
    finished = worker.rounds(counts["warmups"], counts["rounds"], budget, random.Random(counts["seed"]))
    if gil_turned_on(tag):  # a lazy import inside a design's run: no figure of this process can stand
        for name in worker.active():
            worker.fail(name, "failed", f"the GIL came on during the rounds under {tag}")
    suite = worker.suite(timer_slack)
    if suite is not None and args.output:
        _write_suite(suite, Path(args.output))
    if not finished:  # a hung design's threads still run: leave without waiting for them
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    return 1 if worker.failed else 0

