"""`--broker URL`: run the broker designs against a server you provide instead of one the suite starts.

The URL goes to every process of the run, workers included, through PRODCON_BROKER (variants/servers.py
reads it; pyperf is told to pass it on). Nothing is started for that kind of server; each run keeps to keys
or subjects with a run-unique prefix and removes only those.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from bench.flags import take_flag
from runs.errors import UsageError
from variants.servers import BROKER_ENV, KINDS

__all__ = ["take_broker_flags", "use_brokers", "BROKER_ENV"]


def take_broker_flags(argv: list[str]) -> tuple[list[str], list[str]]:
    """(URLs given as `--broker URL` or `--broker=URL`, argv without them)."""
    return take_flag(argv, "--broker", "a URL, e.g. --broker redis://10.0.0.5:6379")


def use_brokers(urls: list[str]) -> None:
    """Check each URL (scheme://HOST:PORT of a known kind, one per kind) and hand them to every process."""
    kinds = {}
    for url in urls:
        parts = urlsplit(url)
        kind = next((kind.name for kind in KINDS.values() if parts.scheme in kind.schemes), None)
        if kind is None:
            raise UsageError(f"--broker {url}: expected {' or '.join(f'{k}://HOST:PORT' for k in KINDS)}")
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme != "unix" and (not parts.hostname or port is None):
            raise UsageError(f"--broker {url}: give the host and the port, e.g. {kind}://10.0.0.5:"
                             f"{6379 if kind == 'redis' else 4222}")
        if kind in kinds:
            raise UsageError(f"--broker {url}: a {kind} server is given twice ({kinds[kind]})")
        kinds[kind] = url
    os.environ[BROKER_ENV] = ",".join(kinds.values())
