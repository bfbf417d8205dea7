"""The layers point down: variants (the designs), runs (the run folder), analysis, bench (the commands).

Every import of every module is read with `ast`, at module level and inside functions alike (an import
placed in a function still runs, only later). What runs in the workers is checked by importing it, in
tests/test_analysis.py (the worker path loads none of pandas, matplotlib, scipy, analysis).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.cli_helpers import ROOT

LAYERS = ("variants", "runs", "analysis", "bench")  # bottom to top
COMMAND_LAYER = "bench/commands/"  # within bench, the only modules that may import analysis


def _imports(path: Path) -> set[str]:
    """The top-level package of every absolute import in the file, wherever in the file it stands."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (absolute imports only)"
            found.add(node.module.split(".")[0])
    return found


def _modules(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_one_above_it(layer):
    above = set(LAYERS[LAYERS.index(layer) + 1:])
    wrong = {str(path.relative_to(ROOT)): sorted(_imports(path) & above) for path in _modules(layer)}
    assert {name: found for name, found in wrong.items() if found} == {}


def test_within_bench_only_the_command_layer_imports_analysis():
    importers = {str(path.relative_to(ROOT)) for path in _modules("bench") if "analysis" in _imports(path)}
    assert importers and all(name.startswith(COMMAND_LAYER) for name in importers), importers


def test_runs_imports_no_design():
    assert {str(path.relative_to(ROOT)) for path in _modules("runs") if "variants" in _imports(path)} == set()


def test_every_layer_is_a_package_the_project_installs():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert all(f'"{layer}"' in text.split("packages = ")[1].splitlines()[0] for layer in LAYERS)
