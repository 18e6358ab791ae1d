"""Regular expressions from untrusted sources (clients, config files), in the RE2 dialect.

RE2 matches in time linear in the text, but parsing and compiling a pattern hold
the interpreter (the GIL) and cost in proportion to what the pattern expands to:
`\\pL{400}`, nine characters, compiles for half a second into a program of 480 000
instructions, and `re2` keeps its last 128 compiled patterns. Patterns from clients
are therefore compiled through `compile_bounded`, within a budget of instructions.
"""

from __future__ import annotations

from typing import Protocol

import re2

_MAX_MEM = 8 << 20
# RE2 gives the forward program 2/3 of max_mem and lets it take a quarter of that in
# 8-byte instructions: max_mem / 48 instructions; the reverse program gets half that.
_BYTES_PER_INSTRUCTION = 48
# Below this the DFA has too little room and matching falls back to the slow NFA.
_MIN_BOUNDED_MEM = 64 << 10


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


def _compile(text: str, options: re2.Options) -> re2._Regexp[str]:
    try:
        return re2.compile(text, options=options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode(errors="replace")
        raise PatternError(str(reason)) from None


def compile_pattern(text: str) -> Pattern:
    return _compile(text, _OPTIONS)


def compile_bounded(text: str, instructions: int) -> tuple[Pattern, int]:
    """`text` compiled if its forward and reverse programs together come to about
    `instructions` RE2 instructions or fewer, and how many they took.

    RE2 stops compiling a program that outgrows its memory, so a first compile with
    just that much memory bounds the time spent (parsing aside: the caller bounds
    that by length). Raises PatternError, `pattern too large`, for one over it.
    """
    options = _options()
    options.max_mem = max(instructions * _BYTES_PER_INSTRUCTION, _MIN_BOUNDED_MEM)
    probe = _compile(text, options)
    reverse = probe.reverseprogramsize  # compiled now; -1 when it does not fit
    if reverse < 0:
        raise PatternError("pattern too large - reverse compile failed")
    # It fits: compiled again with the usual memory, which is mostly room for the
    # DFA's cache. With the probe's, `.{500}x` took 400 ms over 16 KiB of text
    # rather than 20 ms.
    return _compile(text, _OPTIONS), probe.programsize + reverse
