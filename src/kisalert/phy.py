"""Radio layers ("phys") an alert definition can be tied to."""

from __future__ import annotations

PHY_ANY = -1
PHY_UNKNOWN = -2

PHY_NAMES: tuple[str, ...] = (
    "IEEE802.11",
    "RFSENSOR",
    "Z-Wave",
    "Bluetooth",
    "UAV",
    "NrfMousejack",
    "BTLE",
    "METER",
    "ADSB",
    "802.15.4",
    "RADIATION",
)

_BY_NAME = {name: index for index, name in enumerate(PHY_NAMES)}


def phy_by_name(name: str) -> int | None:
    """The id of a phy name (exact match), PHY_ANY for "" or "any", None if unknown."""
    if name in ("", "any"):
        return PHY_ANY
    return _BY_NAME.get(name)


def phy_u32(phy: int) -> int:
    """The phy as an alert record carries it: an unsigned 32-bit number."""
    return phy & 0xFFFFFFFF


def phy_from_u32(phy_u32: int) -> int:
    """The signed phy id of an alert record's unsigned one."""
    return phy_u32 - (1 << 32) if phy_u32 >= 1 << 31 else phy_u32


def phy_log_name(phy: int) -> str:
    """The phy's name as the `.kismet` log's `phyname` column writes it."""
    if phy == PHY_ANY:
        return "ANY"
    if 0 <= phy < len(PHY_NAMES):
        return PHY_NAMES[phy]
    return "UNKNOWN"
