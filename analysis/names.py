"""Benchmark names: `variant/p{P}c{C}/cap{N|inf}/{arrival}/{work}[/payload{B}][/stop-{protocol}][/py-{tag}]`.

`py-{tag}` names the interpreter the workers ran under when a run was given `--python`:
`python` is that tag, else ""; it stays in `scenario`, so two interpreters' figures never merge, and
`base_scenario` is the scenario without it, where interpreters are compared.

The scenario columns of the frames come from the name, so that n/a and failed cells (which have no pyperf
metadata) get the same columns as measured ones. Specs this module does not know give NaN, never an error.
"""

from __future__ import annotations

import math
import re

__all__ = ["KINDS", "parse_name", "parse_arrival", "parse_work", "format_capacity", "scenario_key"]

# scenario kinds, in report order: (key, title)
KINDS = (
    ("throughput", "Throughput: flat out, no consumer work"),
    ("work", "Consumer work: flat out, the consumer does cpu or io work per item"),
    ("paced", "Paced arrivals: producers send on a schedule"),
)

_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(s|ms|us|ns)")
_NAN = float("nan")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return _NAN


def parse_arrival(spec: str) -> dict:
    """`arrival_kind`, `offered_rate` (items/s over all producers; NaN for flat) and `burst_size`."""
    kind, _, rest = spec.partition(":")
    args = rest.split(":") if rest else []
    if kind == "burst" and len(args) == 2:
        return {"arrival_kind": kind, "offered_rate": _number(args[1]), "burst_size": _number(args[0])}
    if kind in ("steady", "poisson") and len(args) == 1:
        return {"arrival_kind": kind, "offered_rate": _number(args[0]), "burst_size": _NAN}
    return {"arrival_kind": kind, "offered_rate": _NAN, "burst_size": _NAN}


def parse_work(spec: str) -> dict:
    """`work_kind` (none, cpu, io) and `work_s` (seconds per item; 0 for none, NaN if unreadable)."""
    kind, _, rest = spec.partition(":")
    if kind == "none":
        return {"work_kind": kind, "work_s": 0.0}
    match = _DURATION.fullmatch(rest)
    seconds = float(match.group(1)) * _UNITS[match.group(2)] if match else _NAN
    return {"work_kind": kind, "work_s": seconds}


def format_capacity(capacity: float) -> str:
    """'inf' for an unbounded buffer, else the whole number."""
    return "inf" if math.isinf(capacity) else str(int(capacity))


def parse_name(name: str) -> dict:
    """The scenario fields of a benchmark name; ValueError if it does not have the suite's shape."""
    parts = name.split("/")
    topology = re.fullmatch(r"p(\d+)c(\d+)", parts[1]) if len(parts) >= 5 else None
    capacity = re.fullmatch(r"cap(\d+|inf)", parts[2]) if topology else None
    if not capacity:
        raise ValueError(f"not a benchmark name of this suite: {name!r}")
    producers, consumers = int(topology.group(1)), int(topology.group(2))
    payload, stop, python = 0, "sentinels", ""
    for extra in parts[5:]:
        if extra.startswith("py-") and len(extra) > 3:
            python = extra[len("py-"):]
        elif re.fullmatch(r"payload\d+", extra):
            payload = int(extra[len("payload"):])
        elif extra.startswith("stop-"):
            stop = extra[len("stop-"):]
        else:
            raise ValueError(f"not a benchmark name of this suite: {name!r} (unknown part {extra!r})")
    arrival, work = parts[3], parts[4]
    fields = {
        "benchmark": name, "variant": parts[0], "scenario": name.partition("/")[2],
        "producers": producers, "consumers": consumers, "topology": f"{producers}:{consumers}",
        "capacity": capacity.group(1), "capacity_n": math.inf if capacity.group(1) == "inf"
        else float(capacity.group(1)),
        "arrival": arrival, **parse_arrival(arrival), "work": work, **parse_work(work),
        "payload": payload, "stop": stop, "python": python,
        "base_scenario": "/".join(part for part in parts[1:] if not part.startswith("py-")),
    }
    fields["kind"] = ("paced" if fields["arrival_kind"] != "flat"
                      else "throughput" if fields["work_kind"] == "none" else "work")
    return fields


def scenario_key(fields) -> tuple:
    """A sort key that orders scenarios the way the report lists them: kind, topology, capacity, load."""
    kinds = [key for key, _ in KINDS]
    kind = kinds.index(fields["kind"]) if fields["kind"] in kinds else len(kinds)

    def number(key: str) -> float:
        value = fields[key]
        return -1.0 if value != value else float(value)  # NaN (flat, none) first

    return (kind, fields["producers"], fields["consumers"], number("capacity_n"), fields["arrival_kind"],
            number("offered_rate"), number("burst_size"), fields["work_kind"], number("work_s"),
            fields["payload"], fields["stop"] != "sentinels", fields["stop"],  # the suite's default first
            fields.get("python", ""))
