"""What every detector family shares: the hit it reports and the interface it implements.

A family is a handful of related detectors that share their parsing and state (all
of a BSS's records, all EAPOL checks). It names the alerts it raises, the frame
kinds it wants and, optionally, the decoder tags a frame must carry; the engine
hands it only such frames. A family never throttles: it reports hits, and the
tracker decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from kisalert.config import Config
from kisalert.wids.dot11.frame import Frame, mac_text


@dataclass(frozen=True, slots=True)
class Hit:
    """A detector's finding: an alert to raise, stamped with the packet time."""

    header: str
    text: str
    transmitter: str
    source: str
    dest: str
    other: str
    channel: str
    frequency: float  # kHz
    ts_us: int


Report = Callable[[Hit], None]
ZERO = b"\x00" * 6


class Family:
    headers: ClassVar[tuple[str, ...]] = ()  # the alerts this family raises
    # An instance may narrow these (a family with nothing to watch sets kinds to 0).
    kinds: int = 0  # frame kinds (frame.py) it looks at
    tags: int = 0  # if set, only frames carrying one of these tags

    def __init__(self, config: Config, report: Report, enabled: frozenset[str]) -> None:
        self.config = config
        self._report = report
        self.enabled = enabled  # the headers of this family whose alerts are not disabled

    def frame(self, frame: Frame, now_us: int) -> None:
        """Look at one frame of the family's kinds (and tags); `now_us` is packet time."""
        raise NotImplementedError

    def tick(self, now_us: int) -> None:
        """Called about once a second of packet time: expire state, check timers."""

    def alert(
        self,
        header: str,
        text: str,
        frame: Frame,
        now_us: int,
        transmitter: bytes | None = None,
        source: bytes | None = None,
        dest: bytes | None = None,
        other: bytes = ZERO,
    ) -> None:
        """Report `header` for `frame`; MACs default to (BSSID, source, destination, 0)."""
        if header not in self.enabled:
            return
        self._report(
            Hit(
                header,
                text,
                mac_text(frame.transmitter if transmitter is None else transmitter),
                mac_text(frame.source if source is None else source),
                mac_text(frame.dest if dest is None else dest),
                mac_text(other),
                frame.channel,
                frame.freq * 1000.0,
                now_us,
            )
        )


def _escaped(ch: str) -> str:
    code = ord(ch)
    if code < 0x80:  # \x80 and up stand for bytes that are not UTF-8
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def ssid_text(ssid: bytes | None) -> str:
    """Bytes a frame carries (an SSID, a DHCP host name) as alert text shows them:
    UTF-8 where it decodes, `\\xNN` for bytes that do not, control and other
    unprintable characters as `\\xNN` (ASCII), `\\uNNNN` or `\\UNNNNNNNN`, and a backslash as
    `\\\\`, so that no name can pass for another's escaped bytes."""
    if ssid is None:
        return ""
    # A backslash byte is never part of a multi-byte UTF-8 character.
    text = ssid.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escaped(ch) for ch in text)
