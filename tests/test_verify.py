"""`python -m bench verify MODULE` and `--design MODULE`: a user's own design, checked and measured.

The worked example (examples/ring_buffer.py) must pass every check; three broken copies of it must fail
the check that names their fault (tests/fixtures/ring_*.py).
"""

from __future__ import annotations

import json
import sys

import pytest

from tests.cli_helpers import ROOT, bench_env, run_bounded

pytestmark = pytest.mark.timeout(120)
EXAMPLES = ROOT / "examples"


def verify(module: str, cwd=ROOT, *more: str):
    """`python -m bench verify MODULE` in `cwd`: (exit status, stdout lines, stderr)."""
    done = run_bounded([sys.executable, "-m", "bench", "verify", module, *more], 100, cwd=cwd,
                       env=bench_env(), text=True)
    return done.returncode, done.stdout.splitlines(), done.stderr


def test_the_worked_example_passes_every_check():
    code, lines, err = verify("ring_buffer", EXAMPLES)
    assert code == 0, "\n".join(lines) + err
    checks = [line.split(":")[0].split(None, 1) for line in lines]
    names = ("contract", "random scenarios", "stop protocols", "timed region", "producer failure",
             "consumer failure", "capacity bound", "nothing left running")
    assert checks == [["ok", name] for name in names]
    assert "10 of 16 verified" in lines[1]  # unbounded scenarios refused, with the reason
    assert err.splitlines()[-1] == "ring_buffer: every check passed"


@pytest.mark.parametrize("module, check, why", [
    ("ring_drops", "random scenarios", "failed: lost 1 items"),
    ("ring_overfills", "capacity bound", "the buffer held 5 items at capacity 4"),
    ("ring_leaves_thread", "nothing left running",
     "workers still running when run() returned: ring housekeeping"),
])
def test_a_broken_copy_fails_the_check_that_names_its_fault(module, check, why):
    code, lines, err = verify(f"tests.fixtures.{module}")  # in a child: a thread left there dies with it
    failed = [line for line in lines if line.startswith("FAIL")]
    assert code == 1, "\n".join(lines) + err
    assert len(failed) == 1 and failed[0].startswith(f"FAIL  {check}: ") and why in failed[0], lines
    assert err.splitlines()[-1] == f"tests.fixtures.{module}: 1 check(s) failed"


@pytest.mark.parametrize("args, message", [
    (["verify", "nope"], "error: cannot import 'nope': No module named 'nope' (run from its folder, or put "
                         "the folder on PYTHONPATH)"),
    (["verify", "ring_buffer", "--seed", "x"], "error: --seed must be a whole number, got 'x'"),
    (["run", "queue", "--once", "--design", "nope"], "error: --design nope: no such module on the import "
                                                     "path (run from its folder, or put the folder on "
                                                     "PYTHONPATH)"),
    (["run", "queue", "--once", "--design"], "error: --design needs a module name, e.g. --design my_design"),
    (["list", "--design", "variants.queue"], "error: --design variants.queue: NAME 'queue' is a design of "
                                             "the suite already; give yours a name of its own"),
    (["list", "--design", "json"], "error: PRODCON_EXTRA_DESIGNS: 'json' is not a design module (no NAME)"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    done = run_bounded([sys.executable, "-m", "bench", *args], 60, cwd=EXAMPLES, env=bench_env(), text=True)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", message + "\n")


def test_your_design_runs_in_every_worker_of_a_run(tmp_path):
    """From the example's folder, `bench all --design` measures it: pyperf's and the rounds' workers import
    it from PYTHONPATH, though they start in the project's folder."""
    out = tmp_path / "run"
    done = run_bounded([sys.executable, "-m", "bench", "all", "--profile", "smoke", "--only",
                        "^(ring|queue)/", "--design", "ring_buffer", "--out", str(out)], 110, cwd=EXAMPLES,
                       env=bench_env(), text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    cells = json.loads((out / "run.json").read_text())["cells"]
    ring = {name: cell["status"] for name, cell in cells.items() if name.startswith("ring/")}
    assert ring and "ok" in ring.values() and set(ring.values()) <= {"ok", "n/a"}, ring
    assert {cell["status"] for name, cell in cells.items() if name.startswith("ring/p1c1/capinf")} == {"n/a"}
    suite = json.loads((out / "suite.json").read_text())
    assert any(b["metadata"]["name"].startswith("ring/") for b in suite["benchmarks"])
