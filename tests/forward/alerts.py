"""Alert records for the forwarding unit tests."""

from __future__ import annotations

from kisalert.alert import Alert, AlertDraft
from kisalert.mac import ZERO_MAC

START_US = 1_764_420_000_000_000


def make_alert(
    n: int = 0,
    header: str = "ROGUEAP",
    severity: int = 15,
    klass: str = "SPOOF",
    phy: int = 0,
    text: str = "corp from 00:11:22:33:44:55",
    channel: str = "",
    transmitter: str = ZERO_MAC,
    source: str = ZERO_MAC,
) -> Alert:
    """The `n`th alert of a test, stamped `n` ms after START_US, with id 1000 + n."""
    draft = AlertDraft(header, klass, severity, phy, text, transmitter, source, channel=channel)
    return Alert.from_draft(draft, START_US + n * 1000, 1000 + n)
