"""Analysis of result folders: pyperf JSON and metrics into tidy frames, charts and REPORT.md.

pandas, scipy and matplotlib live here and nowhere in the worker path: `bench` imports this package only
inside the commands that report (`bench report`, `bench compare`, the end of `bench all`).
"""

from analysis.compare import compare_runs
from analysis.report import build_report

__all__ = ["build_report", "compare_runs"]
