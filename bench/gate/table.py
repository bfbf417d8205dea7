"""The report of `bench check` as text lines, markdown lines (a CI job summary) or JSON.

Compute, then format: bench/gate/check.py and bench/gate/stored.py return a report dict (its "exit_status"
from stats.exit_status); these functions only turn it into lines. The last line says "no regression" only
when every benchmark was decided and nothing failed or was missing; otherwise it names what was not. Rows
are sorted by ratio, slowest first; the footer gives the gate's resolution (rounds or processes, the level,
how wide the intervals were) so a reader sees what the gate could have seen.
"""

from __future__ import annotations

import json
import statistics

from bench.gate import stats
from runs import fmt

__all__ = ["format_report", "FORMATS"]

FORMATS = ("text", "markdown", "json")


def _time(seconds: float | None) -> str:
    """Fixed decimals, so that the table's columns line up: 3 (1.234 ms), 1 below a microsecond."""
    return fmt.seconds(seconds, places=1 if seconds is not None and seconds < 1e-6 else 3)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _interval(row: dict) -> str:
    if row.get("low") is None:
        return "-"
    return f"{row['low']:.3f}-{row['high']:.3f}"


def _verdict(row: dict) -> str:
    verdict = row["verdict"]
    first = row.get("first")
    flagged = f"first pass {first['ratio']:.3f} flagged" if first else ""
    if verdict == "failed" and row.get("failure"):
        failure = row["failure"]
        text = f"{failure['status']} on {failure['side']}: {failure['reason']}"
        return f"{text} (in the re-measure; {flagged})" if first else text
    if first and verdict == "slower":
        return f"slower (confirmed; first pass {first['ratio']:.3f})"
    if first:
        word = "undecided" if verdict == "undecided" else "not confirmed"
        return f"{word} ({flagged}, re-measured {_ratio(row['ratio'])})"
    return verdict


def _count(row: dict) -> str:
    if "processes" in row:
        return f"{row['processes'][0]}/{row['processes'][1]}"
    return str(row["rounds"])


def _sorted(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda row: (row["ratio"] is not None, row["ratio"] or 0.0), reverse=True)


def _percent(level: float) -> str:
    return f"{level * 100:.4g}%"


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def _resolution(report: dict) -> str:
    rows = [row for row in report["benchmarks"] if row.get("low") is not None]
    count = len(report["benchmarks"])
    if report["mode"] == "rounds":
        unit = f"{report['rounds']} rounds per benchmark"
        if report["max_rounds"] > report["rounds"]:
            unit += f", up to {report['max_rounds']} while undecided"
        unit += f" (seed {report['seed']})"
    else:
        unit = "one median per worker process"
    looks = f" and up to {report['looks']} looks" if report.get("looks", 1) > 1 else ""
    text = (f"{unit}; intervals: {report['interval']}, level {report['level'] * 100:.2f}% "
            f"({report['alpha'] * 100:g}% family-wise over {_plural(count, 'benchmark')}{looks}); threshold "
            f"{report['threshold'] * 100:g}%")
    if rows:
        widths = {row["benchmark"]: (row["high"] - row["low"]) / row["ratio"] for row in rows}
        widest = max(widths, key=widths.get)
        text += (f"; interval width: median {statistics.median(widths.values()) * 100:.1f}% of the ratio, "
                 f"widest {widths[widest] * 100:.1f}% ({widest})")
    return text


def _undecided(report: dict, rows: list[dict]) -> str:
    """Why `rows` (the undecided ones) are undecided, in a few words."""
    level = _percent(report["level"])
    blind = [row for row in rows if row.get("low") is None]
    wide = [row for row in rows if row.get("low") is not None]
    reasons = []
    if blind:
        some = f"{len(blind)} with " if wide else ""
        if report["mode"] == "stored":
            counts = sorted({tuple(row["processes"]) for row in blind})
            said = " or ".join(f"{a} and {b}" for a, b in counts)
            reasons.append(f"{some}{said} worker processes; at {level} Mann-Whitney needs at least "
                           f"{report['min_processes']} a side")
        else:
            counts = sorted({row["rounds"] for row in blind})
            reasons.append(f"{some}{' or '.join(map(str, counts))} rounds; at {level} the sign test needs "
                           f"at least {report['min_rounds']}")
    if wide:
        named = _names([f"{row['benchmark']} {_interval(row)}" for row in wide], 3)
        reasons.append(f"intervals reaching past the {report['threshold'] * 100:g}% threshold: {named}")
    total = _plural(len(report["benchmarks"]), "benchmark")
    return f"undecided: {len(rows)} of {total} ({'; '.join(reasons)})"


