"""`python -m bench all` and `list --profile`: the orchestrator, its run folder, resume, failures, signals.

Every test runs `python -m bench` in a subprocess (see ../shared/STYLE.md, "Tests") on a few cells of the
smoke profile picked with --only; those that do not read REPORT.md run it without building the report
(`bench_all`), which would cost them seconds each. Design fixtures join the registry through
PRODCON_EXTRA_DESIGNS: tests.fixtures.stuck (never finishes) and tests.fixtures.killer (its worker is
killed by SIGKILL).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pyperf
import pytest

from bench.orchestrate import ALONE_NO_RIVAL, in_run_order, process_spread, run_cell
from bench.profiles import Cell, cells, get_profile
from runs.store import part_stem
from tests.cli_helpers import (
    ROOT,
    alive_with,
    assert_no_stray_process,
    bench,
    bench_env,
    default_sigint,
    run_bounded,
)
from variants import two_lock
from variants.contract import Scenario

MACHINE_KEYS = {"cpu_count", "cpu_affinity", "mp_start_method", "switch_interval_s", "python_version",
                "pyperf_version"}
INTERRUPT_ONLY = "^(lock_list|queue)/p1c1/cap1/|^queue/p1c1/capinf/"  # the interrupted runs' three cells:
INTERRUPT_PAIR = ["lock_list/p1c1/cap1/flat/none", "queue/p1c1/cap1/flat/none"]  # one rounds worker, first
INTERRUPT_ALONE = "queue/p1c1/capinf/flat/none"  # then the next scenario's only design, in pyperf workers
OK_1 = {"status": "ok", "reason": None, "processes": 1,  # run.json's entry of a benchmark that passed (smoke)
        "alone": ALONE_NO_RIVAL}  # ... with no rival in its scenario (a paired cell has paired_with instead)


# `python -m bench` with bench.commands.all.BUILD_REPORT off: `bench all` as a user runs it, less REPORT.md
NO_REPORT = ("import sys, bench.commands.all; bench.commands.all.BUILD_REPORT = False; "
             "from bench.cli import main; sys.exit(main())")


def bench_all(*args: str, extra: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m bench all ARGS` without building REPORT.md (NO_REPORT), as tests/cli_helpers.py's bench."""
    return run_bounded([sys.executable, "-c", NO_REPORT, "all", *args], timeout, cwd=ROOT,
                       env=bench_env(extra), stdin=subprocess.DEVNULL, text=True)


def entry(cell: dict) -> dict:
    """A run.json cell entry without its wall time, after checking that time is there and positive."""
    cell = dict(cell)
    seconds = cell.pop("seconds")
    assert isinstance(seconds, float | int) and seconds > 0
    return cell


def selected(only: str, profile: str = "smoke", run_order: bool = True) -> list[str]:
    """The names of the runnable cells of `profile` that `only` selects, in run order (scenario by
    scenario) or in the profile's order (design by design, as suite.json lists them)."""
    pattern = re.compile(only)
    listed = cells(get_profile(profile))
    return [cell.name for cell in (in_run_order(listed) if run_order else listed)
            if pattern.search(cell.name) and not cell.unsupported]


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def suite_names(folder: Path) -> list[str]:
    return pyperf.BenchmarkSuite.load(str(folder / "suite.json")).get_benchmark_names()


def log_headers(folder: Path) -> list[str]:
    """The benchmarks pyperf.log says were started, in order: one `=== NAME` line each when alone, one
    `=== NAME NAME ... (rounds worker N)` line for the designs of a scenario that one worker runs."""
    text = (folder / "pyperf.log").read_text(encoding="utf-8")
    return [name for line in text.splitlines() if line.startswith("=== ")
            for name in line[4:].split(" (rounds worker ")[0].split()]


def hidden_files(folder: Path) -> list[Path]:
    """Temporary files (every temp file of the store is a dot file, most end in .tmp) under folder."""
    return [path for path in folder.rglob("*") if path.name.startswith(".") or path.name.endswith(".tmp")]


def assert_parts_load(folder: Path) -> list[str]:
    """Every file in parts/ is whole: pyperf loads the .json, every metrics line is JSON; their names."""
    names = []
    for path in sorted((folder / "parts").iterdir()):
        if path.name.endswith(".metrics.jsonl"):
            for line in path.read_text(encoding="utf-8").splitlines():
                json.loads(line)
        else:
            assert path.suffix == ".json", path
            names.append(pyperf.Benchmark.load(str(path)).get_name())
            assert path.name == f"{part_stem(names[-1])}.json"
    return names


