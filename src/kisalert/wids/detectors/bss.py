"""What networks advertise, record by record (BSSID, SSID), and how it changes.

CHANCHANGE, CRYPTODROP, ADHOCCONFLICT, DOT11D, BEACONRATE, ADVCRYPTCHANGE,
BSSTIMESTAMP, PROBECHAN, AIRJACKSSID, APSPOOF, FORMATSTRING.

An SSID record is created by the first beacon or probe response of a (BSSID, SSID)
pair; the new-record detectors (AIRJACKSSID, APSPOOF, FORMATSTRING) run only then.
A hidden network's empty-SSID beacons and its probe responses naming the SSID are two
records, so the difference between them is never taken for a change.

Beacons are a record's baseline: each one is compared with the record and updates
it. A probe response is compared too, but updates the record only while no beacon
has been seen for it (the probe responses are all there is then): once beacons set
the baseline, one forged probe response raises one alert, not a second one when the
next genuine beacon "changes it back".
"""

from __future__ import annotations

import weakref

from kisalert.config import Config, SsidRule
from kisalert.wids import state
from kisalert.wids.detectors.base import Family, Report, ssid_text
from kisalert.wids.dot11 import anomalies as A
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame, crypt_text, mac_text
from kisalert.wids.dot11.header import FLAG_PROTECTED
from kisalert.wids.state import DEFAULT_IDLE_US, Table
from kisalert.wids.window import Burst

ESS = 0x1  # capability: an infrastructure AP
IBSS = 0x2  # capability: an ad-hoc station
AIRJACK = b"AirJack"
TSF_SLACK_US = 10 * 1_000_000  # a TSF running this much ahead of packet time is a jump
TSF_JUMPS = 5  # more than this many jumps ...
TSF_WINDOW_US = 60 * 1_000_000  # ... within a minute of packet time
RECORD_IDLE_US = DEFAULT_IDLE_US


class Clock:
    """A BSSID's beacon timestamps: the latest TSF, when it came, and the recent jumps."""

    __slots__ = ("__weakref__", "at_us", "jumps", "tsf")

    def __init__(self, tsf: int, at_us: int) -> None:
        self.tsf = tsf
        self.at_us = at_us
        self.jumps: Burst | None = None  # made at the first jump: most BSSIDs never jump


class Record:
    """One (BSSID, SSID) as advertised; 0 or b"" (crypt: -1) where nothing is known yet."""

    __slots__ = ("beaconed", "channel", "clock", "country", "crypt", "interval", "mode", "seen_us")

    def __init__(self, frame: Frame, beacon: bool) -> None:
        self.seen_us = 0
        self.beaconed = beacon
        # The channel its beacons advertise, which probe responses are held against.
        self.channel = frame.ds_channel if beacon else 0
        # An RSN or WPA element lost past an overrun or a snap length's cut would read
        # as no encryption: the encryption of such a frame is unknown (-1), and the
        # next whole frame sets it.
        self.crypt = -1 if frame.tags & A.INCOMPLETE else frame.crypt
        self.country = frame.country
        self.interval = frame.beacon_interval
        mode = frame.capability & (ESS | IBSS)
        self.mode = mode if mode in (ESS, IBSS) else 0
        self.clock: Clock | None = None  # shared by the records of one BSSID


def mac_int(mac: bytes) -> int:
    return int.from_bytes(mac, "big")


def authorised(rule: SsidRule, bssid: int) -> bool:
    """`MacMask.matches` on the integer form, without formatting the MAC as text."""
    return any(bssid & mask.mask == mask.value for mask in rule.valid_macs)


