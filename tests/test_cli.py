"""`python -m bench` in a subprocess: exit codes, stdout, and one-line errors on stderr."""

from __future__ import annotations

import json
import re
import sys

import psutil
import pytest

from bench.designs import EXTRA_DESIGNS_ENV
from tests import cli_helpers
from tests.cli_helpers import bench, run_bounded, time_left

NAMES = ("lock_list", "two_lock", "semaphores", "queue", "generator", "coroutine", "greenlet",
         "multiprocess", "asyncio", "simple_queue", "condition", "asyncio_threadsafe", "janus", "culsans",
         "uvloop", "trio", "gevent", "mp_batched", "faster_fifo", "zmq", "redis_list",
         "redis_stream", "nats")

pytestmark = pytest.mark.timeout(90)


def test_list_shows_every_design():
    proc = bench("list")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    header, *rows = proc.stdout.splitlines()
    assert header.split() == ["name", "model", "seeds", "summary"]
    assert [row.split()[0] for row in rows] == list(NAMES)


def test_list_adds_the_extra_designs():
    proc = bench("list", extra="tests.fixtures.broken_drops,tests.fixtures.broken_duplicates")
    assert proc.returncode == 0, proc.stderr
    names = [row.split()[0] for row in proc.stdout.splitlines()[1:]]
    assert names == [*NAMES, "broken_drops", "broken_duplicates"]


def test_run_once_prints_a_verified_line():
    proc = bench("run", "queue", "--once", "--items", "2000")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert re.fullmatch(r"queue/p1c1/capinf/flat/none: 2000 items in \d+\.\d{4} s, [\d,]+ items/s, "
                        r"\d+\.\d{3} us/item, verified\n", proc.stdout)


def test_run_once_json_is_one_object():
    proc = bench("run", "queue", "--once", "--json", "--items", "2000", "--producers", "2",
                 "--consumers", "3", "--capacity", "16")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.count("\n") == 1
    report = json.loads(proc.stdout)
    assert isinstance(report, dict)
    assert {"variant", "producers", "consumers", "capacity", "items", "elapsed_s", "items_per_s",
            "s_per_item", "verified", "error"} <= report.keys()
    assert report["variant"] == "queue"
    assert report["benchmark"] == "queue/p2c3/cap16/flat/none"
    assert (report["producers"], report["consumers"], report["capacity"], report["items"]) == (2, 3, 16, 2000)
    assert report["status"] == "ok"
    assert report["verified"] is True
    assert report["error"] is None
    assert report["elapsed_s"] > 0
    assert report["items_per_s"] == pytest.approx(2000 / report["elapsed_s"])
    assert report["s_per_item"] == pytest.approx(report["elapsed_s"] / 2000)


def test_run_once_json_reports_unbounded_capacity_as_null():
    proc = bench("run", "queue", "--once", "--json", "--items", "100", "--payload", "8")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["capacity"] is None
    assert report["benchmark"] == "queue/p1c1/capinf/flat/none/payload8"


# Bad input: (arguments, the exact stderr line or None to check only its shape).
BAD_INPUT = {
    "unknown design": (["run", "nope", "--once"], None),
    "producers 0": (["run", "queue", "--once", "--producers", "0"], "error: --producers must be >= 1, got 0"),
    "consumers 0": (["run", "queue", "--once", "--consumers", "0"], "error: --consumers must be >= 1, got 0"),
    "capacity 0": (["run", "queue", "--once", "--capacity", "0"], "error: --capacity must be >= 1, got 0"),
    "capacity -3": (["run", "queue", "--once", "--capacity", "-3"], "error: --capacity must be >= 1, got -3"),
    "capacity abc": (["run", "queue", "--once", "--capacity", "abc"],
                     "error: --capacity must be a whole number, got 'abc'"),
    "items 0": (["run", "queue", "--once", "--items", "0"], "error: --items must be >= 1, got 0"),
    "items x": (["run", "queue", "--once", "--items", "x"], "error: --items must be a whole number, got 'x'"),
    "payload -1": (["run", "queue", "--once", "--payload", "-1"], "error: --payload must be >= 0, got -1"),
    "arrival steady:abc": (["run", "queue", "--once", "--arrival", "steady:abc"],
                           "error: bad arrival spec 'steady:abc': RATE must be a positive number, got 'abc'"),
    "arrival bogus": (["run", "queue", "--once", "--arrival", "bogus"],
                      "error: bad arrival spec 'bogus': expected flat, steady:RATE, burst:SIZE:RATE "
                      "or poisson:RATE"),
    "work cpu:5": (["run", "queue", "--once", "--work", "cpu:5"],
                   "error: bad work spec 'cpu:5': bad duration '5': expected a number with a unit s, ms, us "
                   "or ns, e.g. 20us"),
    "work sleep:1ms": (["run", "queue", "--once", "--work", "sleep:1ms"],
                       "error: bad work spec 'sleep:1ms': expected none, cpu:DURATION or io:DURATION, "
                       "e.g. cpu:20us"),
    "two_lock capacity 16": (["run", "two_lock", "--once", "--capacity", "16"],
                             "error: two_lock does not support this scenario: two_lock has a single slot: "
                             "capacity must be 1, got 16"),
    "two_lock unbounded": (["run", "two_lock", "--once"], None),
    "unknown flag": (["run", "queue", "--once", "--bogus"], "error: unrecognized arguments: --bogus"),
    "unknown command": (["bogus"], None),
    "no command": ([], None),
    "unknown flag before the command": (["--bogus", "list"], None),
    "deadline 0": (["run", "queue", "--once", "--deadline", "0"],
                   "error: --deadline must be a positive finite number of seconds, got '0'"),
    "deadline -1": (["run", "queue", "--once", "--deadline", "-1"],
                    "error: --deadline must be a positive finite number of seconds, got '-1'"),
    "deadline abc": (["run", "queue", "--once", "--deadline", "abc"],
                     "error: --deadline must be a number of seconds, got 'abc'"),
    "deadline inf": (["run", "queue", "--once", "--deadline", "inf"], None),
    "deadline nan": (["run", "queue", "--once", "--deadline", "nan"], None),
    "pyperf: producers 0": (["run", "queue", "--producers", "0"], "error: --producers must be >= 1, got 0"),
    "pyperf: unknown design": (["run", "nope"], None),
    "pyperf: capacity abc": (["run", "queue", "--capacity", "abc"],
                             "error: --capacity must be a whole number, got 'abc'"),
    "run without variant": (["run", "--once"], None),
}


