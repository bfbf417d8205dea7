"""The harness and its commands, the top layer (docs/code.md says what is where).

bench/commands/ holds one module per command; only they import `analysis`. The rest: the worker path
(pyperf_run, rounds, once, depth, latency, verify), the matrix runner (orchestrate, scenario_run,
children, profiles), the regression gate (bench/gate/) and fidelity and sharing. Imports `variants` and
`runs`, never pandas or matplotlib outside the commands (a pyperf worker imports this package).
"""
