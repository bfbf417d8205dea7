"""Look up designs by name: the registry, plus extra design modules named in an environment variable.

PRODCON_EXTRA_DESIGNS (comma-separated module names) lets the tests add broken fixture designs to every
process of a run, workers included, without touching the registry.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import variants
from runs.errors import UsageError

__all__ = ["EXTRA_DESIGNS_ENV", "all_designs", "get_design"]

EXTRA_DESIGNS_ENV = "PRODCON_EXTRA_DESIGNS"


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
    raise UsageError(f"unknown design {name!r}; known: {', '.join({**variants.MODULES, **extras})}")


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
