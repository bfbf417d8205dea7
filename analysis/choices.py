"""REPORT.md's "The queues people choose instead": the alternatives side by side, where they were measured.

Each comparison is a question users ask (issue trackers of janus, faster-fifo, uvloop...), a group of designs
and the scenarios that answer it. In each scenario the designs were measured in the same worker processes
(paired rounds), so their standings, each design's figure over the scenario's fastest with a 95% interval
over processes (analysis/standings.py), compare directly. The table also gives each one's figure over the
group's baseline (its first design): computed the same way as a standing, round by round against the
baseline, with its own interval, where the run paired them; else the ratio of their standings, without one.
A design or scenario the run lacks is left out; a comparison the run cannot answer at all says so.
"""

from __future__ import annotations

import statistics

from analysis.standings import paired_rounds, process_standings
from runs import fmt
from runs.stats import median_interval

__all__ = ["COMPARISONS", "choice_lines"]

# (question, designs with the baseline first, scenarios)
COMPARISONS = (
    ("Threads handing over to asyncio tasks: janus, culsans or the standard library's own?",
     ("queue", "asyncio_threadsafe", "janus", "culsans"), ("p1c1/cap16/flat/none", "p4c4/cap16/flat/none")),
    ("Between threads: queue.Queue, SimpleQueue or a hand-written Condition buffer?",
     ("queue", "simple_queue", "condition"), ("p1c1/cap16/flat/none", "p4c4/cap16/flat/none",
                                              "p4c4/capinf/flat/none")),
    ("Between processes: multiprocessing.Queue, batched, faster-fifo or ZeroMQ?",
     ("multiprocess", "mp_batched", "faster_fifo", "zmq"), ("p1c1/cap16/flat/none", "p1c8/cap16/flat/none")),
    ("Does uvloop (or trio) speed up asyncio.Queue?",
     ("asyncio", "uvloop", "trio"), ("p1c1/cap16/flat/none", "p4c4/cap16/flat/none",
                                     "p4c4/cap16/flat/io:200us")),
    ("Greenlets that wait on io: plain greenlet or gevent's hub?",
     ("greenlet", "gevent"), ("p4c4/cap16/flat/io:200us",)),
    ("Through a broker: what does Redis or NATS cost against a queue between processes?",
     ("multiprocess", "zmq", "redis_list", "redis_stream", "nats"),
     ("p1c1/cap16/flat/none", "p4c4/cap16/flat/none")),
)


def _over_base(row: dict, base: dict, rounds: dict) -> str:
    """The design's figure over the baseline's: round by round with an interval where paired."""
    per_process = process_standings(rounds, row["variant"], base["variant"]) if rounds else []
    if per_process:
        return fmt.ratio(statistics.median(per_process), *median_interval(per_process))
    return f"{row['standing'] / base['standing']:.2f}x"


def _cell(row: dict, base: dict | None, rounds: dict) -> str:
    figure = fmt.seconds(row["s_per_item"])
    standing = fmt.ratio(row.get("standing"), row.get("standing_low"), row.get("standing_high"))
    text = f"{figure}; {standing} fastest"
    if base is not None and row is not base and not fmt.missing(base.get("standing")):
        text += f"; {_over_base(row, base, rounds)} {base['variant']}"
    return text


def choice_lines(table, frame=None) -> list[str]:
    """The section's markdown lines (none when the run measured no alternative design).

    `frame` (one row per measured value, analysis/frame.py) gives the paired rounds behind each figure over
    the group's baseline; without it that figure is the ratio of two standings. A run of several
    interpreters (`bench all --python`) gets each question once per interpreter.
    """
    ok = table[table["status"] == "ok"]
    tags = list(dict.fromkeys(ok["python"].fillna(""))) if "python" in ok.columns else [""]
    lines: list[str] = []
    for tag in tags:
        here = ok[ok["python"].fillna("") == tag] if "python" in ok.columns else ok
        lines += _questions(here, frame, tag if len(tags) > 1 else "")
    if not lines:
        return []
    return ["## The queues people choose instead", "",
            "Each cell: time per item (median over worker processes); the design's standing, its figure over "
            "the scenario's fastest design with a 95% interval over processes (the designs of a scenario "
            "shared those processes, round by round); and its figure over the group's first design, "
            "computed round by round against it, with its 95% interval over processes. A ratio whose "
            "interval holds 1 does not tell the two apart.", *lines, ""]


def _questions(ok, frame, tag: str) -> list[str]:
    """The comparisons the rows `ok` (one interpreter's) answer, each titled with `tag` when given."""
    key = "base_scenario" if "base_scenario" in ok.columns else "scenario"
    rows = {(row["variant"], row[key]): row for row in ok.to_dict("records")}
    lines: list[str] = []
    for question, designs, scenarios in COMPARISONS:
        present = [s for s in scenarios if sum((d, s) in rows for d in designs) >= 2]
        if not any((d, s) in rows for d in designs[1:] for s in present):
            continue
        lines += ["", f"### {question}" + (f" (on {tag})" if tag else ""), "",
                  "| design | " + " | ".join(f"`{s}`" for s in present) + " |",
                  "|---|" + "---|" * len(present)]
        for design in designs:
            if not any((design, s) in rows for s in present):
                continue
            cells = [_cell(rows[design, s], rows.get((designs[0], s)),
                           _rounds(frame, rows[design, s]["scenario"])) if (design, s) in rows else "-"
                     for s in present]
            lines.append(f"| `{design}` | " + " | ".join(cells) + " |")
    return lines


def _rounds(frame, scenario: str) -> dict:
    if frame is None or "scenario" not in frame.columns:
        return {}
    return paired_rounds(frame[frame["scenario"] == scenario])
