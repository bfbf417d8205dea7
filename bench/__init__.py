"""The harness: CLI, scenario flags, the watchdog and verifier, the pyperf runner and the orchestrator.

Imports `variants`, never pandas or matplotlib (a pyperf worker imports this package).
"""
