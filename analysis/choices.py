"""REPORT.md's "The queues people choose instead": the alternatives side by side, where they were measured.

Each comparison is a question users ask (issue trackers of janus, faster-fifo, uvloop...), a group of designs
and the scenarios that answer it. In each scenario the designs were measured in the same worker processes
(paired rounds), so their standings, each design's figure over the scenario's fastest with a 95% interval
over processes (analysis/standings.py), compare directly; the table also gives each one's figure over the
group's baseline (its first design). A design or scenario the run lacks is left out; a comparison the run
cannot answer at all says so.
"""

from __future__ import annotations

from runs import fmt

__all__ = ["COMPARISONS", "choice_lines"]

# (question, designs with the baseline first, scenarios)
COMPARISONS = (
    ("Threads handing over to asyncio tasks: janus, culsans or the standard library's own?",
     ("queue", "asyncio_threadsafe", "janus", "culsans"), ("p1c1/cap16/flat/none", "p4c4/cap16/flat/none")),
    ("Between threads: queue.Queue, SimpleQueue or a hand-written Condition buffer?",
     ("queue", "simple_queue", "condition"), ("p1c1/cap16/flat/none", "p4c4/cap16/flat/none",
                                              "p1c1/capinf/flat/none", "p4c4/capinf/flat/none")),
    ("Between processes: multiprocessing.Queue, batched, faster-fifo or ZeroMQ?",
     ("multiprocess", "mp_batched", "faster_fifo", "zmq"), ("p1c1/cap16/flat/none", "p1c8/cap16/flat/none")),
    ("Does uvloop (or trio) speed up asyncio.Queue?",
     ("asyncio", "uvloop", "trio"), ("p1c1/cap16/flat/none", "p4c4/cap16/flat/none",
                                     "p1c1/cap16/flat/io:200us", "p4c4/cap16/flat/io:200us")),
    ("Greenlets that wait on io: plain greenlet or gevent's hub?",
     ("greenlet", "gevent"), ("p1c1/cap16/flat/io:200us", "p4c4/cap16/flat/io:200us")),
)


def _cell(row: dict, base: dict | None) -> str:
    figure = fmt.seconds(row["s_per_item"])
    standing = fmt.ratio(row.get("standing"), row.get("standing_low"), row.get("standing_high"))
    text = f"{figure}; {standing} fastest"
    if base is not None and row is not base and not fmt.missing(base.get("standing")):
        text += f"; {row['standing'] / base['standing']:.2f}x {base['variant']}"
    return text


def choice_lines(table) -> list[str]:
    """The section's markdown lines (none when the run measured no alternative design)."""
    ok = table[table["status"] == "ok"]
    rows = {(row["variant"], row["scenario"]): row for row in ok.to_dict("records")}
    lines: list[str] = []
    for question, designs, scenarios in COMPARISONS:
        present = [s for s in scenarios if sum((d, s) in rows for d in designs) >= 2]
        if not any((d, s) in rows for d in designs[1:] for s in present):
            continue
        lines += ["", f"### {question}", "", "| design | " + " | ".join(f"`{s}`" for s in present) + " |",
                  "|---|" + "---|" * len(present)]
        for design in designs:
            if not any((design, s) in rows for s in present):
                continue
            cells = [_cell(rows[design, s], rows.get((designs[0], s))) if (design, s) in rows else "-"
                     for s in present]
            lines.append(f"| `{design}` | " + " | ".join(cells) + " |")
    if not lines:
        return []
    return ["## The queues people choose instead", "",
            "Each cell: time per item (median over worker processes); the design's standing, its figure over "
            "the scenario's fastest design with a 95% interval over processes (the designs of a scenario "
            "shared those processes, round by round); and its figure over the group's first design. A "
            "standing whose interval overlaps another's does not tell the two apart.", *lines, ""]
