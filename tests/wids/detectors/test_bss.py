"""CHANCHANGE, CRYPTODROP, ADHOCCONFLICT, DOT11D, BEACONRATE, ADVCRYPTCHANGE,
BSSTIMESTAMP, PROBECHAN, AIRJACKSSID, APSPOOF, FORMATSTRING: trigger and near miss,
and the bounds of the SSID records."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scapy.packet import Packet, Raw

from kisalert.wids.detectors.bss import Bss
from kisalert.wids.engine import Engine
from kisalert.wids.state import DEFAULT_LIMIT
from tests.wids.frames import (
    AP,
    AP2,
    STA,
    beacon,
    headers,
    make_config,
    only,
    radiotap,
    replay,
    rsn,
    write_pcap,
)

BSS_HEADERS = set(Bss.headers)
ROGUE = "02:00:00:00:00:09"
APSPOOF_CORP = 'apspoof=corp-ap:ssid="^corp$",validmacs="02:00:00:00:00:01"\n'


def probe_response(**options: Any) -> Packet:
    return beacon(probe_response_to=STA, **options)


def run(tmp_path: Path, frames: Sequence[Packet], config: str = "", **options: Any) -> Any:
    """The alert records of `frames`, 2 s apart unless told (beyond any 1/sec throttle)."""
    options.setdefault("step", 2.0)
    return replay(write_pcap(tmp_path / "capture.pcap", frames, **options), config)


def the_one(records: Any, header: str, dest: str = "ff:ff:ff:ff:ff:ff") -> dict[str, Any]:
    """The one alert of `header`, checked for the usual MACs and capture channel."""
    [alert] = only(records, header)
    assert alert["kismet.alert.header"] == header
    assert alert["kismet.alert.channel"] == "6"
    assert alert["kismet.alert.source_mac"] == alert["kismet.alert.transmitter_mac"]
    assert alert["kismet.alert.dest_mac"] == dest.upper()
    assert alert["kismet.alert.other_mac"] == "00:00:00:00:00:00"
    return alert


def bss_alerts(records: Any) -> list[str]:
    return [h for h in headers(records) if h in BSS_HEADERS]


# CHANCHANGE


def test_chanchange(tmp_path: Path) -> None:
    records = run(tmp_path, [beacon(channel=6), beacon(channel=11)])
    alert = the_one(records, "CHANCHANGE")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert alert["kismet.alert.text"] == (
        f"Network 'corp' (BSSID {AP.upper()}) moved from channel 6 to channel 11"
    )
    assert bss_alerts(records) == ["CHANCHANGE"]


def test_chanchange_near_miss_same_channel(tmp_path: Path) -> None:
    assert bss_alerts(run(tmp_path, [beacon(channel=6), beacon(channel=6)])) == []


def test_chanchange_ignores_channel_zero(tmp_path: Path) -> None:
    frames = [beacon(channel=6), beacon(channel=0), beacon(channel=6)]
    assert bss_alerts(run(tmp_path, frames)) == []


def test_chanchange_is_per_ssid_record(tmp_path: Path) -> None:
    frames = [beacon(channel=6), beacon(ssid="guest", channel=11), beacon(bssid=AP2, channel=1)]
    assert bss_alerts(run(tmp_path, frames)) == []


# CRYPTODROP and ADVCRYPTCHANGE


def test_cryptodrop(tmp_path: Path) -> None:
    records = run(tmp_path, [beacon(crypt="wpa2"), beacon(crypt="open")])
    alert = the_one(records, "CRYPTODROP")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    text = alert["kismet.alert.text"]
    assert "'corp'" in text and AP.upper() in text
    assert "WPA2 CCMP PSK" in text and "no encryption" in text
    assert bss_alerts(records) == ["CRYPTODROP"]


def test_cryptodrop_near_miss_still_encrypted(tmp_path: Path) -> None:
    assert bss_alerts(run(tmp_path, [beacon(crypt="wpa2"), beacon(crypt="wpa2")])) == []


def test_advcryptchange(tmp_path: Path) -> None:
    records = run(tmp_path, [beacon(crypt="wpa2"), beacon(crypt="wep")])
    alert = the_one(records, "ADVCRYPTCHANGE")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    text = alert["kismet.alert.text"]
    assert "'corp'" in text and "from WPA2 CCMP PSK to WEP" in text
    assert bss_alerts(records) == ["ADVCRYPTCHANGE"]


def test_advcryptchange_open_to_encrypted(tmp_path: Path) -> None:
    records = run(tmp_path, [beacon(crypt="open"), beacon(crypt="wpa2")])
    assert bss_alerts(records) == ["ADVCRYPTCHANGE"]


def test_advcryptchange_near_miss_drop_to_none_is_cryptodrop(tmp_path: Path) -> None:
    records = run(tmp_path, [beacon(crypt="wep"), beacon(crypt="open")])
    assert bss_alerts(records) == ["CRYPTODROP"]


def test_probe_response_is_compared_but_beacons_stay_the_baseline(tmp_path: Path) -> None:
    # A forged open probe response between genuine WPA2 beacons: one alert, and the
    # next beacon is not a "change back".
    frames = [beacon(crypt="wpa2"), probe_response(crypt="open"), beacon(crypt="wpa2")]
    records = run(tmp_path, frames)
    the_one(records, "CRYPTODROP", dest=STA)
    assert bss_alerts(records) == ["CRYPTODROP"]


def test_probe_responses_set_the_record_until_a_beacon_is_seen(tmp_path: Path) -> None:
    frames = [probe_response(crypt="open"), probe_response(crypt="wpa2"), beacon(crypt="wpa2")]
    records = run(tmp_path, frames)
    assert bss_alerts(records) == ["ADVCRYPTCHANGE"]


def overrun(frame: Packet) -> Packet:
    """`frame` ending in an element that runs past the end of the frame."""
    return frame / Raw(b"\x30\x20\x01\x00")


def test_encryption_of_a_frame_whose_elements_overrun_is_unknown(tmp_path: Path) -> None:
    # An open-looking frame whose RSN element may have been cut off: no CRYPTODROP,
    # neither when it follows WPA2 beacons nor when it is the first of the record.
    frames = [beacon(), overrun(beacon(crypt="open")), beacon()]
    assert bss_alerts(run(tmp_path, frames)) == []
    frames = [overrun(beacon(crypt="open")), beacon(), beacon(crypt="open")]
    assert bss_alerts(run(tmp_path, frames)) == ["CRYPTODROP"]


def test_encryption_of_a_frame_cut_by_the_snap_length_is_unknown(tmp_path: Path) -> None:
    # Cut exactly before its RSN element nothing overruns, yet the element is lost:
    # without this, a WPA2 network "changed to WEP" and back (ADVCRYPTCHANGE, HIGH).
    rsn_size = len(bytes(rsn()))
    frames = [beacon(crypt="wpa2"), beacon(crypt="wpa2"), beacon(crypt="wpa2")]
    assert bss_alerts(run(tmp_path, frames, cut=[0, rsn_size, 0])) == []
    frames = [beacon(crypt="wpa2"), beacon(crypt="wpa2"), beacon(crypt="open")]
    # The first frame cut, the next whole one sets the record: a real drop is seen.
    assert bss_alerts(run(tmp_path, frames, cut=[rsn_size, 0, 0])) == ["CRYPTODROP"]


def test_protected_beacons_are_not_read(tmp_path: Path) -> None:
    forged = beacon(crypt="open", channel=11)
    forged.FCfield = "protected"
    assert bss_alerts(run(tmp_path, [beacon(), forged, beacon()])) == []


# ADHOCCONFLICT


def test_adhocconflict_from_beacons(tmp_path: Path) -> None:
    records = run(tmp_path, [beacon(), beacon(ibss=True)])
    alert = the_one(records, "ADHOCCONFLICT")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    text = alert["kismet.alert.text"]
    assert "'corp'" in text and AP.upper() in text and "ad-hoc (IBSS)" in text
    assert bss_alerts(records) == ["ADHOCCONFLICT"]


def test_adhocconflict_from_a_probe_response(tmp_path: Path) -> None:
    records = run(tmp_path, [beacon(ibss=True), probe_response()])
    alert = the_one(records, "ADHOCCONFLICT", dest=STA)
    assert "infrastructure AP by a probe response" in alert["kismet.alert.text"]


def test_adhocconflict_near_miss_other_bssid(tmp_path: Path) -> None:
    records = run(tmp_path, [beacon(), beacon(bssid=AP2, ibss=True)])
    assert bss_alerts(records) == []


# DOT11D


def test_dot11d(tmp_path: Path) -> None:
    records = run(tmp_path, [beacon(country=b"US"), beacon(country=b"JP")])
    alert = the_one(records, "DOT11D")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert "from 'US' to 'JP'" in alert["kismet.alert.text"]
    assert "'corp'" in alert["kismet.alert.text"]


def test_dot11d_near_miss_first_country(tmp_path: Path) -> None:
    # No country, then one: nothing to differ from. Dropping it again is no change.
    frames = [beacon(), beacon(country=b"JP"), beacon(), beacon(country=b"JP")]
    assert bss_alerts(run(tmp_path, frames)) == []


# BEACONRATE


def test_beaconrate(tmp_path: Path) -> None:
    records = run(tmp_path, [beacon(interval=100), beacon(interval=50)])
    alert = the_one(records, "BEACONRATE")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert "from 100 to 50" in alert["kismet.alert.text"]


def test_beaconrate_near_miss_previous_zero(tmp_path: Path) -> None:
    assert bss_alerts(run(tmp_path, [beacon(interval=0), beacon(interval=100)])) == []


# BSSTIMESTAMP

TSF_A = 500_000_000  # 500 s of uptime: one radio
TSF_B = 1_000  # the other radio, just booted


def test_bsstimestamp_two_radios_one_bssid(tmp_path: Path) -> None:
    # Seven beacons alternating between two TSFs make six jumps within six seconds.
    frames = [beacon(tsf=TSF_A if i % 2 == 0 else TSF_B) for i in range(7)]
    records = run(tmp_path, frames, step=1.0)
    alert = the_one(records, "BSSTIMESTAMP")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert AP.upper() in alert["kismet.alert.text"]
    assert bss_alerts(records) == ["BSSTIMESTAMP"]


def test_bsstimestamp_counts_jumps_per_bssid_across_ssids(tmp_path: Path) -> None:
    frames = [
        beacon(ssid="corp" if i % 2 == 0 else "corp5", tsf=TSF_A if i % 2 == 0 else TSF_B)
        for i in range(7)
    ]
    the_one(run(tmp_path, frames, step=1.0), "BSSTIMESTAMP")


def test_bsstimestamp_near_miss_five_jumps(tmp_path: Path) -> None:
    frames = [beacon(tsf=TSF_A if i % 2 == 0 else TSF_B) for i in range(6)]
    assert bss_alerts(run(tmp_path, frames, step=1.0)) == []


def test_bsstimestamp_near_miss_jumps_spread_over_more_than_a_minute(tmp_path: Path) -> None:
    frames = [beacon(tsf=TSF_A if i % 2 == 0 else TSF_B) for i in range(7)]
    assert bss_alerts(run(tmp_path, frames, step=12.5)) == []


def test_bsstimestamp_near_miss_reboot_is_one_jump(tmp_path: Path) -> None:
    tsfs = [TSF_A, TSF_A + 1_000_000] + [TSF_B + i * 1_000_000 for i in range(10)]
    assert bss_alerts(run(tmp_path, [beacon(tsf=t) for t in tsfs], step=1.0)) == []


def test_bsstimestamp_near_miss_forward_within_ten_seconds_of_packet_time(
    tmp_path: Path,
) -> None:
    # Each beacon's TSF runs 10 s ahead of the 1 s between beacons: not yet a jump.
    tsfs = [TSF_B + i * 11_000_000 for i in range(12)]
    assert bss_alerts(run(tmp_path, [beacon(tsf=t) for t in tsfs], step=1.0)) == []


def test_bsstimestamp_forward_jumps(tmp_path: Path) -> None:
    tsfs = [TSF_B + i * 11_000_001 for i in range(7)]
    the_one(run(tmp_path, [beacon(tsf=t) for t in tsfs], step=1.0), "BSSTIMESTAMP")


def test_bsstimestamp_near_miss_ad_hoc(tmp_path: Path) -> None:
    frames = [beacon(ibss=True, tsf=TSF_A if i % 2 == 0 else TSF_B) for i in range(7)]
    assert bss_alerts(run(tmp_path, frames, step=1.0)) == []


# PROBECHAN


def test_probechan(tmp_path: Path) -> None:
    records = run(tmp_path, [beacon(channel=6), probe_response(channel=11), beacon(channel=6)])
    alert = the_one(records, "PROBECHAN", dest=STA)
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    text = alert["kismet.alert.text"]
    assert "'corp'" in text and "channel 11" in text and "channel 6" in text
    assert bss_alerts(records) == ["PROBECHAN"]  # the probe response moved no baseline


def test_probechan_near_miss_same_channel(tmp_path: Path) -> None:
    assert bss_alerts(run(tmp_path, [beacon(channel=6), probe_response(channel=6)])) == []


def test_probechan_near_miss_no_beacon_yet(tmp_path: Path) -> None:
    frames = [probe_response(channel=6), probe_response(channel=11)]
    assert bss_alerts(run(tmp_path, frames)) == []


def test_hidden_network_is_two_records_and_no_alert(tmp_path: Path) -> None:
    # Empty-SSID (and zero-filled) beacons, probe responses naming the SSID.
    frames = [
        beacon(ssid=b"", channel=6, country=b"US"),
        probe_response(ssid="corp", channel=6),
        beacon(ssid=b"\x00" * 4, channel=6),
        probe_response(ssid="corp", channel=6, country=b"US"),
        beacon(ssid=b"", channel=6, country=b"US"),
    ]
    assert bss_alerts(run(tmp_path, frames)) == []


# AIRJACKSSID


def test_airjackssid(tmp_path: Path) -> None:
    records = run(tmp_path, [beacon(ssid="AirJack"), beacon(ssid="AirJack")])
    alert = the_one(records, "AIRJACKSSID")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert "'AirJack'" in alert["kismet.alert.text"]


def test_airjackssid_near_miss(tmp_path: Path) -> None:
    assert bss_alerts(run(tmp_path, [beacon(ssid="AirJack2"), beacon(ssid="airjack")])) == []


# APSPOOF


def test_apspoof(tmp_path: Path) -> None:
    records = run(tmp_path, [beacon(bssid=ROGUE), beacon(bssid=ROGUE)], APSPOOF_CORP)
    alert = the_one(records, "APSPOOF")
    assert alert["kismet.alert.transmitter_mac"] == ROGUE.upper()
    assert alert["kismet.alert.text"] == (
        f"Beacon for SSID 'corp' from {ROGUE.upper()} not in the authorised list of "
        "apspoof rule 'corp-ap'"
    )


def test_apspoof_probe_response(tmp_path: Path) -> None:
    alert = the_one(run(tmp_path, [probe_response(bssid=ROGUE)], APSPOOF_CORP), "APSPOOF", STA)
    assert alert["kismet.alert.text"].startswith("Probe response for SSID 'corp' from")


def test_apspoof_near_miss_authorised_bssid(tmp_path: Path) -> None:
    assert only(run(tmp_path, [beacon(bssid=AP)], APSPOOF_CORP), "APSPOOF") == []


def test_apspoof_near_miss_other_ssid(tmp_path: Path) -> None:
    frames = [beacon(ssid="corporate", bssid=ROGUE)]
    assert only(run(tmp_path, frames, APSPOOF_CORP), "APSPOOF") == []


def test_apspoof_searches_and_masks(tmp_path: Path) -> None:
    config = 'apspoof=corp:ssid="corp",validmacs="02:00:00:00:00:00/ff:ff:ff:00:00:00"\n'
    frames = [
        beacon(ssid="my-corp-net", bssid=ROGUE),
        beacon(ssid="xcorp", bssid="04:00:00:00:00:01"),
    ]
    [alert] = only(run(tmp_path, frames, config), "APSPOOF")
    assert alert["kismet.alert.transmitter_mac"] == "04:00:00:00:00:01"


def test_apspoof_first_matching_rule_decides(tmp_path: Path) -> None:
    config = (
        'apspoof=wide:ssid="corp",validmacs="02:00:00:00:00:09"\n'
        'apspoof=exact:ssid="^corp$",validmacs="02:00:00:00:00:01"\n'
    )
    records = run(tmp_path, [beacon(bssid=ROGUE), beacon(bssid=AP)], config)
    [alert] = only(records, "APSPOOF")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert "'wide'" in alert["kismet.alert.text"]


def test_apspoof_decodes_the_ssid_as_text(tmp_path: Path) -> None:
    config = 'apspoof=cafe:ssid="^café$",validmacs="02:00:00:00:00:01"\n'
    [alert] = only(run(tmp_path, [beacon(ssid="café", bssid=ROGUE)], config), "APSPOOF")
    assert "'café'" in alert["kismet.alert.text"]


# FORMATSTRING


def test_formatstring(tmp_path: Path) -> None:
    records = run(tmp_path, [beacon(ssid="%n%n%s"), beacon(ssid="%n%n%s")])
    alert = the_one(records, "FORMATSTRING")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert "'%n%n%s'" in alert["kismet.alert.text"]


def test_formatstring_near_miss(tmp_path: Path) -> None:
    assert only(run(tmp_path, [beacon(ssid="100% %d")]), "FORMATSTRING") == []


# Bounds


def engine_bss() -> tuple[Engine, Bss]:
    engine = Engine(make_config(), families=(Bss,))
    [family] = engine.families
    assert isinstance(family, Bss)
    return engine, family


def beacon_bytes(bssid: bytes) -> bytes:
    """The default beacon as a radiotap record, with `bssid` as source and BSSID."""
    template = bytes(radiotap(beacon()))
    return template.replace(bytes.fromhex(AP.replace(":", "")), bssid)


def test_random_bssid_flood_keeps_the_records_at_their_limit() -> None:
    engine, bss = engine_bss()
    template = beacon_bytes(b"\xaa\xbb\xcc\xdd\xee\xff")
    rng = random.Random(7)
    ts = 1_000_000_000_000
    for i in range(100_000):
        mac = rng.randbytes(6)
        engine.feed(127, ts + i * 100, template.replace(b"\xaa\xbb\xcc\xdd\xee\xff", mac))
    assert engine.counts.decoded == 100_000
    assert bss.records.limit == DEFAULT_LIMIT // 2
    assert len(bss.records) == DEFAULT_LIMIT // 2
    assert len(bss.clocks) <= DEFAULT_LIMIT // 2
    assert engine.take_hits() == []


def test_idle_records_expire() -> None:
    engine, bss = engine_bss()
    ap, ap2 = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
    start = 1_000_000_000_000
    engine.feed(127, start, beacon_bytes(ap))
    engine.feed(127, start + 1_800_000_000, beacon_bytes(ap2))
    assert len(bss.records) == 2 and len(bss.clocks) == 2
    engine.feed(127, start + 3_601_000_000, beacon_bytes(ap2))
    assert list(key for key, _ in bss.records.items()) == [ap2 + b"corp"]
    assert list(bss.clocks.keys()) == [ap2]
