"""The decoded frame: one record, refilled for every frame, so decoding allocates little.

Offsets index `data`, the capture record as read (capture header included). MAC
addresses are 6-byte `bytes`; `b""` where the frame has none. Integer fields use 0
for "not present" unless noted.
"""

from __future__ import annotations

import functools

from kisalert.mac import ZERO_MAC

# Frame kinds: one bit each, so a detector asks for several with `|`.
ASSOC_REQ = 1 << 0
ASSOC_RESP = 1 << 1
REASSOC_REQ = 1 << 2
REASSOC_RESP = 1 << 3
PROBE_REQ = 1 << 4
PROBE_RESP = 1 << 5
BEACON = 1 << 8
DISASSOC = 1 << 10
AUTH = 1 << 11
DEAUTH = 1 << 12
ACTION = 1 << 13
OTHER_MGMT = 1 << 15
CONTROL = 1 << 16
DATA = 1 << 17
EAPOL = 1 << 18  # an unencrypted data frame carrying EAPOL
DHCP = 1 << 19  # an unencrypted data frame carrying DHCP (IPv4/UDP 67/68)
IPV4 = 1 << 20  # an unencrypted data frame carrying IPv4

MANAGEMENT = (
    ASSOC_REQ
    | ASSOC_RESP
    | REASSOC_REQ
    | REASSOC_RESP
    | PROBE_REQ
    | PROBE_RESP
    | BEACON
    | DISASSOC
    | AUTH
    | DEAUTH
    | ACTION
    | OTHER_MGMT
)
ANY = (1 << 21) - 1

# Management subtype -> kind bit (subtypes 0-15).
MGMT_KINDS = (
    ASSOC_REQ,
    ASSOC_RESP,
    REASSOC_REQ,
    REASSOC_RESP,
    PROBE_REQ,
    PROBE_RESP,
    OTHER_MGMT,  # timing advertisement
    OTHER_MGMT,
    BEACON,
    OTHER_MGMT,  # ATIM
    DISASSOC,
    AUTH,
    DEAUTH,
    ACTION,
    ACTION,  # action no ack
    OTHER_MGMT,
)

# Advertised encryption, as a bit set (`Frame.crypt`); 0 is an open network.
CRYPT_WEP = 1 << 0
CRYPT_WPA = 1 << 1
CRYPT_RSN = 1 << 2
CRYPT_TKIP = 1 << 3
CRYPT_CCMP = 1 << 4
CRYPT_GCMP = 1 << 5
CRYPT_WEP_CIPHER = 1 << 6
CRYPT_PSK = 1 << 7
CRYPT_8021X = 1 << 8
CRYPT_SAE = 1 << 9
CRYPT_OWE = 1 << 10
CRYPT_OTHER_AKM = 1 << 11

_CRYPT_NAMES = (
    (CRYPT_WEP, "WEP"),
    (CRYPT_WPA, "WPA"),
    (CRYPT_RSN, "WPA2"),
    (CRYPT_TKIP, "TKIP"),
    (CRYPT_CCMP, "CCMP"),
    (CRYPT_GCMP, "GCMP"),
    (CRYPT_WEP_CIPHER, "WEP-cipher"),
    (CRYPT_PSK, "PSK"),
    (CRYPT_8021X, "802.1X"),
    (CRYPT_SAE, "SAE"),
    (CRYPT_OWE, "OWE"),
    (CRYPT_OTHER_AKM, "other-AKM"),
)


def crypt_text(crypt: int) -> str:
    """`WPA2 CCMP PSK`, or `open`."""
    return " ".join(name for bit, name in _CRYPT_NAMES if crypt & bit) or "open"


@functools.lru_cache(maxsize=4096)
def channel_of(freq: int) -> str:
    """The channel number of a centre frequency in MHz, as text ("" if unknown)."""
    if freq == 2484:
        return "14"
    if 2412 <= freq < 2484:
        return str((freq - 2407) // 5)
    if 5955 <= freq <= 7115:
        return str((freq - 5950) // 5)
    if freq == 5935:
        return "2"
    if 5000 <= freq < 5955:
        return str((freq - 5000) // 5)
    if 4910 <= freq < 5000:
        return str((freq - 4000) // 5)
    return str(freq) if freq else ""


def mac_text(mac: bytes) -> str:
    return mac.hex(":").upper() if len(mac) == 6 else ZERO_MAC


class Frame:
    __slots__ = (
        "addr1",
        "addr2",
        "addr3",
        "addr4",
        "beacon_interval",
        "body",
        "bssid",
        "capability",
        "country",
        "crypt",
        "data",
        "dest",
        "dhcp",
        "ds_channel",
        "eapol",
        "end",
        "flags",
        "freq",
        "ies",
        "ipv4",
        "kind",
        "reason",
        "rsn_caps",
        "signal",
        "source",
        "ssid",
        "start",
        "subtype",
        "tags",
        "transmitter",
        "tsf",
        "type",
    )

    def __init__(self) -> None:
        self.data = b""
        self.freq = 0  # MHz
        self.signal = 0  # dBm; 0 when the capture header has none
        self.start = 0  # the 802.11 header
        self.end = 0  # the end of the 802.11 frame, FCS excluded
        self.type = 0  # 0 management, 1 control, 2 data
        self.subtype = 0
        self.flags = 0  # frame control flags byte
        self.kind = 0  # one kind bit, plus EAPOL/DHCP/IPV4 for data frames
        self.tags = 0  # anomalies.* bits
        self.addr1 = b""
        self.addr2 = b""
        self.addr3 = b""
        self.addr4 = b""
        self.transmitter = b""  # the BSSID, as an alert's transmitter MAC
        self.bssid = b""
        self.source = b""
        self.dest = b""
        self.body = 0  # management: the fixed fields
        self.ies = 0  # management: the first element
        self.reset_management()
        self.eapol = 0  # offset of the EAPOL header (kind & EAPOL)
        self.ipv4 = 0  # offset of the IPv4 header (kind & IPV4)
        self.dhcp = 0  # offset of the DHCP message (kind & DHCP)

    def reset_management(self) -> None:
        self.ssid: bytes | None = None  # the first SSID element, None if absent
        self.ds_channel = 0
        self.country = b""
        self.crypt = 0
        self.rsn_caps = -1  # RSN capabilities; -1 without an RSN element
        self.beacon_interval = 0
        self.capability = 0
        self.tsf = 0
        self.reason = 0

    @property
    def channel(self) -> str:
        """The channel the frame was captured on ("6", "36"; "" when unknown): only
        alerts read it, so it is worked out then, not for every frame."""
        return channel_of(self.freq)
