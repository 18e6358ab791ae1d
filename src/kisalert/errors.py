"""Domain errors: what can go wrong with a request, independent of how it arrived."""

from __future__ import annotations


class AlertError(Exception):
    """A request the alert domain refuses; str() is the one-line reason."""


class InvalidRequest(AlertError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Invalid request: {reason}")


class UnknownAlert(AlertError):
    def __init__(self, escaped_name: str) -> None:
        # Two spaces, exactly as Kismet writes it.
        super().__init__(f"Invalid request:  Unknown alert type '{escaped_name}'")


class Throttled(AlertError):
    def __init__(self) -> None:
        super().__init__("Invalid request: alert throttle reached, alert not raised.")


class AlreadyDefined(AlertError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Could not define alert: {name} already exists")


class Unavailable(AlertError):
    """The server cannot accept the alert now (the log writer is full)."""