# --- a tiny run ---------------------------------------------------------------------------------------

TINY_ONLY = "^queue/p1c1/"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """`bench all --profile smoke --only ^queue/p1c1/`: (run folder, finished process)."""
    folder = tmp_path_factory.mktemp("tiny").resolve() / "run"
    proc = bench("all", "--profile", "smoke", "--only", TINY_ONLY, "--out", str(folder))
    return folder, proc


@pytest.mark.timeout(120)
def test_tiny_run_exits_0_and_talks_little(tiny):
    folder, proc = tiny
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()
    assert 2 <= len(lines) <= 4, proc.stdout  # a summary, where the results are, how to read them
    assert lines[0].startswith("3 benchmarks measured, 0 n/a, 0 failed in ")
    assert f"results: {folder}" in lines
    assert str(folder) in lines[-1]
    for chatter in ("=== ", "$ ", " us", "Mean +- std dev", "WARNING"):  # pyperf's output went to the log
        assert chatter not in proc.stdout


@pytest.mark.timeout(120)
def test_tiny_run_folder(tiny):
    folder, proc = tiny
    assert proc.returncode == 0, proc.stderr
    names = selected(TINY_ONLY)
    assert len(names) == 3
    assert sorted(path.name for path in folder.iterdir()) == [
        "REPORT.md", "benchmarks.csv", "charts", "frame.csv", "metrics.jsonl", "parts", "pyperf.log",
        "run.json", "suite.json"]  # the report (analysis) is built at the end of every finished run
    assert hidden_files(folder) == []

    assert suite_names(folder) == names

    parts = folder / "parts"
    assert sorted(path.name for path in parts.glob("*.json")) == sorted(f"{part_stem(n)}.json" for n in names)
    assert sorted(assert_parts_load(folder)) == sorted(names)

    metrics = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert {record["benchmark"] for record in metrics} == set(names)
    assert all(record["status"] == "ok" for record in metrics)
    assert all(record["verified"] is True for record in metrics if record["phase"] != "depth")
    assert {record["phase"] for record in metrics} == {"depth", "value"}  # smoke: no warm-up

    log = (folder / "pyperf.log").read_text(encoding="utf-8")
    assert log_headers(folder) == names
    for name in names:
        assert re.search(rf"^{re.escape(name)}: \d", log, re.MULTILINE)  # pyperf's own result line


@pytest.mark.timeout(120)
def test_tiny_run_json(tiny):
    folder, proc = tiny
    assert proc.returncode == 0, proc.stderr
    state = read_json(folder / "run.json")
    assert state["format"] == 1
    assert state["profile"] == "smoke"
    assert state["only"] == TINY_ONLY
    assert state["interrupted"] is False
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", state["git_commit"]), state["git_commit"]
    assert MACHINE_KEYS <= set(state["machine"])
    assert state["machine"]["cpu_count"] == os.cpu_count()
    assert state["machine"]["pyperf_version"] == pyperf.__version__
    assert state["machine"]["switch_interval_s"] == sys.getswitchinterval()
    for key in ("load_start", "load_end"):
        assert state[key] is None or len(state[key]) == 3
    assert isinstance(state["wall_s"], float | int) and state["wall_s"] >= 0
    assert {name: entry(cell) for name, cell in state["cells"].items()} == {name: OK_1 for name in
                                                                           selected(TINY_ONLY)}


