"""Analysis of result folders: pyperf JSON and metrics into tidy frames, charts and REPORT.md."""
