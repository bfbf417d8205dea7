"""Analysis of result folders: pyperf JSON and metrics into tidy frames, charts and REPORT.md.

pandas, scipy and matplotlib live here and nowhere in the worker path: `bench` imports this package only
in its command modules that report (bench/commands/: report, compare, and all at its end). It imports
`runs` and `variants`, never `bench` (tests/test_layers.py).
"""

from analysis.compare import compare_runs
from analysis.report import build_report

__all__ = ["build_report", "compare_runs"]
