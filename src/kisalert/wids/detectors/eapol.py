"""WPA handshakes and WPS: attacks and exploits in EAPOL frames.

WPSBRUTE, NONCEDEGRADE, NONCEREUSE, RTL8195VD1406, VDOO202027301, VDOO202027302.
EAPOL frames are rare (a handful per association), so parsing each into a small
record costs nothing worth saving.
"""

from __future__ import annotations

from collections import deque

from kisalert.config import Config
from kisalert.wids import state
from kisalert.wids.detectors.base import Family, Report
from kisalert.wids.dot11 import eapol as E
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame, mac_text
from kisalert.wids.dot11.header import FLAG_FROM_DS, FLAG_RETRY
from kisalert.wids.state import Table
from kisalert.wids.window import Burst

WPS_M3_LIMIT = 5  # more than this many M3 messages ...
WPS_WINDOW_US = 300 * 1_000_000  # ... from one source within five minutes

NONCE_HISTORY = 16  # (nonce, replay counter) pairs kept per station
NONCE_STATIONS = 4096  # stations whose history is kept; 16 nonces each
ZERO_NONCE = b"\x00" * 32

RTL_DOT1X_LIMIT = 512
VDOO_RC4_LIMIT = 257
VDOO_AES_LIMIT = 128
KEY_VERSIONS_AES = (2, 3)  # HMAC-SHA1/AES (2), AES-CMAC/AES (3)


class _Nonces:
    """A station's recent handshake nonces, each with its replay counter."""

    __slots__ = ("history", "seen_us")

    def __init__(self) -> None:
        self.history: deque[tuple[bytes, int]] = deque(maxlen=NONCE_HISTORY)
        self.seen_us = 0


class Eapol(Family):
    headers = (
        "WPSBRUTE",
        "NONCEDEGRADE",
        "NONCEREUSE",
        "RTL8195VD1406",
        "VDOO202027301",
        "VDOO202027302",
    )
    kinds = F.EAPOL

    def __init__(self, config: Config, report: Report, enabled: frozenset[str]) -> None:
        super().__init__(config, report, enabled)
        # Once a source is silent for the whole window, its old M3 times can no
        # longer count, so its counter may go.
        self._wps: Table[bytes, Burst] = Table(state.DEFAULT_LIMIT // 4, WPS_WINDOW_US)
        self._nonces: Table[bytes, _Nonces] = Table(limit=NONCE_STATIONS)

    def frame(self, frame: Frame, now_us: int) -> None:
        buf = frame.data
        pos = frame.eapol
        end = frame.end
        head = E.header(buf, pos, end)
        if head is None:
            return
        if head[0] == E.EAP_PACKET:
            if "WPSBRUTE" in self.enabled:
                self._wps_m3(frame, now_us)
            return
        if head[0] != E.EAPOL_KEY:
            return
        # Judged on the declared length, so a truncated exploit frame counts too.
        if head[1] > RTL_DOT1X_LIMIT:
            self.alert(
                "RTL8195VD1406",
                f"EAPOL-Key frame from {mac_text(frame.source)} to {mac_text(frame.dest)} "
                f"declares an 802.1X length of {head[1]} bytes (over {RTL_DOT1X_LIMIT}), "
                "an exploit of Realtek RTL8195 (VD-1406) key parsing",
                frame,
                now_us,
            )
        key = E.key(buf, pos, end)
        if key is None:
            return
        if frame.flags & FLAG_FROM_DS:
            self._from_ap(frame, now_us, key)
        if "NONCEREUSE" in self.enabled and not frame.flags & FLAG_RETRY:
            self._nonce_reuse(frame, now_us, key)

    def _wps_m3(self, frame: Frame, now_us: int) -> None:
        if frame.flags & FLAG_RETRY:
            return  # a retransmission on a weak link is the same message again
        if E.wsc_message_type(frame.data, frame.eapol, frame.end) != E.WSC_M3:
            return
        source = frame.source
        burst = self._wps.setdefault(source, now_us, lambda: Burst(WPS_M3_LIMIT, WPS_WINDOW_US))
        if burst.hit(now_us):
            self.alert(
                "WPSBRUTE",
                f"More than {WPS_M3_LIMIT} WPS M3 messages from {mac_text(source)} "
                f"on BSSID {mac_text(frame.bssid)} within five minutes: "
                "a WPS PIN brute-force attack",
                frame,
                now_us,
            )

    def _from_ap(self, frame: Frame, now_us: int, key: E.EapolKey) -> None:
        data_length = key.key_data_length
        if (
            not key.info & E.KEY_PAIRWISE
            and key.has(E.KEY_MIC)
            and not key.info & (E.KEY_ACK | E.KEY_INSTALL)
            and data_length == 0
            and key.nonce == ZERO_NONCE
            and frame.addr2 == frame.bssid
        ):
            self.alert(
                "NONCEDEGRADE",
                f"AP {mac_text(frame.bssid)} sent {mac_text(frame.dest)} an EAPOL-Key "
                "group message with an all-zero nonce and no key data: a nonce "
                "degradation attack on the handshake",
                frame,
                now_us,
            )
        if not key.has(E.KEY_INSTALL | E.KEY_ACK):
            return
        version = key.version
        if version == E.KEY_VERSION_RC4:
            header, kind, limit = "VDOO202027301", "RC4/HMAC-MD5", VDOO_RC4_LIMIT
        elif version in KEY_VERSIONS_AES:
            header, kind, limit = "VDOO202027302", "AES", VDOO_AES_LIMIT
        else:
            return
        if data_length > limit:
            self.alert(
                header,
                f"EAPOL-Key message with install and ACK from {mac_text(frame.bssid)} to "
                f"{mac_text(frame.dest)} carries {data_length} bytes of {kind} key data "
                f"(over {limit}), an exploit of Realtek Ameba key parsing "
                f"(CVE-{header[4:8]}-{header[8:]})",
                frame,
                now_us,
            )

    def _nonce_reuse(self, frame: Frame, now_us: int, key: E.EapolKey) -> None:
        nonce = key.nonce
        if nonce == ZERO_NONCE:
            return  # message 4 and group messages carry no nonce
        # The station is the side that is not the AP, whichever way the frame goes.
        station = frame.dest if frame.addr2 == frame.bssid else frame.source
        record = self._nonces.setdefault(station, now_us, _Nonces)
        replay = key.replay
        latest = -1  # the largest replay counter this nonce came with before
        for seen, seen_replay in record.history:
            if seen == nonce and seen_replay > latest:
                latest = seen_replay
        if replay <= latest:
            self.alert(
                "NONCEREUSE",
                f"EAPOL handshake nonce from {mac_text(frame.source)} to "
                f"{mac_text(frame.dest)} repeated with replay counter {replay} "
                f"(previously {latest}): a key reinstallation (KRACK) attack or "
                "a replayed handshake",
                frame,
                now_us,
            )
        record.history.append((nonce, replay))

    def tick(self, now_us: int) -> None:
        self._wps.expire(now_us)
        self._nonces.expire(now_us)
