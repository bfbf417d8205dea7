"""The run folder, shared by the runner (bench) and the reader (analysis): its files written atomically and
read back (store), latency histograms encoded and merged (histograms), figures as text (fmt), and the one
error the CLI reports in a line (errors).

Below analysis and bench, above variants: it imports neither of the first two. Only the standard library
at import time; hdrhistogram in histograms, pyperf inside the functions that need it.
"""
