"""MAC addresses: parsing what clients and config files send, formatting the output form."""

from __future__ import annotations

import re
from dataclasses import dataclass

ZERO_MAC = "00:00:00:00:00:00"
_HEX = frozenset("0123456789abcdefABCDEF")
# Most clients already send the output form; one C match takes it as it is.
_OUTPUT_FORM = re.compile(r"[0-9A-F]{2}(?::[0-9A-F]{2}){5}")


class MacError(ValueError):
    """Text that is not a MAC address."""


def parse_mac(text: str) -> str:
    """Normalise a client-supplied MAC to `AA:BB:CC:DD:EE:FF`; `""` means unset.

    Accepts six groups of one or two hex digits separated by `:` or `-`, or twelve
    hex digits, in any case, with surrounding whitespace.
    """
    if _OUTPUT_FORM.fullmatch(text):
        return text
    text = text.strip()
    if not text:
        return ZERO_MAC
    if ":" not in text and "-" not in text:
        if len(text) != 12 or not _HEX.issuperset(text):
            raise MacError(text)
        groups = [text[i : i + 2] for i in range(0, 12, 2)]
    else:
        sep = ":" if ":" in text else "-"
        groups = text.split(sep)
        if len(groups) != 6 or any(
            not 1 <= len(group) <= 2 or not _HEX.issuperset(group) for group in groups
        ):
            raise MacError(text)
    return ":".join(group.upper().rjust(2, "0") for group in groups)


def mac_to_int(mac: str) -> int:
    return int(mac.replace(":", ""), 16)


@dataclass(frozen=True, slots=True)
class MacMask:
    """A config-file MAC with an optional mask: `00:11:22:00:00:00/FF:FF:FF:00:00:00`."""

    value: int
    mask: int

    @classmethod
    def parse(cls, text: str) -> MacMask:
        mac, _, mask = text.strip().partition("/")
        if not mac.strip():
            raise MacError(text)
        mask_int = mac_to_int(parse_mac(mask)) if mask.strip() else 0xFFFFFFFFFFFF
        return cls(mac_to_int(parse_mac(mac)) & mask_int, mask_int)

    def matches(self, mac: str) -> bool:
        return mac_to_int(mac) & self.mask == self.value