@pytest.mark.parametrize("args, expected", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_one_error_line_and_status_2(args, expected):
    # --items last only when the case is not about items: a check that lets bad input through ends fast
    if "--items" not in args and args[:1] == ["run"]:
        args = [*args, "--items", "100"]
    proc = bench(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert re.fullmatch(r"error: [^\n]+\n", proc.stderr), proc.stderr
    if expected is not None:
        assert proc.stderr == expected + "\n"


def test_unknown_variant_lists_the_known_ones():
    proc = bench("run", "nope", "--once", "--items", "100")
    assert proc.returncode == 2
    match = re.fullmatch(r"error: unknown design 'nope'; known: (.+)\n", proc.stderr)
    assert match, proc.stderr
    assert match.group(1).split(", ") == list(NAMES)


def test_an_extra_design_that_cannot_be_imported_is_a_usage_error():
    proc = bench("list", extra="tests.fixtures.no_such_design")
    assert proc.returncode == 2
    assert proc.stdout == ""
    prefix = f"error: {EXTRA_DESIGNS_ENV}: cannot import 'tests.fixtures.no_such_design': "
    assert proc.stderr.startswith(prefix), proc.stderr
    assert proc.stderr.count("\n") == 1


def test_broken_design_fails_the_json_run():
    proc = bench("run", "broken_drops", "--once", "--json", extra="tests.fixtures.broken_drops")
    assert proc.returncode == 1
    assert proc.stderr == ""
    report = json.loads(proc.stdout)
    assert report["variant"] == "broken_drops"
    assert report["status"] == "failed"
    assert report["verified"] is False
    assert report["error"] == "lost 1 items (7)"
    assert report["elapsed_s"] is None and report["items_per_s"] is None  # never a figure


def test_broken_design_fails_the_text_run_on_stderr():
    proc = bench("run", "broken_duplicates", "--once", "--items", "100", "--producers", "2",
                 extra="tests.fixtures.broken_duplicates")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == "broken_duplicates/p2c1/capinf/flat/none: failed: duplicated 1 items (7)\n"


def test_a_design_that_leaves_a_thread_fails_and_the_process_exits():
    proc = bench("run", "broken_leaves_thread", "--once", "--items", "100",
                 extra="tests.fixtures.broken_leaves_thread")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == ("broken_leaves_thread/p1c1/capinf/flat/none: failed: workers still running when "
                           "run() returned: broken_leaves_thread straggler\n")


def test_a_stuck_child_process_times_out_and_the_process_exits():
    proc = bench("run", "broken_stuck_process", "--once", "--items", "10", "--deadline", "1",
                 extra="tests.fixtures.broken_stuck_process")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == ("broken_stuck_process/p1c1/capinf/flat/none: timeout: did not finish within 1 s; "
                           "1 child processes terminated\n")


def test_a_flat_run_has_no_latency_and_a_paced_run_counts_every_item():
    flat = json.loads(bench("run", "queue", "--once", "--json", "--items", "200").stdout)
    assert not [key for key in flat if key.startswith(("latency", "producer_lag")) or "depth" in key]
    paced = json.loads(bench("run", "queue", "--once", "--json", "--items", "200", "--producers", "2",
                             "--capacity", "16", "--arrival", "steady:20000").stdout)
    assert paced["latency_count"] == 200
    assert 0 < paced["latency_p50_s"] <= paced["latency_p99_s"] <= paced["latency_max_s"]
    assert 1 <= paced["max_depth"] <= 16
    assert "latency_hist" not in paced  # for merging across processes, not for a terminal


def test_a_paced_run_prints_its_latency_in_readable_units():
    proc = bench("run", "queue", "--once", "--items", "200", "--arrival", "steady:20000")
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()
    assert first.endswith("verified")
    assert re.fullmatch(r"  latency p50 [\d.]+ [mu]?s p90 .+ max .+; depth max \d+ mean [\d.e-]+; "
                        r"producer lag p99 .+ max .+", second), second


# --- the tests' own time limits ------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_a_child_past_its_time_is_killed_with_its_own_children(tmp_path):
    # the child starts a grandchild (as `bench all` starts workers), then both outlive the limit
    code = ("import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import time; "
            "time.sleep(60)']); open(sys.argv[1], 'w').write(str(p.pid)); time.sleep(60)")
    pid_file = tmp_path / "grandchild"
    with pytest.raises(AssertionError, match="ran past 2 s and was killed with its process group"):
        run_bounded([sys.executable, "-c", code, str(pid_file)], timeout=2.0, text=True)
    try:
        psutil.Process(int(pid_file.read_text())).wait(timeout=5)  # psutil.TimeoutExpired if it runs on
    except psutil.NoSuchProcess:
        pass  # gone already


def test_a_child_s_time_limit_is_cut_to_the_test_s_remaining_time():
    assert cli_helpers.DEADLINE is not None  # tests/conftest.py set it from this module's 90 s
    assert time_left(1000.0) <= 90 - cli_helpers.MARGIN
    assert time_left(10.0) == 10.0
