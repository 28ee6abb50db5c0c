"""Progress reporting from inside a backend function (placeholder; filled by the runtime work)."""

from __future__ import annotations


class ProgressReporter:
    """Annotate a parameter with this type to receive a reporter that sends progress messages."""