class Bss(Family):
    headers = (
        "CHANCHANGE",
        "CRYPTODROP",
        "ADHOCCONFLICT",
        "DOT11D",
        "BEACONRATE",
        "ADVCRYPTCHANGE",
        "BSSTIMESTAMP",
        "PROBECHAN",
        "AIRJACKSSID",
        "APSPOOF",
        "FORMATSTRING",
    )
    kinds = F.BEACON | F.PROBE_RESP

    def __init__(self, config: Config, report: Report, enabled: frozenset[str]) -> None:
        super().__init__(config, report, enabled)
        # Keyed by BSSID + SSID: a BSSID is always 6 bytes, so the key is unambiguous.
        # Half the default: 32 768 networks heard within the idle hour is more than a
        # stationary sensor meets, and a flood of spoofed beacons stays under 100 MB.
        self.records: Table[bytes, Record] = Table(state.DEFAULT_LIMIT // 2, RECORD_IDLE_US)
        # A BSSID's clock lives exactly as long as one of its records refers to it, so
        # it is bounded by the records, and a beacon reaches it through its record: a
        # known network's beacon costs one table lookup, not two.
        self.clocks: weakref.WeakValueDictionary[bytes, Clock] = weakref.WeakValueDictionary()
        self._apspoof = tuple(config.apspoof)

    def frame(self, frame: Frame, now_us: int) -> None:
        if frame.flags & FLAG_PROTECTED or frame.tags & A.SHORT_BODY:
            return  # the fixed fields were never read: nothing here is advertised
        ssid = frame.ssid or b""
        bssid = frame.bssid
        beacon = frame.kind == F.BEACON
        key = bssid + ssid
        record = self.records.get(key, now_us)
        if record is None:
            record = Record(frame, beacon)
            record.seen_us = now_us
            self.records.add(key, record)
            self._new_record(frame, ssid, now_us)
        else:
            update = beacon or not record.beaconed
            if frame.crypt != record.crypt and not frame.tags & A.INCOMPLETE:
                self._crypt(frame, record, ssid, now_us, update)
            country = frame.country
            if country and country != record.country:
                if record.country:
                    self._country(frame, record, ssid, now_us)
                if update:
                    record.country = country
            interval = frame.beacon_interval
            if interval != record.interval:
                if record.interval:
                    self._interval(frame, record, ssid, now_us)
                if update:
                    record.interval = interval
            mode = frame.capability & (ESS | IBSS)
            if mode != record.mode and mode in (ESS, IBSS):
                if record.mode:
                    self._adhoc(frame, ssid, mode, now_us)
                if update:
                    record.mode = mode
            channel = frame.ds_channel
            if channel and channel != record.channel:  # channel 0: none advertised
                if record.channel:
                    self._channel(frame, record, ssid, now_us, beacon)
                if beacon:
                    record.channel = channel
            if beacon:
                record.beaconed = True
        if not beacon or frame.capability & IBSS:
            # Ad-hoc stations adopt each other's faster TSF by design: not a jump.
            return
        tsf = frame.tsf
        clock = record.clock
        if clock is None:
            clock = self.clocks.get(bssid)
            if clock is None:
                record.clock = self.clocks[bssid] = Clock(tsf, now_us)
                return
            record.clock = clock
        last = clock.tsf
        if not last <= tsf <= last + (now_us - clock.at_us) + TSF_SLACK_US:
            self._jump(frame, clock, ssid, last, now_us)
        clock.tsf = tsf
        clock.at_us = now_us

    def tick(self, now_us: int) -> None:
        self.records.expire(now_us)

    def _jump(self, frame: Frame, clock: Clock, ssid: bytes, last: int, now_us: int) -> None:
        """A TSF that went backwards, or ran ahead of packet time: count it."""
        jumps = clock.jumps
        if jumps is None:
            jumps = clock.jumps = Burst(TSF_JUMPS, TSF_WINDOW_US)
        if jumps.hit(now_us):
            self.alert(
                "BSSTIMESTAMP",
                f"Beacon timestamps of BSSID {mac_text(frame.bssid)} (network "
                f"'{ssid_text(ssid)}') jumped more than {TSF_JUMPS} times within a minute, "
                f"the latest from {last} to {frame.tsf} us: two radios may be sharing this "
                "BSSID",
                frame,
                now_us,
            )

    def _new_record(self, frame: Frame, ssid: bytes, now_us: int) -> None:
        bssid = frame.bssid
        if ssid == AIRJACK:
            self.alert(
                "AIRJACKSSID",
                f"{_kind(frame)} for SSID 'AirJack' from BSSID {mac_text(bssid)}: the "
                "default SSID of the AirJack attack tool",
                frame,
                now_us,
            )
        if frame.tags & A.FORMAT_SSID:
            self.alert(
                "FORMATSTRING",
                f"{_kind(frame)} for SSID '{ssid_text(ssid)}' from BSSID {mac_text(bssid)} "
                "carries a printf format sequence, an exploit attempt on software that "
                "logs SSIDs",
                frame,
                now_us,
            )
        if self._apspoof:
            text = ssid.decode("utf-8", "replace")
            for rule in self._apspoof:
                if rule.ssid.search(text):
                    if not authorised(rule, mac_int(bssid)):
                        self.alert(
                            "APSPOOF",
                            f"{_kind(frame)} for SSID '{ssid_text(ssid)}' from "
                            f"{mac_text(bssid)} not in the authorised list of apspoof rule "
                            f"'{rule.name}'",
                            frame,
                            now_us,
                        )
                    break  # the first matching rule decides

    def _crypt(self, frame: Frame, record: Record, ssid: bytes, now_us: int, update: bool) -> None:
        before = record.crypt
        after = frame.crypt
        if update:
            record.crypt = after
        if before < 0:
            return
        network = _network(frame, ssid)
        if before and not after:
            self.alert(
                "CRYPTODROP",
                f"{network} advertised {crypt_text(before)} and now advertises no "
                f"encryption, in a {_kind(frame).lower()} from {mac_text(frame.source)}",
                frame,
                now_us,
            )
        else:
            self.alert(
                "ADVCRYPTCHANGE",
                f"{network} changed its advertised encryption from {crypt_text(before)} to "
                f"{crypt_text(after)}, in a {_kind(frame).lower()} from "
                f"{mac_text(frame.source)}",
                frame,
                now_us,
            )

    def _country(self, frame: Frame, record: Record, ssid: bytes, now_us: int) -> None:
        self.alert(
            "DOT11D",
            f"{_network(frame, ssid)} changed its 802.11d country from "
            f"'{ssid_text(record.country)}' to '{ssid_text(frame.country)}', in a "
            f"{_kind(frame).lower()} from {mac_text(frame.source)}",
            frame,
            now_us,
        )

    def _interval(self, frame: Frame, record: Record, ssid: bytes, now_us: int) -> None:
        self.alert(
            "BEACONRATE",
            f"{_network(frame, ssid)} changed its beacon interval from {record.interval} to "
            f"{frame.beacon_interval} TU, in a {_kind(frame).lower()} from "
            f"{mac_text(frame.source)}",
            frame,
            now_us,
        )

    def _adhoc(self, frame: Frame, ssid: bytes, mode: int, now_us: int) -> None:
        adhoc, infrastructure = "ad-hoc (IBSS)", "an infrastructure AP"
        now, was = (adhoc, infrastructure) if mode == IBSS else (infrastructure, adhoc)
        self.alert(
            "ADHOCCONFLICT",
            f"{_network(frame, ssid)} is advertised as {now} by a {_kind(frame).lower()} "
            f"from {mac_text(frame.source)}, having been advertised as {was}",
            frame,
            now_us,
        )

    def _channel(
        self, frame: Frame, record: Record, ssid: bytes, now_us: int, beacon: bool
    ) -> None:
        if beacon:
            self.alert(
                "CHANCHANGE",
                f"{_network(frame, ssid)} moved from channel {record.channel} to channel "
                f"{frame.ds_channel}",
                frame,
                now_us,
            )
        else:
            self.alert(
                "PROBECHAN",
                f"Probe response from {mac_text(frame.source)} to {mac_text(frame.dest)} "
                f"for {_network(frame, ssid)} advertises channel {frame.ds_channel}, its "
                f"beacons channel {record.channel}",
                frame,
                now_us,
            )


def _kind(frame: Frame) -> str:
    return "Beacon" if frame.kind == F.BEACON else "Probe response"


def _network(frame: Frame, ssid: bytes) -> str:
    return f"Network '{ssid_text(ssid)}' (BSSID {mac_text(frame.bssid)})"
