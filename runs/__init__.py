"""The run folder, shared by the runner (bench) and the reader (analysis): its files written atomically and
read back (store), latency histograms encoded and merged (histograms), intervals over worker processes
(stats), figures as text (fmt), and the one error the CLI reports in a line (errors).

Below analysis and bench, above variants: it imports none of the three. Only the standard library at
import time; hdrhistogram in histograms, pyperf, numpy and scipy inside the functions that need them.
"""
