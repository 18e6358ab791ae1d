"""Domain errors: what can go wrong with a request, independent of how it arrived."""

from __future__ import annotations

from kisalert.severity import SEVERITY_NAMES


class AlertError(Exception):
    """A request the alert domain refuses; str() is the one-line reason."""


class InvalidRequest(AlertError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Invalid request: {reason}")


_SEVERITIES = ", ".join(f"{value} {name}" for value, name in SEVERITY_NAMES.items())
# The list as a user reads it: "... 15 HIGH or 20 CRITICAL".
SEVERITY_CHOICES = " or ".join(_SEVERITIES.rsplit(", ", 1))


class UnknownSeverity(InvalidRequest):
    def __init__(self, shown: str) -> None:
        super().__init__(f"unknown severity {shown} (severity is a number: {SEVERITY_CHOICES})")


class UnknownAlert(AlertError):
    def __init__(self, escaped_name: str) -> None:
        # Two spaces, exactly as Kismet writes it.
        super().__init__(f"Invalid request:  Unknown alert type '{escaped_name}'")


class Throttled(AlertError):
    def __init__(self) -> None:
        super().__init__("Invalid request: alert throttle reached, alert not raised.")


class Disabled(Throttled):
    """A raise of an alert whose rate or burst is 0. A Throttled, as it is to clients
    (429: not raised) and to callers that let a throttled alert go."""

    def __init__(self, name: str, part: str, example: str) -> None:
        AlertError.__init__(
            self,
            f"Invalid request: alert {name} is disabled (its {part} is 0); give it a rate "
            f"with a config line such as alert={name},{example} and restart",
        )


class AlreadyDefined(AlertError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Could not define alert: {name} already exists")


class Unavailable(AlertError):
    """The server cannot accept the alert now (the log writer is full)."""
