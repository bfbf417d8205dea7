"""`python -m bench list`: print the designs (name, model, seeds, summary), or with --profile that profile's
cells.
"""

from __future__ import annotations

import argparse

from bench.designs import all_designs

__all__ = ["main"]


def main(args: argparse.Namespace) -> int:
    """Print the designs (name, model, seeds, summary), or with --profile that profile's cells."""
    if args.profile:
        return _list_profile(args.profile)
    designs = all_designs()
    width = max(map(len, designs))
    print(f"{'name':<{width}}  {'model':<9}  {'seeds':<8}  summary")
    for name, design in designs.items():
        print(f"{name:<{width}}  {design.MODEL:<9}  {design.SEED:<8}  {design.SUMMARY}")
    return 0


def _list_profile(name: str) -> int:
    from bench.profiles import cells, get_profile

    profile = get_profile(name)
    listed = cells(profile)
    runnable = [cell for cell in listed if not cell.unsupported]
    width = max(len(cell.name) for cell in listed)
    for cell in listed:
        note = f"n/a: {cell.unsupported}" if cell.unsupported else f"{cell.scenario.items} items"
        print(f"{cell.name:<{width}}  {note}")
    minutes = len(runnable) * profile.seconds_per_cell / 60
    print(f"profile {profile.name}: {len(runnable)} benchmarks, {len(listed) - len(runnable)} n/a; "
          f"pyperf {' '.join(profile.pyperf_flags())}; about {minutes:.1f} min on 2 cores")
    return 0
