"""Look up designs by name: the registry, plus extra design modules named in an environment variable.

PRODCON_EXTRA_DESIGNS (comma-separated module names) adds design modules to every process of a run, workers
included, without touching the registry: a user's own design (`--design MODULE`, docs/your-design.md), or
the tests' broken fixture designs. The variable and PYTHONPATH are what every worker inherits (pyperf
passes both on), so `add_designs` sets them both.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from types import ModuleType

import variants
from bench.flags import take_flag
from runs.errors import UsageError

__all__ = ["EXTRA_DESIGNS_ENV", "add_designs", "all_designs", "get_design", "take_design_flags"]

EXTRA_DESIGNS_ENV = "PRODCON_EXTRA_DESIGNS"


def take_design_flags(argv: list[str]) -> tuple[list[str], list[str]]:
    """(module names given as `--design MODULE` or `--design=MODULE`, argv without them)."""
    return take_flag(argv, "--design", "a module name, e.g. --design my_design")


def add_designs(module_names: list[str]) -> None:
    """Add design modules (import names) to this process and to every process it starts.

    Each must import here and hold a design (a NAME not already taken); its folder on the import path goes
    to PYTHONPATH, so that workers started from the project's folder find it too. UsageError otherwise.
    """
    for module_name in module_names:
        try:
            spec = importlib.util.find_spec(module_name)
        except (ImportError, ValueError) as exc:
            raise UsageError(f"--design {module_name}: cannot import it: {exc}") from None
        if spec is None or spec.origin is None:
            raise UsageError(f"--design {module_name}: no such module on the import path (run from its "
                             "folder, or put the folder on PYTHONPATH)")
        depth = module_name.count(".") + (2 if spec.submodule_search_locations else 1)
        root = str(Path(spec.origin).resolve().parents[depth - 1])
        paths = [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
        if root not in paths:
            os.environ["PYTHONPATH"] = os.pathsep.join([root, *paths])
        names = [name for name in os.environ.get(EXTRA_DESIGNS_ENV, "").split(",") if name]
        os.environ[EXTRA_DESIGNS_ENV] = ",".join([*names, module_name])
        module = importlib.import_module(module_name)
        if getattr(module, "NAME", None) in variants.MODULES:
            raise UsageError(f"--design {module_name}: NAME {module.NAME!r} is a design of the suite "
                             "already; give yours a name of its own")
    _extra_designs()  # each one is a design module, or one line says why


def all_designs() -> dict[str, ModuleType]:
    """Every known design by NAME: the registry's, then the extra modules'."""
    return {**variants.REGISTRY, **_extra_designs()}


def get_design(name: str) -> ModuleType:
    """The design called `name`, importing no other registered design; UsageError listing the known names."""
    extras = _extra_designs()
    if name in extras:
        return extras[name]
    if name in variants.MODULES:
        return variants.load(name)
    raise UsageError(f"unknown design {name!r}; known: {', '.join([*variants.MODULES, *extras])}")


def _extra_designs() -> dict[str, ModuleType]:
    """The design modules named in PRODCON_EXTRA_DESIGNS, by NAME."""
    designs = {}
    names = [name.strip() for name in os.environ.get(EXTRA_DESIGNS_ENV, "").split(",")]
    for module_name in filter(None, names):
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise UsageError(f"{EXTRA_DESIGNS_ENV}: cannot import {module_name!r}: {exc}") from None
        if not isinstance(getattr(module, "NAME", None), str):
            raise UsageError(f"{EXTRA_DESIGNS_ENV}: {module_name!r} is not a design module (no NAME)")
        designs[module.NAME] = module
    return designs
