"""The one exception the CLI turns into a one-line `error: ...` and exit status 2."""

__all__ = ["UsageError"]


class UsageError(Exception):
    """Bad input from the user: flags, specs, profiles, result folders."""
