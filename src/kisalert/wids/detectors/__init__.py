"""Every detector, by alert name: the one table of the WIDS engine.

Families are listed here and nowhere else; nothing registers itself on import.
"""

from __future__ import annotations

from kisalert.wids.detectors.base import Family
from kisalert.wids.detectors.bss import Bss
from kisalert.wids.detectors.canary import Canary
from kisalert.wids.detectors.clients import Clients
from kisalert.wids.detectors.denial import Denial
from kisalert.wids.detectors.devices import Devices
from kisalert.wids.detectors.dhcp import Dhcp
from kisalert.wids.detectors.eapol import Eapol
from kisalert.wids.detectors.elements import Elements
from kisalert.wids.detectors.oui import Oui
from kisalert.wids.detectors.signal import Signal

FAMILIES: tuple[type[Family], ...] = (
    Devices,
    Denial,
    Elements,
    Oui,
    Bss,
    Canary,
    Clients,
    Signal,
    Eapol,
    Dhcp,
)

# Alert name -> the family that raises it.
DETECTORS: dict[str, type[Family]] = {
    header: family for family in FAMILIES for header in family.headers
}
