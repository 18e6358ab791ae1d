"""Regular expressions from untrusted sources (clients, config files), in the RE2 dialect.

RE2 runs in linear time, so no pattern can stall the server.
"""

from __future__ import annotations

from typing import Protocol

import re2

_MAX_MEM = 8 << 20


class Pattern(Protocol):
    def search(self, text: str) -> object | None: ...


class PatternError(ValueError):
    """A pattern RE2 cannot compile; str() says why."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a client's typo must not write to the server's stderr
    options.max_mem = _MAX_MEM
    return options


_OPTIONS = _options()


def compile_pattern(text: str) -> Pattern:
    try:
        return re2.compile(text, options=_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode(errors="replace")
        raise PatternError(str(reason)) from None
