"""The result store: one folder per run, every file written atomically (temp file + rename).

A run folder holds run.json (format below), suite.json (pyperf's format, merged from parts/), metrics.jsonl
(the sidecar lines of every benchmark), pyperf.log (everything pyperf printed) and parts/ (one pyperf file
and one metrics file per finished benchmark; `bench all --resume` skips the benchmarks found there).

run.json format versions: 1 = this layout.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runs.errors import UsageError

__all__ = ["RUN_FORMAT", "TIME_PER_ITEM", "LATENCY",
           "atomic_path", "write_atomic", "write_json", "read_run", "part_stem", "merge_parts"]

RUN_FORMAT = 1
# what a benchmark's pyperf values are (its prodcon_value metadata; absent in older runs: time per item)
TIME_PER_ITEM, LATENCY = "time per item", "latency"


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A free temporary name beside path for a writer to write to; once the block ends well, that file
    replaces path (mode 0644, for reading), so a reader sees the old file or the new one, never half of one.
    If the block fails, the temporary file is removed and path is left as it was.

    The name is handed over with no file behind it: some writers (pyperf) refuse to replace a file.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.unlink(tmp)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_atomic(path: Path, text: str) -> None:
    """Write text to path so that a reader sees the old file or the new one, never half of one."""
    with atomic_path(path) as tmp, open(tmp, "x", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


def write_json(path: Path, data: dict) -> None:
    """Write data as indented JSON with sorted keys, atomically."""
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_run(folder: Path) -> dict:
    """Read a run folder's run.json; UsageError saying what is wrong with it."""
    path = Path(folder) / "run.json"
    if not Path(folder).is_dir():
        raise UsageError(f"{folder}: not a folder")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{folder}: no run.json: not a run folder of `bench all`") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: unreadable: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise UsageError(f"{path}: unknown format {found!r} (this version reads {RUN_FORMAT})")
    if not isinstance(data.get("profile"), str) or not isinstance(data.get("cells"), dict):
        raise UsageError(f"{path}: not a run.json of `bench all`: no profile or no cells")
    return data


def part_stem(benchmark: str) -> str:
    """A file name stem for a benchmark name (slashes and odd characters made safe)."""
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", benchmark.replace("/", "__"))


def merge_parts(folder: Path, benchmarks: list[str]) -> int:
    """Merge the finished parts of `benchmarks` (in that order) into suite.json and metrics.jsonl.

    Returns how many benchmarks the suite holds. Parts that are missing are left out.
    """
    import pyperf  # the orchestrator only: workers never merge

    folder = Path(folder)
    parts = folder / "parts"
    loaded, metrics = [], []
    for name in benchmarks:
        stem = part_stem(name)
        if (parts / f"{stem}.json").exists():
            loaded.append(pyperf.Benchmark.load(str(parts / f"{stem}.json")))
            metrics_file = parts / f"{stem}.metrics.jsonl"
            if metrics_file.exists():
                metrics.append(metrics_file.read_text(encoding="utf-8"))
    write_atomic(folder / "metrics.jsonl", "".join(metrics))
    if loaded:
        suite = pyperf.BenchmarkSuite(loaded)
        with atomic_path(folder / "suite.json") as tmp:
            suite.dump(str(tmp))
    return len(loaded)
