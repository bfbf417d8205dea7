"""`python -m bench report`: build RUN_DIR's frame, charts and REPORT.md; print REPORT.md's path."""

from __future__ import annotations

import argparse

__all__ = ["main"]


def main(args: argparse.Namespace) -> int:
    """Build RUN_DIR's frame, charts and REPORT.md; print REPORT.md's path."""
    from analysis import build_report  # pandas and matplotlib: this command only, never in a worker

    print(build_report(args.run_dir))
    return 0