def _headline(report: dict) -> str:
    rows = report["benchmarks"]
    slower = [row["benchmark"] for row in rows if row["verdict"] == "slower"]
    failed = [row["benchmark"] for row in rows if row["verdict"] == "failed"]
    failed += [f"{entry['benchmark']} ({entry['side']})" for entry in report.get("failed", [])]
    undecided = [row for row in rows if row["verdict"] == "undecided"]
    one_side = report["missing"] + report["new"]
    parts = []
    if slower:
        parts.append(f"{len(slower)} slower: {_names(slower)}")
    if failed:
        parts.append(f"{len(failed)} failed: {_names(failed)}")
    if one_side and not report.get("allow_missing"):
        parts.append(f"{len(one_side)} on one side only (--allow-missing accepts them): {_names(one_side)}")
    if undecided:
        parts.append(_undecided(report, undecided))
    if parts:
        return "; ".join(parts)
    allowed = f" ({len(one_side)} on one side only, allowed)" if one_side else ""
    return f"no regression in {_plural(len(rows), 'benchmark')}{allowed}"


def _warnings(report: dict) -> list[str]:
    lines = []
    if report.get("injected"):
        inj = report["injected"]
        lines.append(f"INJECTED SLOWDOWN: {inj['variant']} x{inj['factor']:g} on the head side; its figures "
                     f"are not a real measurement of the head's code")
    if report.get("drift_warning"):
        lines.append(report["drift_warning"])
    return lines


def _tail(report: dict) -> list[str]:
    lines = [f"failed ({entry['side']}): {entry['benchmark']}: {entry['status']}: {entry['reason']}"
             for entry in report.get("failed", [])]
    if report["missing"]:
        lines.append(f"missing in {report['head']['label']}: {', '.join(report['missing'])}")
    if report["new"]:
        lines.append(f"new in {report['head']['label']} (not compared): {', '.join(report['new'])}")
    if report["mode"] == "rounds":
        lines.append(f"load average {report['load_start']} -> {report['load_end']}; {report['wall_s']} s; "
                     f"{_plural(report['values_per_worker'], 'value')} after "
                     f"{_plural(report['warmups_per_worker'], 'warm-up')} per worker")
    return lines


def format_text(report: dict) -> list[str]:
    """The report as plain-text lines: header, table sorted by ratio, resolution, result."""
    rows = _sorted(report["benchmarks"])
    what = "stored runs" if report["mode"] == "stored" else f"{report['profile']} profile"
    lines = [f"bench check ({what})", report["base"]["text"], report["head"]["text"], *_warnings(report), ""]
    width = max([len("benchmark"), *(len(row["benchmark"]) for row in rows)])
    count = "rounds" if report["mode"] == "rounds" else "procs"
    lines.append(f"{'benchmark':<{width}}  {'base':>10}  {'head':>10}  {'ratio':>6}  {'interval':<11}  "
                 f"{count:>6}  verdict")
    for row in rows:
        lines.append(f"{row['benchmark']:<{width}}  {_time(row['base_s']):>10}  {_time(row['head_s']):>10}  "
                     f"{_ratio(row['ratio']):>6}  {_interval(row):<11}  {_count(row):>6}  {_verdict(row)}")
    lines += ["", _resolution(report), *_tail(report), f"result: {_headline(report)}"]
    return lines


def format_markdown(report: dict) -> list[str]:
    """The report as markdown lines, for a CI job summary."""
    slower = any(row["verdict"] == "slower" for row in report["benchmarks"])
    mark = ("slower" if slower else "failed" if report["exit_status"] == stats.EXIT_FAILED
            else "undecided" if report["exit_status"] == stats.EXIT_UNDECIDED else "ok")
    lines = [f"### bench check: {mark}", "", f"- {report['base']['text']}", f"- {report['head']['text']}"]
    lines += [f"- **{warning}**" for warning in _warnings(report)]
    count = "rounds" if report["mode"] == "rounds" else "processes"
    lines += ["", f"| benchmark | base | head | ratio | interval | {count} | verdict |",
              "|---|---:|---:|---:|---|---:|---|"]
    for row in _sorted(report["benchmarks"]):
        verdict = _verdict(row).replace("|", "\\|")
        verdict = f"**{verdict}**" if row["verdict"] in ("slower", "failed", "undecided") else verdict
        lines.append(f"| `{row['benchmark']}` | {_time(row['base_s'])} | {_time(row['head_s'])} | "
                     f"{_ratio(row['ratio'])} | {_interval(row)} | {_count(row)} | {verdict} |")
    lines += ["", _resolution(report), ""]
    lines += [f"{line}  " for line in _tail(report)]
    lines.append(f"**result: {_headline(report)}**")
    return lines


def format_report(report: dict, form: str) -> str:
    """The report in `form` (text, markdown or json) as one string ending in a newline."""
    if form == "json":
        return json.dumps(report, indent=2, sort_keys=True) + "\n"
    lines = format_markdown(report) if form == "markdown" else format_text(report)
    return "\n".join(lines) + "\n"
