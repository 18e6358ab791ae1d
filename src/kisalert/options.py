"""Options as Kismet's config lines write them after a `NAME:` or `VALUE:`:
`a=1,b="x,y",c` (a quoted value may hold commas), shared by `source=` and
`forward=` lines."""

from __future__ import annotations


class OptionError(ValueError):
    """str() is the reason, without the line it came from."""


def option_pairs(text: str, noun: str = "option") -> list[tuple[str, str | None]]:
    """The `key=value` pairs of `text` in order, keys lower-cased; None for an entry
    without `=`. Raises OptionError for an unterminated quote or text after one."""
    pairs: list[tuple[str, str | None]] = []
    pos, size = 0, len(text)
    while pos < size:
        comma = text.find(",", pos)
        end = size if comma < 0 else comma
        eq = text.find("=", pos, end)
        if eq < 0:
            pairs.append((text[pos:end].strip().lower(), None))
            pos = end + 1
            continue
        key = text[pos:eq].strip().lower()
        start = eq + 1
        while start < size and text[start] == " ":
            start += 1
        if text.startswith('"', start):
            close = text.find('"', start + 1)
            if close < 0:
                raise OptionError(f"unterminated quote in {noun} {key!r}")
            value = text[start + 1 : close]
            after = text.find(",", close)
            end = size if after < 0 else after
            if text[close + 1 : end].strip():
                raise OptionError(f"expected ',' after {noun} {key!r}")
        else:
            value = text[start:end].strip()
        pairs.append((key, value))
        pos = end + 1
    return pairs
