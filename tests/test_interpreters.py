"""`--python PATH` (bench/interpreters.py): the workers run under another interpreter.

The interpreter here is a second virtual environment of the one running the tests (cheap, always
available): it sees this environment's packages through a .pth file, and one design library (janus) is
masked in it, so that design must be n/a there, not a failure. Checked:

- `bench all --python VENV`: paired and lone cells run their workers there (pyperf's `python_executable`
  in the metadata), named `.../py-TAG`, with `prodcon_python`; the masked library's design is n/a with the
  reason; run.json records the interpreter;
- `bench run --once --python VENV` runs there; a worker told another tag refuses;
- an interpreter that does not exist, a non-Python, the same interpreter twice, --python where it does not
  apply: one line, exit 2;
- a design whose import turns the GIL back on under a free-threaded build is n/a there (the GIL faked);
- every dependency in pyproject.toml is a worker's or the analysis's (WORKER_PACKAGES drifts otherwise).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pyperf
import pytest

from bench import interpreters
from tests.cli_helpers import bench

ROOT = Path(__file__).resolve().parents[1]
TAG = interpreters.here_tag()


@pytest.fixture(scope="module")
def second_venv(tmp_path_factory) -> Path:
    """A venv of this interpreter that imports this environment's packages, janus masked."""
    folder = tmp_path_factory.mktemp("venv2")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=60)
    python = folder / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    ours = sysconfig.get_path("purelib")
    (site / "tests-main-env.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    (site / "janus.py").write_text("raise ImportError('janus is masked in this environment')\n")
    return python


@pytest.mark.timeout(120)
def test_bench_all_runs_workers_under_the_interpreter_given(second_venv, tmp_path):
    out = tmp_path / "run"
    only = r"^(queue|generator)/p1c1/cap16/flat/none/|^lock_list/p1c1/capinf/flat/none/|^janus/p1c1/cap16/"
    proc = bench("all", "--profile", "quick", "--only", only, "--python", str(second_venv), "--out", str(out),
                 timeout=110)
    assert proc.returncode == 0, proc.stderr
    assert f"workers run {second_venv}" in proc.stdout
    state = json.loads((out / "run.json").read_text())
    assert [(p["tag"], p["executable"], p["environment"]) for p in state["pythons"]] == [
        (TAG, str(second_venv), None)]
    own = state["pythons"][0]["spin_rate"]  # measured there: the same interpreter as the orchestrator's
    assert 0.5 < own / state["spin_rate"] < 2, (own, state["spin_rate"])
    janus = state["cells"][f"janus/p1c1/cap16/flat/none/py-{TAG}"]
    assert janus["status"] == "n/a" and "janus is masked" in janus["reason"], janus
    suite = pyperf.BenchmarkSuite.load(str(out / "suite.json"))
    found = {}
    for benchmark in suite.get_benchmarks():
        for run in benchmark.get_runs():
            found.setdefault(benchmark.get_name(), set()).add(
                (run.get_metadata()["python_executable"], run.get_metadata()["prodcon_python"]))
    suffix = f"/py-{TAG}"
    assert found == {name + suffix: {(str(second_venv), TAG)} for name in (
        "queue/p1c1/cap16/flat/none", "generator/p1c1/cap16/flat/none", "lock_list/p1c1/capinf/flat/none")}
    assert state["cells"]["lock_list/p1c1/capinf/flat/none" + suffix]["alone"]  # pyperf's own workers
    assert state["cells"]["queue/p1c1/cap16/flat/none" + suffix]["paired_with"] == "generator,queue"


@pytest.mark.timeout(60)
def test_bench_run_once_runs_there_and_a_worker_checks_its_tag(second_venv):
    proc = bench("run", "queue", "--once", "--json", "--items", "1000", "--python", str(second_venv))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    assert (report["benchmark"], report["python"]) == (f"queue/p1c1/capinf/flat/none/py-{TAG}", TAG)
    proc = bench("rounds", "queue", "--python-tag", "3.99.0t", "--items", "100")
    assert (proc.returncode, proc.stderr) == (
        2, f"error: --python-tag 3.99.0t: this worker's interpreter is {TAG} ({sys.executable})\n")


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "queue", "--once", "--python", "/nonexistent/python"],
     "error: --python /nonexistent/python: no such executable\n"),
    (["run", "queue", "--once", "--python", "/bin/true"],
     "error: --python /bin/true: not a Python interpreter this suite can use\n"),
    (["run", "queue", "--once", "--python"],
     "error: --python needs an interpreter's path, e.g. --python /usr/bin/python3.13\n"),
    (["list", "--python", sys.executable],
     "error: --python applies to bench all, bench run and bench check\n"),
])
def test_bad_interpreters_are_one_line(argv, message):
    proc = bench(*argv)
    assert (proc.returncode, proc.stderr, proc.stdout) == (2, message, "")


@pytest.mark.timeout(60)
def test_the_same_interpreter_twice_is_refused(second_venv):
    proc = bench("run", "queue", "--once", "--python", str(second_venv), "--python", sys.executable)
    assert proc.returncode == 2
    assert re.fullmatch(rf"error: --python \S+ and --python \S+ are both {re.escape(TAG)}; give each "
                        r"interpreter once\n", proc.stderr), proc.stderr


def test_a_design_that_turns_the_gil_on_is_na_on_a_free_threaded_build(monkeypatch):
    """Faked: this interpreter plays a free-threaded build whose GIL comes on when greenlet is imported."""
    state = {"gil": False}
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: state["gil"], raising=False)
    import bench.designs

    real = bench.designs.get_design

    def get_design(name):
        if name == "greenlet":
            state["gil"] = True
        return real(name)

    monkeypatch.setattr(bench.designs, "get_design", get_design)
    assert interpreters._reasons_here("ci", ["queue", "greenlet"], []) == {"gil_turned_on_by": "greenlet"}
    state["gil"] = False
    answer = interpreters._reasons_here("ci", ["queue", "greenlet"], ["greenlet"])
    assert answer["cells"]["greenlet/p1c1/cap16/flat/none"] == "skipped"
    assert answer["cells"]["queue/p1c1/cap16/flat/none"] is None
    assert interpreters.gil_turned_on("3.13.5t") is False
    state["gil"] = True
    assert interpreters.gil_turned_on("3.13.5t") is True and interpreters.gil_turned_on("3.11.7") is False


def test_a_library_imported_on_first_use_is_caught_too(monkeypatch):
    """faster_fifo imports its library in `unsupported`, not at import: the probe asks that too (its
    extension turned the GIL on under 3.13.5t, and the rounds it shared failed)."""
    import variants.faster_fifo

    state = {"gil": False}
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: state["gil"], raising=False)
    monkeypatch.setattr(variants.faster_fifo, "_library", lambda: state.update(gil=True) or ImportError("x"))
    assert interpreters._reasons_here("quick", ["queue", "faster_fifo"], []) == {
        "gil_turned_on_by": "faster_fifo"}


def test_every_dependency_is_a_workers_or_the_analysiss():
    with open(ROOT / "pyproject.toml", "rb") as file:
        wanted = tomllib.load(file)["project"]["dependencies"]
    names = {re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower() for requirement in wanted}
    # psutil: pyperf reads the machine's metadata with it when a worker has it (the tests' extra here)
    assert names | {"psutil"} == set(interpreters.WORKER_PACKAGES) | set(interpreters.ANALYSIS_PACKAGES)
