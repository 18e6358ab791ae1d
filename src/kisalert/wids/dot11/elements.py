"""Information elements of management frames, walked once per frame.

The walk fills the frame's advertised values (SSID, channel, country, encryption,
RSN capabilities) and tags every anomaly a detector looks for (anomalies.py), so
no detector walks the elements again.
"""

from __future__ import annotations

import struct

from kisalert.wids.dot11 import anomalies as A
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame

_u16 = struct.Struct("<H").unpack_from

SSID = 0
RATES = 1
DS_PARAMS = 3
COUNTRY = 7
NEIGHBOR_REPORT = 52
RSN = 48
EXT_RATES = 50
EXT_CAPABILITIES = 127
VENDOR = 221

MAX_SSID = 32
MAX_EXT_CAPABILITIES = 13
MAX_WMM = 24  # the body of a WMM parameter element; an information element is shorter
MAX_TSPEC = 4
MAX_PAIRWISE = 1024
MAX_P2P_NOA = 28
MAX_NEIGHBOR_CHANNEL = 224

# Elements whose length the standard fixes.
FIXED_LENGTH = {
    3: 1,  # DS parameter set
    4: 6,  # CF parameter set
    6: 2,  # IBSS parameter set
    32: 1,  # power constraint
    33: 2,  # power capability
    35: 2,  # TPC report
    37: 3,  # channel switch announcement
    42: 1,  # ERP information
    45: 26,  # HT capabilities
    54: 3,  # mobility domain
    61: 22,  # HT operation
    62: 1,  # secondary channel offset
    191: 12,  # VHT capabilities
    192: 5,  # VHT operation
    199: 1,  # operating mode notification
}

_OUI_MS = b"\x00\x50\xf2"
_OUI_WFA = b"\x50\x6f\x9a"
_OUI_IEEE = b"\x00\x0f\xac"
_WPA = 1
_WMM = 2
_WMM_TSPEC = 2
_P2P = 9
_P2P_NOA = 12

# Cipher and AKM suite types (00:0F:AC and, for WPA, 00:50:F2) -> crypt bits.
_CIPHERS = {
    1: F.CRYPT_WEP_CIPHER,
    2: F.CRYPT_TKIP,
    4: F.CRYPT_CCMP,
    5: F.CRYPT_WEP_CIPHER,
    8: F.CRYPT_GCMP,
    9: F.CRYPT_GCMP,
    10: F.CRYPT_CCMP,
}
_AKMS = {
    1: F.CRYPT_8021X,
    2: F.CRYPT_PSK,
    3: F.CRYPT_8021X,
    4: F.CRYPT_PSK,
    5: F.CRYPT_8021X,
    6: F.CRYPT_PSK,
    8: F.CRYPT_SAE,
    9: F.CRYPT_SAE,
    11: F.CRYPT_8021X,
    12: F.CRYPT_8021X,
    18: F.CRYPT_OWE,
    24: F.CRYPT_SAE,
    25: F.CRYPT_SAE,
}

_FORMATS = (b"%s", b"%n", b"%p", b"%@")
_DLINK = b"\x75\xeb\x49"  # the Metasploit D-Link rates payload


def _suites(buf: bytes, pos: int, end: int, oui: bytes, table: dict[int, int]) -> tuple[int, int]:
    """A suite count and list: (crypt bits, position after it); -1 when it overruns."""
    if pos + 2 > end:
        return 0, -1
    count = _u16(buf, pos)[0]
    pos += 2
    stop = pos + 4 * count
    if stop > end:
        return 0, -1
    bits = 0
    while pos < stop:
        if buf[pos : pos + 3] == oui:
            bits |= table.get(buf[pos + 3], F.CRYPT_OTHER_AKM if table is _AKMS else 0)
        pos += 4
    return bits, stop


