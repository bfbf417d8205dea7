"""The regression gate, `bench check` and `bench baseline`: did a change make a design slower?

  check.py    `bench check --base REF`: both sides measured in one job, round by round
  sides.py    the two sides: worktrees, refs, what each side's `bench run` understands, its commands
  rounds.py   the rounds: worker processes of both sides back to back, a row and verdict per benchmark
  stored.py   `bench check --baseline` and `bench baseline save`: two stored runs compared over processes
  stats.py    the statistics: intervals (sign test, Mann-Whitney), the verdict rule, the exit status
  table.py    the report as text, markdown or JSON
  options.py  the command's flags, checked, and its defaults
  inject.py   `--inject-slowdown`: a known slowdown, for proving the gate (pyperf workers import it)

Nothing is imported here: a pyperf worker imports inject.py through this package and pays for no more.
"""
