"""A config check names the MAC it could not read, whatever is wrong with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kisalert.config import ConfigError, load


@pytest.mark.parametrize(
    "mac",
    [
        "0011223344GG",  # twelve characters, not all hex
        "00:11",  # too few groups
        "/FF:FF:FF:00:00:00",  # a mask with no MAC before it
    ],
)
def test_a_bad_mac_in_validmacs_is_named_in_the_reason(tmp_path: Path, mac: str) -> None:
    path = tmp_path / "kismet.conf"
    path.write_text(f'apspoof=Corp:ssid="^corp$",validmacs="00:11:22:33:44:55,{mac}"\n')
    with pytest.raises(ConfigError) as info:
        load([path])
    assert str(info.value) == f"{path}:1: bad MAC in validmacs: {mac}"