@pytest.mark.timeout(120)
def test_pyperf_stats_reads_the_suite(tiny):
    folder, proc = tiny
    assert proc.returncode == 0, proc.stderr
    done = subprocess.run([sys.executable, "-m", "pyperf", "stats", str(folder / "suite.json")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for name in selected(TINY_ONLY):
        assert name in done.stdout


@pytest.mark.timeout(120)
def test_unsupported_cells_are_listed_as_na_and_not_run(tmp_path):
    folder = tmp_path / "run"
    proc = bench_all("--profile", "smoke", "--only", "^two_lock/p1c1/", "--out", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("1 benchmarks measured, 2 n/a, 0 failed in ")
    cells_state = read_json(folder / "run.json")["cells"]
    unbounded = "two_lock/p1c1/capinf/flat/none"
    assert cells_state[unbounded] == {"status": "n/a", "reason": two_lock.unsupported(Scenario(1, 1, 20_000))}
    assert cells_state[unbounded]["reason"]
    assert cells_state["two_lock/p1c1/cap1/flat/none"]["status"] == "ok"
    assert cells_state["two_lock/p1c1/cap16/steady:20000/io:50us"]["status"] == "n/a"
    assert suite_names(folder) == ["two_lock/p1c1/cap1/flat/none"]
    assert log_headers(folder) == ["two_lock/p1c1/cap1/flat/none"]
    assert not (folder / "REPORT.md").exists()  # bench_all builds no report


# --- resume -------------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_resume_of_a_finished_run_runs_nothing(tiny, tmp_path):
    source, proc = tiny
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "run"
    shutil.copytree(source, folder)
    resumed = bench_all("--resume", str(folder))
    assert resumed.returncode == 0, resumed.stderr
    assert log_headers(folder) == selected(TINY_ONLY)  # no new benchmark started
    assert suite_names(folder) == selected(TINY_ONLY)
    assert f"results: {folder}" in resumed.stdout.splitlines()


@pytest.mark.timeout(120)
def test_resume_runs_exactly_the_missing_part(tiny, tmp_path):
    source, proc = tiny
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "run"
    shutil.copytree(source, folder)
    names = selected(TINY_ONLY)
    missing = names[1]
    (folder / "parts" / f"{part_stem(missing)}.json").unlink()
    (folder / "parts" / f"{part_stem(missing)}.metrics.jsonl").unlink()

    resumed = bench_all("--resume", str(folder))
    assert resumed.returncode == 0, resumed.stderr
    assert log_headers(folder) == [*names, missing]
    assert suite_names(folder) == names
    assert sorted(assert_parts_load(folder)) == sorted(names)
    metrics = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert {record["benchmark"] for record in metrics} == set(names)
    assert entry(read_json(folder / "run.json")["cells"][missing]) == OK_1
    assert hidden_files(folder) == []


# --- failures: a hung design, a killed worker -----------------------------------------------------------


@pytest.mark.timeout(120)
def test_a_hung_benchmark_times_out_and_the_run_goes_on(tmp_path):
    folder = tmp_path / "run"
    proc = bench_all("--profile", "smoke", "--only", "^(stuck|queue)/p1c1/capinf/", "--deadline", "2",
                     "--out", str(folder), extra="tests.fixtures.stuck")
    try:
        assert proc.returncode == 1, proc.stderr
        stuck, fine = "stuck/p1c1/capinf/flat/none", "queue/p1c1/capinf/flat/none"
        state = read_json(folder / "run.json")
        assert entry(state["cells"][stuck]) == {"status": "timeout", "reason": "did not finish within 2 s",
                                                "paired_with": "queue,stuck"}
        # queue ran its round before stuck hung (paired), or after, when its worker had stopped (alone)
        fine_entry = entry(state["cells"][fine])
        assert fine_entry["status"] == "ok" and fine_entry["processes"] == 1
        assert fine_entry.get("paired_with") == "queue,stuck" or fine_entry["alone"] == (
            "its rounds worker gave no value (it stopped after another design's timeout); "
            "measured alone instead")
        assert suite_names(folder) == [fine]
        assert f"  timeout: {stuck}: did not finish within 2 s" in proc.stdout.splitlines()
        assert proc.stdout.startswith("1 benchmarks measured, 0 n/a, 1 failed in ")
        assert sorted(assert_parts_load(folder)) == [fine]
        assert hidden_files(folder) == []
    finally:
        assert_no_stray_process(str(tmp_path))


KILLER_ONLY = "^queue/p1c1/cap1/|^(killer|queue)/p1c1/capinf/"  # queue alone, then queue beside killer
KILLED, EARLIER, BESIDE = ("killer/p1c1/capinf/flat/none", "queue/p1c1/cap1/flat/none",
                           "queue/p1c1/capinf/flat/none")


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    """`bench all` (no report) over KILLER_ONLY, whose killer's workers die by SIGKILL: (folder, process)."""
    folder = tmp_path_factory.mktemp("killed").resolve() / "run"
    proc = bench_all("--profile", "smoke", "--only", KILLER_ONLY, "--out", str(folder),
                     extra="tests.fixtures.killer")
    assert_no_stray_process(str(folder))
    return folder, proc


@pytest.mark.timeout(120)
def test_a_killed_worker_fails_its_benchmark_only(killed):
    folder, proc = killed
    assert proc.returncode == 1, proc.stderr
    assert selected(KILLER_ONLY, run_order=False) == [EARLIER, BESIDE]  # killer: in bench's registry only
    state = read_json(folder / "run.json")
    assert state["cells"][KILLED]["status"] == "failed"
    assert "exit code -9" in state["cells"][KILLED]["reason"]  # pyperf's words for a worker killed by 9
    # their shared worker died naming no design: each was measured alone after it
    lone = "its rounds worker gave no value (exit status -9); measured alone instead"
    assert state["cells"][KILLED]["alone"] == lone
    assert entry(state["cells"][BESIDE]) == {**OK_1, "alone": lone}
    assert entry(state["cells"][EARLIER]) == OK_1
    assert log_headers(folder) == [EARLIER, BESIDE, KILLED, BESIDE, KILLED]  # EARLIER; their worker; alone
    assert state["interrupted"] is False
    assert suite_names(folder) == [EARLIER, BESIDE]
    assert proc.stdout.startswith("2 benchmarks measured, 0 n/a, 1 failed in ")
    assert f"  failed: {KILLED}: " in proc.stdout
    assert hidden_files(folder) == []


@pytest.mark.timeout(120)
def test_resume_reruns_the_cell_whose_worker_was_killed(killed, tmp_path):
    """--resume runs the killed cell again (here it is killed again), and only it: the cells finished
    before it, and the one that shared its worker, keep their files byte for byte and their entries."""
    source, proc = killed
    assert proc.returncode == 1, proc.stderr
    folder = tmp_path / "run"
    shutil.copytree(source, folder)
    cells_before, headers = read_json(folder / "run.json")["cells"], log_headers(folder)
    parts = {path.name: path.read_bytes() for path in (folder / "parts").iterdir()}
    assert len(parts) == 4  # EARLIER's and BESIDE's .json and .metrics.jsonl

    resumed = bench_all("--resume", str(folder), extra="tests.fixtures.killer")
    try:
        assert resumed.returncode == 1, resumed.stderr
        assert log_headers(folder) == [*headers, KILLED]  # the killed cell, alone; nothing else
        assert {path.name: path.read_bytes() for path in (folder / "parts").iterdir()} == parts
        state = read_json(folder / "run.json")
        assert state["resumed_with"] == [[sys.executable, "-m", "bench", "all", "--resume", str(folder)]]
        assert {name: cell for name, cell in state["cells"].items() if name != KILLED} == {
            name: cell for name, cell in cells_before.items() if name != KILLED}
        assert state["cells"][KILLED]["status"] == "failed"
        assert "exit code -9" in state["cells"][KILLED]["reason"]
        assert state["cells"][KILLED]["alone"] == ALONE_NO_RIVAL  # its scenario's only cell left to run
        assert suite_names(folder) == [EARLIER, BESIDE]
        assert resumed.stdout.startswith("2 benchmarks measured, 0 n/a, 1 failed in ")
        assert f"  failed: {KILLED}: " in resumed.stdout
        assert hidden_files(folder) == []
    finally:
        assert_no_stray_process(str(tmp_path))


# --- interrupted runs ------------------------------------------------------------------------------------


def _alone_cell_running(marker: str) -> bool:
    """Whether the `bench run` of INTERRUPT_ALONE (pyperf's parent or its worker) is running: the paired
    scenario before it is stored, and this cell is not (its part is renamed in after its processes end)."""
    for proc in psutil.process_iter():
        try:
            argv = proc.cmdline()
        except psutil.Error:
            continue
        if "run" in argv and "queue" in argv and "--capacity=inf" in argv and alive_with(proc, marker):
            return True
    return False


@pytest.mark.timeout(120)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_keeps_whole_files_and_resumes(tmp_path, signum):
    """Interrupted while its last cell runs: the paired scenario before it is kept whole, that cell is not
    kept at all, and --resume runs exactly that cell."""
    folder = tmp_path / "run"
    assert selected(INTERRUPT_ONLY) == [*INTERRUPT_PAIR, INTERRUPT_ALONE]
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        orchestrator = subprocess.Popen(
            [sys.executable, "-m", "bench", "all", "--profile", "smoke", "--only", INTERRUPT_ONLY,
             "--out", str(folder)], cwd=ROOT, env=bench_env(), stdin=subprocess.DEVNULL, stdout=stdout,
            stderr=stderr, preexec_fn=default_sigint)
    try:
        limit = time.monotonic() + 60
        while not _alone_cell_running(str(tmp_path)):
            assert orchestrator.poll() is None, "the run ended before its last cell was seen running"
            assert time.monotonic() < limit, "the last cell did not start within 60 s"
            time.sleep(0.02)
        orchestrator.send_signal(signum)
        assert orchestrator.wait(timeout=30) == 130
    finally:
        if orchestrator.poll() is None:
            orchestrator.kill()
            orchestrator.wait(10)
        assert_no_stray_process(str(tmp_path))

    assert err.read_text().endswith(f"interrupted; finished benchmarks are kept in {folder}\n"
                                    f"resume with: python -m bench all --resume {folder}\n")
    assert "Traceback" not in err.read_text()
    assert out.read_text() == ""
    assert hidden_files(folder) == []
    assert sorted(assert_parts_load(folder)) == sorted(INTERRUPT_PAIR)
    state = read_json(folder / "run.json")
    assert state["interrupted"] is True
    assert {name: cell["status"] for name, cell in state["cells"].items()} == {
        **{name: "ok" for name in INTERRUPT_PAIR}, INTERRUPT_ALONE: "pending"}
    in_suite = selected(INTERRUPT_ONLY, run_order=False)
    assert suite_names(folder) == [name for name in in_suite if name in INTERRUPT_PAIR]
    kept = {path.name: path.read_bytes() for path in (folder / "parts").iterdir()}

    resumed = bench_all("--resume", str(folder))
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.startswith("3 benchmarks measured, 0 n/a, 0 failed in ")  # merged: all three
    assert suite_names(folder) == in_suite
    assert log_headers(folder) == [*INTERRUPT_PAIR, INTERRUPT_ALONE, INTERRUPT_ALONE]  # only it, again
    assert {name: (folder / "parts" / name).read_bytes() for name in kept} == kept
    state = read_json(folder / "run.json")
    assert state["interrupted"] is False
    assert all(state["cells"][name]["status"] == "ok" for name in selected(INTERRUPT_ONLY))
    assert hidden_files(folder) == []
    assert_no_stray_process(str(tmp_path))


def _workers(variant: str, marker: str) -> list[psutil.Process]:
    """Live workers whose command line names marker: pyperf's (`bench run --worker ... DESIGN ...`) or
    a rounds worker (`bench rounds ...,DESIGN,... ...`)."""
    found = []
    for proc in psutil.process_iter():
        try:
            argv = proc.cmdline()
        except psutil.Error:
            continue
        ours = ("--worker" in argv and variant in argv) or ("rounds" in argv and any(
            variant in arg.split(",") for arg in argv))
        if ours and alive_with(proc, marker):
            found.append(proc)
    return found


@pytest.mark.timeout(120)
def test_an_interrupt_kills_a_hung_benchmark_and_its_workers(tmp_path):
    """Ctrl-C while a worker hangs (deadline 60 s): the whole tree dies now, not at the deadline.

    queue's cell at capacity 1 runs first and alone; then queue and stuck share a rounds worker, which hangs.
    """
    folder = tmp_path / "run"
    fine, stuck, paired = ("queue/p1c1/cap1/flat/none", "stuck/p1c1/capinf/flat/none",
                           "queue/p1c1/capinf/flat/none")
    orchestrator = subprocess.Popen(
        [sys.executable, "-m", "bench", "all", "--profile", "smoke", "--only",
         "^(stuck|queue)/p1c1/capinf/|^queue/p1c1/cap1/",
         "--deadline", "60", "--out", str(folder)], cwd=ROOT, env=bench_env("tests.fixtures.stuck"),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=default_sigint)
    try:
        limit = time.monotonic() + 60
        while not _workers("stuck", str(tmp_path)):
            assert orchestrator.poll() is None, "the run ended before its stuck worker started"
            assert time.monotonic() < limit, "no stuck worker within 60 s"
            time.sleep(0.02)
        orchestrator.send_signal(signal.SIGINT)
        _, stderr = orchestrator.communicate(timeout=30)
        assert orchestrator.returncode == 130
    finally:
        if orchestrator.poll() is None:
            orchestrator.kill()
            orchestrator.communicate(timeout=10)
        assert_no_stray_process(str(tmp_path))
    assert f"resume with: python -m bench all --resume {folder}" in stderr
    assert hidden_files(folder) == []
    assert assert_parts_load(folder) == [fine]
    state = read_json(folder / "run.json")
    assert state["interrupted"] is True
    assert entry(state["cells"][fine]) == OK_1
    assert state["cells"][stuck] == state["cells"][paired] == {"status": "pending", "reason": None}
    assert suite_names(folder) == [fine]


# --- bad input -------------------------------------------------------------------------------------------


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir()
    (folder / name).write_text(text)
    return folder


def _results() -> list[str] | None:
    """The default results folder's listing (None if there is none): bad input must not add to it."""
    results = ROOT / "results"
    return sorted(os.listdir(results)) if results.is_dir() else None


BAD_INPUT = {  # id: (arguments given tmp_path, the error line as a regex given tmp_path)
    "unknown profile": (lambda t: ["all", "--profile", "nope", "--out", str(t / "r")],
                        lambda t: r"unknown profile 'nope'; known: smoke, quick, full, ci"),
    "resume a missing folder": (lambda t: ["all", "--resume", "/nonexistent/dir"],
                                lambda t: r"/nonexistent/dir: not a folder"),
    "resume an empty folder": (
        lambda t: ["all", "--resume", str(t)],
        lambda t: rf"{re.escape(str(t))}: no run.json: not a run folder of `bench all`"),
    "resume, run.json not JSON": (
        lambda t: ["all", "--resume", str(_write(t / "r", "run.json", "{not json"))],
        lambda t: rf"{re.escape(str(t / 'r' / 'run.json'))}: unreadable: .+"),
    "resume, run.json format 99": (
        lambda t: ["all", "--resume", str(_write(t / "r", "run.json", '{"format": 99, "profile": "smoke"}'))],
        lambda t: rf"{re.escape(str(t / 'r' / 'run.json'))}: unknown format 99 \(this version reads 1\)"),
    "bad regex": (lambda t: ["all", "--profile", "smoke", "--only", "(", "--out", str(t / "r")],
                  lambda t: r"--only: bad regular expression '\(': .+"),
    "regex matches nothing": (
        lambda t: ["all", "--profile", "smoke", "--only", "matches-nothing-xyz", "--out", str(t / "r")],
        lambda t: r"--only 'matches-nothing-xyz' matches no benchmark of profile smoke"),
    "out not empty": (  # not a run folder: --resume would be wrong advice
        lambda t: ["all", "--profile", "smoke", "--only", TINY_ONLY, "--out",
                   str(_write(t / "r", "keep", "x"))],
        lambda t: rf"{re.escape(str(t / 'r'))}: exists and is not empty, and is not a run folder "
                  r"\(it has no run.json\); --out takes a new or empty folder"),
    "bad deadline": (lambda t: ["all", "--profile", "smoke", "--deadline", "-1", "--out", str(t / "r")],
                     lambda t: r"--deadline must be a positive finite number of seconds, got '-1'"),
    "list, unknown profile": (lambda t: ["list", "--profile", "nope"],
                              lambda t: r"unknown profile 'nope'; known: smoke, quick, full, ci"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("args, message", list(BAD_INPUT.values()), ids=list(BAD_INPUT))
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    _assert_refused(tmp_path, args, message)


def _assert_refused(tmp_path: Path, args, message) -> None:
    """`bench ARGS` exits 2 with the one line `error: MESSAGE`, having created or changed nothing."""
    tmp_path = tmp_path.resolve()
    argv = args(tmp_path)
    before = sorted(tmp_path.rglob("*")), _results()
    proc = bench(*argv, timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert re.fullmatch(f"error: {message(tmp_path)}\n", proc.stderr), proc.stderr
    assert (sorted(tmp_path.rglob("*")), _results()) == before  # nothing created, nothing overwritten


def _run_folder(folder: Path, run_json: str) -> Path:
    """A run folder as `bench all` leaves it before its first benchmark: run.json and an empty parts/."""
    (_write(folder, "run.json", run_json) / "parts").mkdir()
    return folder


_BEFORE_SPIN_RATE = json.dumps({  # a run.json of format 1 as commit 4253ec2 wrote it, cut short
    "format": 1, "profile": "smoke", "only": "^queue/p1c1/cap1/", "interrupted": True,
    "cells": {"queue/p1c1/cap1/flat/none": {"status": "pending", "reason": None}}})

NOT_A_RUN_JSON = ": not a run.json of `bench all`: no profile or no cells"

ODD_RUN_FOLDERS = {  # each once ended in a traceback, or gave wrong advice; as BAD_INPUT
    "resume, run.json without profile": (
        lambda t: ["all", "--resume", str(_write(t / "r", "run.json", '{"format": 1}'))],
        lambda t: re.escape(str(t / "r" / "run.json") + NOT_A_RUN_JSON)),
    "resume, run.json without cells": (
        lambda t: ["all", "--resume", str(_write(t / "r", "run.json", '{"format": 1, "profile": "smoke"}'))],
        lambda t: re.escape(str(t / "r" / "run.json") + NOT_A_RUN_JSON)),
    "out is a file": (
        lambda t: ["all", "--profile", "smoke", "--only", "^queue/p1c1/cap1/", "--out",
                   str(_write(t / "r", "f", "x") / "f")],
        lambda t: re.escape(f"{t / 'r' / 'f'}: a file, not a run folder; --out takes a new or empty folder")),
    "out inside a file": (
        lambda t: ["all", "--profile", "smoke", "--only", "^queue/p1c1/cap1/", "--out",
                   str(_write(t / "r", "f", "x") / "f" / "run")],
        lambda t: rf"{re.escape(str(t / 'r' / 'f' / 'run'))}: cannot create the run folder: Not a directory"),
    "out holds a run": (  # here --resume is the right advice
        lambda t: ["all", "--profile", "smoke", "--only", "^queue/p1c1/cap1/", "--out",
                   str(_run_folder(t / "r", _BEFORE_SPIN_RATE))],
        lambda t: rf"{re.escape(str(t / 'r'))}: holds a run already; results are never overwritten "
                  rf"\(use --resume {re.escape(str(t / 'r'))} to finish that run\)"),
    "resume with --only": (
        lambda t: ["all", "--resume", str(_run_folder(t / "r", _BEFORE_SPIN_RATE)), "--only", "queue"],
        lambda t: r"--resume takes the profile, --only, --alone, --python and folder of the run it resumes; "
                  r"drop --profile, --only, --alone, --python and --out"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("args, message", list(ODD_RUN_FOLDERS.values()), ids=list(ODD_RUN_FOLDERS))
def test_odd_run_folders_are_refused_in_one_line(tmp_path, args, message):
    _assert_refused(tmp_path, args, message)


@pytest.mark.timeout(60)
def test_a_run_json_from_before_spin_rate_is_resumed(tmp_path):
    """A run.json that has no spin_rate (commit 4253ec2) is resumed: calibrated now, its one cell run."""
    folder = _run_folder(tmp_path / "r", _BEFORE_SPIN_RATE)
    proc = bench_all("--resume", str(folder), timeout=45)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("1 benchmarks measured, 0 n/a, 0 failed in ")
    assert "Traceback" not in proc.stderr
    state = read_json(folder / "run.json")
    assert isinstance(state["spin_rate"], float) and state["spin_rate"] > 0
    assert state["interrupted"] is False
    assert entry(state["cells"]["queue/p1c1/cap1/flat/none"]) == OK_1
    assert suite_names(folder) == ["queue/p1c1/cap1/flat/none"]


# --- list --profile ---------------------------------------------------------------------------------------


# Pinned, so that a profile cannot grow or shrink unnoticed (its time is measured for the README):
# (profile, benchmarks that run, n/a cells).
PROFILE_SIZES = [("smoke", 50, 4), ("quick", 330, 55), ("full", 845, 161), ("ci", 9, 1)]


@pytest.mark.parametrize("profile, runnable, na", PROFILE_SIZES)
def test_profile_sizes_are_pinned(profile, runnable, na):
    listed = cells(get_profile(profile))
    assert (sum(not cell.unsupported for cell in listed), sum(bool(cell.unsupported) for cell in listed)) == (
        runnable, na)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("profile", ["smoke", "quick"])
def test_list_profile_shows_every_cell_and_an_estimate(profile):
    proc = bench("list", "--profile", profile, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    *rows, last = proc.stdout.splitlines()
    listed = cells(get_profile(profile))
    assert len(rows) == len(listed)
    for row, cell in zip(rows, listed, strict=True):
        name, note = row.split(maxsplit=1)
        assert name == cell.name
        if cell.unsupported:
            assert note == f"n/a: {cell.unsupported}"
        else:
            assert note == f"{cell.scenario.items} items"
    runnable = [cell for cell in listed if not cell.unsupported]
    match = re.fullmatch(rf"profile {profile}: (\d+) benchmarks, (\d+) n/a; pyperf .+; "
                         r"about (\d+\.\d) min on 2 cores", last)
    assert match, last
    assert int(match[1]) == len(runnable)
    assert int(match[2]) == len(listed) - len(runnable)
    assert float(match[3]) > 0


# --- effort where the variance is -------------------------------------------------------------------------


def _bench_with_process_medians(path: Path, medians: list[float]) -> Path:
    runs = [pyperf.Run([m, m * 1.01, m * 0.99], metadata={"name": "x", "inner_loops": 1},
                       collect_metadata=False) for m in medians]
    pyperf.Benchmark(runs).dump(str(path))
    return path


def test_process_spread_is_over_process_medians(tmp_path):
    three = _bench_with_process_medians(tmp_path / "a.json", [2.0, 3.0, 2.2])
    assert process_spread(three) == pytest.approx(1.5)
    assert process_spread(_bench_with_process_medians(tmp_path / "b.json", [2.0])) == 1.0


@pytest.mark.timeout(120)
@pytest.mark.parametrize("limit, expected", [(1.0, 4), (float("inf"), 2)])
def test_processes_that_disagree_get_more(tmp_path, limit, expected):
    """A limit of 1.0 treats any two processes as disagreeing: 2 more are appended; no limit: none."""
    profile = dataclasses.replace(get_profile("smoke"), processes=2, more_processes=2, spread_limit=limit)
    cell = Cell("queue", Scenario(1, 1, 2_000, None), None)
    (tmp_path / "parts").mkdir()
    with open(tmp_path / "pyperf.log", "w", encoding="utf-8") as log:
        entry = run_cell(cell, profile, tmp_path, log, spin_rate=1e7)
    assert entry == {"status": "ok", "reason": None, "processes": expected}
    part = tmp_path / "parts" / f"{part_stem(cell.name)}.json"
    assert len(pyperf.Benchmark.load(str(part)).get_runs()) == expected
    metrics = (tmp_path / "parts" / f"{part_stem(cell.name)}.metrics.jsonl").read_text().splitlines()
    assert len({json.loads(line)["pid"] for line in metrics if '"value"' in line}) == expected
    assert [json.loads(line)["phase"] for line in metrics].count("depth") == 1  # the --append pass skips it
    assert hidden_files(tmp_path) == []


def test_run_order_is_scenario_by_scenario():
    """Each scenario's designs run back to back, so that drift over minutes falls on all of them alike."""
    listed = cells(get_profile("quick"))
    ordered = in_run_order(listed)
    assert sorted(cell.name for cell in ordered) == sorted(cell.name for cell in listed)
    runs = [cell.scenario.name for cell in ordered]
    blocks = [name for i, name in enumerate(runs) if i == 0 or runs[i - 1] != name]
    assert len(blocks) == len(set(runs))  # every scenario is one contiguous block
    first = [cell.variant for cell in ordered if cell.scenario.name == runs[0]]
    assert first == [cell.variant for cell in listed if cell.scenario.name == runs[0]]  # registry order


def _redis_servers() -> list[psutil.Process]:
    """Live redis-server processes (the broker designs' servers: variants/servers.py)."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if proc.info["name"] == "redis-server" or any("redis-server" in arg for arg in
                                                           (proc.info["cmdline"] or [])[:1]):
                found.append(proc)
        except psutil.Error:
            continue
    return found


@pytest.mark.timeout(120)
def test_an_interrupt_stops_a_broker_server_with_its_workers(tmp_path):
    """Ctrl-C while a worker's redis-server runs: the server dies with the run (no process outlives it)."""
    before = {proc.pid for proc in _redis_servers()}
    folder = tmp_path / "run"
    orchestrator = subprocess.Popen(
        [sys.executable, "-m", "bench", "all", "--only", "^redis_list/p1c1/", "--out", str(folder)], cwd=ROOT,
        env=bench_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, preexec_fn=default_sigint)
    try:
        limit = time.monotonic() + 60
        while not [proc for proc in _redis_servers() if proc.pid not in before]:
            assert orchestrator.poll() is None, "the run ended before its server was seen"
            assert time.monotonic() < limit, "no redis-server within 60 s"
            time.sleep(0.02)
        orchestrator.send_signal(signal.SIGINT)
        _, stderr = orchestrator.communicate(timeout=30)
        assert orchestrator.returncode == 130, stderr
    finally:
        if orchestrator.poll() is None:
            orchestrator.kill()
            orchestrator.communicate(timeout=10)
        assert_no_stray_process(str(tmp_path))
    limit = time.monotonic() + 5  # SIGKILL from the kernel as its worker died: reaped by init at once
    while [proc for proc in _redis_servers() if proc.pid not in before] and time.monotonic() < limit:
        time.sleep(0.05)
    assert [proc.pid for proc in _redis_servers() if proc.pid not in before] == []
