"""Phys as clients name them and as the `.kismet` log's `phyname` column writes them."""

from __future__ import annotations

import pytest

from kisalert.alert import Alert, AlertDraft
from kisalert.alertlog.rows import alert_row
from kisalert.phy import PHY_ANY, PHY_UNKNOWN, phy_by_name

PHYNAME_COLUMN = 2


@pytest.mark.parametrize(
    ("phyname", "phy"),
    [("", PHY_ANY), ("any", PHY_ANY), ("IEEE802.11", 0), ("Bluetooth", 3), ("RADIATION", 10)],
)
def test_a_defines_phyname_is_any_or_a_phys_id(phyname: str, phy: int) -> None:
    assert phy_by_name(phyname) == phy


@pytest.mark.parametrize("phyname", ["bluetooth", "IEEE802.11 ", "WiFi"])
def test_a_phyname_that_names_no_phy_is_none(phyname: str) -> None:
    assert phy_by_name(phyname) is None


@pytest.mark.parametrize(
    ("phy", "column"),
    [
        (PHY_ANY, "ANY"),
        (0, "IEEE802.11"),
        (3, "Bluetooth"),
        (10, "RADIATION"),
        (11, "UNKNOWN"),
        (PHY_UNKNOWN, "UNKNOWN"),
    ],
)
def test_the_log_names_an_alerts_phy_as_kismet_does(phy: int, column: str) -> None:
    draft = AlertDraft("PHYTEST", "OTHER", 10, phy, "text")
    alert = Alert.from_draft(draft, 1_764_420_000_000_000, 1)
    assert alert_row(alert)[PHYNAME_COLUMN] == column