def _rsn(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """An RSN element's body: (crypt bits, RSN capabilities or -1, RSN_LOOP or 0)."""
    bits = F.CRYPT_RSN
    if end - pos < 8:
        return bits, -1, 0
    pos += 6  # version, group cipher
    if _u16(buf, pos)[0] > MAX_PAIRWISE:
        return bits, -1, A.RSN_LOOP
    ciphers, pos = _suites(buf, pos, end, _OUI_IEEE, _CIPHERS)
    if pos < 0:
        return bits, -1, A.RSN_LOOP
    bits |= ciphers
    if pos >= end:
        return bits, -1, 0
    akms, pos = _suites(buf, pos, end, _OUI_IEEE, _AKMS)
    if pos < 0:
        return bits, -1, 0
    return bits | akms, _u16(buf, pos)[0] if pos + 2 <= end else -1, 0


# An AP repeats its RSN element in every beacon: parse each distinct one once.
_rsn_seen: dict[bytes, tuple[int, int, int]] = {}
_RSN_SEEN_MAX = 1024


def _rsn_cached(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    key = buf[pos:end]
    parsed = _rsn_seen.get(key)
    if parsed is None:
        parsed = _rsn(buf, pos, end)
        if len(_rsn_seen) >= _RSN_SEEN_MAX:
            _rsn_seen.clear()  # a flood of distinct elements costs a bounded table
        _rsn_seen[key] = parsed
    return parsed


def _vendor(frame: Frame, buf: bytes, pos: int, end: int, tspecs: int) -> int:
    """Look into a vendor element's body; returns the running count of WMM TSPECs."""
    if end - pos < 4:
        return tspecs
    oui = buf[pos : pos + 3]
    kind = buf[pos + 3]
    if oui == _OUI_MS:
        if kind == _WPA:
            frame.crypt |= F.CRYPT_WPA
            # version (2), multicast cipher (4), then the unicast and AKM suites
            ciphers, after = _suites(buf, pos + 10, end, _OUI_MS, _CIPHERS)
            if after > 0:
                akms, _ = _suites(buf, after, end, _OUI_MS, _AKMS)
                frame.crypt |= ciphers | akms
        elif kind == _WMM and end - pos >= 5:
            subtype = buf[pos + 4]
            if subtype == _WMM_TSPEC:
                tspecs += 1
                if tspecs > MAX_TSPEC:
                    frame.tags |= A.WMM_TSPEC_MANY
            elif subtype <= 1 and end - pos > MAX_WMM:
                frame.tags |= A.WMM_OVERFLOW
    elif oui == _OUI_WFA and kind == _P2P:
        pos += 4
        while pos + 3 <= end:
            attr = buf[pos]
            length = _u16(buf, pos + 1)[0]
            if attr == _P2P_NOA and length > MAX_P2P_NOA:
                frame.tags |= A.P2P_NOA_LONG
                break
            pos += 3 + length
    return tspecs


# Element ID -> what the walk does with it; IDs absent here are only stepped over.
_DO_SSID = 1
_DO_RATES = 2
_DO_DS = 3
_DO_RSN = 4
_DO_COUNTRY = 5
_DO_EXTCAP = 6
_DO_NEIGHBOR = 7
_DO_VENDOR = 8
_FIXED_BASE = 256  # _FIXED_BASE + n: an element whose length must be n
_ROLE: dict[int, int] = {
    **{eid: _FIXED_BASE + length for eid, length in FIXED_LENGTH.items()},
    SSID: _DO_SSID,
    RATES: _DO_RATES,
    EXT_RATES: _DO_RATES,
    DS_PARAMS: _DO_DS,
    RSN: _DO_RSN,
    COUNTRY: _DO_COUNTRY,
    EXT_CAPABILITIES: _DO_EXTCAP,
    NEIGHBOR_REPORT: _DO_NEIGHBOR,
    VENDOR: _DO_VENDOR,
}


def walk(frame: Frame, buf: bytes, pos: int, end: int) -> None:
    """Walk the elements in `buf[pos:end]`, filling `frame` and its tags."""
    tags = 0
    tspecs = 0
    role_of = _ROLE.get
    while pos + 2 <= end:
        eid = buf[pos]
        length = buf[pos + 1]
        body = pos + 2
        pos = body + length
        if pos > end:
            tags |= A.OVERRUN
            break
        role = role_of(eid)
        if role is None:
            continue
        if role == _DO_VENDOR:
            tspecs = _vendor(frame, buf, body, pos, tspecs)
        elif role >= _FIXED_BASE:
            if length != role - _FIXED_BASE:
                tags |= A.BAD_FIXED_LEN
        elif role == _DO_SSID:
            if length > MAX_SSID:
                tags |= A.LONG_SSID  # in any SSID element, not only the first
            if frame.ssid is None:
                ssid = buf[body:pos]
                frame.ssid = ssid
                if length == 0:
                    tags |= A.EMPTY_SSID
                if b"%" in ssid and any(f in ssid for f in _FORMATS):
                    tags |= A.FORMAT_SSID
        elif role == _DO_RATES:
            if buf.find(_DLINK, body, pos) >= 0:  # searched in place: no slice
                tags |= A.DLINK_RATES
        elif role == _DO_DS:
            if length != 1:
                tags |= A.BAD_FIXED_LEN
            if length:
                frame.ds_channel = buf[body]
        elif role == _DO_RSN:
            crypt, caps, loop = _rsn_cached(buf, body, pos)
            frame.crypt |= crypt
            if caps >= 0:
                frame.rsn_caps = caps
            tags |= loop
        elif role == _DO_COUNTRY:
            if length >= 2:
                frame.country = buf[body : body + 2]
        elif role == _DO_EXTCAP:
            if length > MAX_EXT_CAPABILITIES:
                tags |= A.EXTCAP_LONG
        # A neighbor report: BSSID (6), BSSID information (4), operating class, channel.
        elif role == _DO_NEIGHBOR and length >= 12 and buf[body + 11] > MAX_NEIGHBOR_CHANNEL:
            tags |= A.NEIGHBOR_CHANNEL
    if pos < end and pos + 2 > end:
        tags |= A.OVERRUN  # one byte left where an element header should start
    frame.tags |= tags
