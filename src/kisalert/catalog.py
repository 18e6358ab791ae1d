"""The built-in alert definitions a server registers at start, in Kismet's order."""

from __future__ import annotations

from dataclasses import dataclass

from kisalert.phy import PHY_ANY, PHY_UNKNOWN  # ints: -1 and -2


@dataclass(frozen=True, slots=True)
class BuiltinAlert:
    name: str  # header, upper case
    klass: str  # class, e.g. "DENIAL"
    severity: int  # 0/5/10/15/20
    phy: int  # 0 IEEE802.11, 3 Bluetooth, 6 BTLE, PHY_ANY (-1), PHY_UNKNOWN (-2)
    fallback: str  # "throttle,burst" used when no alert= line names it
    description: str  # kisalert's own one-paragraph description


_DOT11 = 0
_BLUETOOTH = 3
_BTLE = 6

_OFF = "0/min,0/sec"
_ON = "10/min,1/sec"


BUILTIN_ALERTS: tuple[BuiltinAlert, ...] = (
    BuiltinAlert(
        "KISMET",
        "SYSTEM",
        0,
        PHY_ANY,
        "0/day,0/day",
        "Internal server events such as start-up and shutdown notices. It carries no "
        "information about the radio environment and exists so that server messages "
        "share the alert pipeline. It is disabled by default.",
    ),
    BuiltinAlert(
        "DEVICEFOUND",
        "SYSTEM",
        15,
        PHY_ANY,
        _ON,
        "A device on the devicefound watch list has been heard, either for the first "
        "time or again after a period of silence. Use it to learn when a known rogue, "
        "a tracked asset or a person of interest comes into range. MAC randomisation "
        "and masks that are too broad can make it fire for unrelated devices or miss "
        "the intended one.",
    ),
    BuiltinAlert(
        "DEVICELOST",
        "SYSTEM",
        15,
        PHY_ANY,
        _ON,
        "A device on the devicelost watch list, previously heard, has gone silent for "
        "the configured timeout. This can flag a sensor, camera or access point that "
        "lost power or was taken away. Devices that sleep, roam to another channel "
        "while the sensor is hopping, or sit at the edge of range often trip it "
        "without anything being wrong.",
    ),
    BuiltinAlert(
        "DHCPCLIENTID",
        "SPOOF",
        5,
        PHY_UNKNOWN,
        _ON,
        "A DHCP DISCOVER carries a client-identifier MAC that does not match the MAC "
        "address that transmitted the frame. This is typical of DHCP starvation tools "
        "and of hosts spoofing another machine's identity to obtain its lease. Bridges, "
        "repeaters, virtual machines and some VPN or tethering setups legitimately "
        "relay DHCP for other hardware addresses.",
    ),
    BuiltinAlert(
        "NETSTUMBLER",
        "PROBE",
        5,
        _DOT11,
        _OFF,
        "Probe traffic matching the fingerprint of the old NetStumbler war-driving "
        "tool. It indicates someone actively surveying nearby networks, though the "
        "tool is long obsolete. kisalert registers it for compatibility and ships it "
        "disabled.",
    ),
    BuiltinAlert(
        "NULLPROBERESP",
        "DENIAL",
        10,
        _DOT11,
        _ON,
        "A probe response carries a zero-length SSID element. Probe responses should "
        "name the network, and empty ones have been used to crash client drivers and "
        "firmware. Some hidden-network access points and buggy firmware answer probes "
        "this way without malicious intent.",
    ),
    BuiltinAlert(
        "LUCENTTEST",
        "PROBE",
        5,
        _DOT11,
        _OFF,
        "Probe traffic matching the fingerprint of the legacy Lucent site survey "
        "utility. It suggests someone is mapping the wireless environment with very "
        "old equipment. kisalert registers it for compatibility and ships it disabled.",
    ),
    BuiltinAlert(
        "MSFBCOMSSID",
        "EXPLOIT",
        10,
        _DOT11,
        _ON,
        "A beacon was sent from a MAC in the 90:E9:75 range used by the Metasploit "
        "Broadcom SSID overflow module. The attack targets vulnerable Broadcom "
        "drivers on nearby clients and can give an attacker kernel code execution. "
        "Real hardware from that vendor range will also match, so confirm with the "
        "SSID contents before escalating.",
    ),
    BuiltinAlert(
        "MSFDLINKRATE",
        "EXPLOIT",
        10,
        _DOT11,
        _ON,
        "A supported-rates or extended-rates element contains the byte pattern used "
        "by the Metasploit D-Link driver rate overflow exploit. A match indicates an "
        "active attempt to compromise nearby clients through a driver bug. Random "
        "corruption of a rates element could in principle produce the bytes, but "
        "this is rare.",
    ),
    BuiltinAlert(
        "MSFNETGEARBEACON",
        "EXPLOIT",
        10,
        _DOT11,
        _ON,
        "An oversized beacon carries the signature of the Metasploit Netgear WG111 "
        "beacon overflow exploit at its fixed offset. It indicates an attempt to take "
        "over vulnerable clients that merely receive the beacon. False positives are "
        "unlikely because both the length and the byte pattern must match.",
    ),
    BuiltinAlert(
        "LONGSSID",
        "EXPLOIT",
        20,
        _DOT11,
        _ON,
        "An SSID element is longer than the 32 bytes the standard allows. Oversized "
        "SSIDs are a classic way to overflow fixed buffers in client drivers, "
        "supplicants and network managers. Corrupted frames captured with a bad FCS "
        "can also look like this, so check whether the sensor keeps frames that fail "
        "the checksum.",
    ),
    BuiltinAlert(
        "DISCONCODEINVALID",
        "EXPLOIT",
        15,
        _DOT11,
        _ON,
        "A disassociation frame uses a reason code that is reserved or unassigned. "
        "Some drivers index tables by reason code and mishandle unexpected values, "
        "and spoofing tools sometimes emit odd codes. Newer amendments assign codes "
        "older parsers do not know, and some vendors use private values, so isolated "
        "hits may be harmless.",
    ),
    BuiltinAlert(
        "DEAUTHCODEINVALID",
        "EXPLOIT",
        15,
        _DOT11,
        _OFF,
        "A deauthentication frame uses a reason code that is reserved or unassigned. "
        "Like the disassociation variant it can reveal crafted frames aimed at driver "
        "bugs. It is disabled by default because vendor-specific codes make it noisy.",
    ),
    BuiltinAlert(
        "WMMOVERFLOW",
        "EXPLOIT",
        15,
        _DOT11,
        _ON,
        "A WMM vendor element (OUI 00:50:F2 type 2) is longer than any valid WMM "
        "information or parameter element. Oversized WMM elements have been used to "
        "overflow buffers in access point and client firmware. Some vendors append "
        "extra data to WMM elements, so check the source device before treating it "
        "as an attack.",
    ),
    BuiltinAlert(
        "CHANCHANGE",
        "SPOOF",
        5,
        _DOT11,
        _ON,
        "An access point already seen for an SSID now advertises a different channel "
        "in its beacons. An evil-twin attacker often clones the BSSID on another "
        "channel to lure clients away. Access points with automatic channel selection, "
        "DFS radar events and controller-driven channel plans change channel "
        "legitimately.",
    ),
    BuiltinAlert(
        "DHCPCONFLICT",
        "SPOOF",
        5,
        _DOT11,
        _ON,
        "A client is using an IP address other than the one its DHCP server just "
        "assigned it. This can indicate address spoofing or a host squatting on "
        "someone else's address. Static configurations, lease renewals seen only in "
        "part, and multi-homed hosts can cause benign mismatches.",
    ),
    BuiltinAlert(
        "BCASTDISCON",
        "DENIAL",
        10,
        _DOT11,
        _ON,
        "A deauthentication or disassociation frame was sent to the broadcast "
        "address, disconnecting every client of the access point at once. Attackers "
        "use it to knock users off a network, force handshake captures or push "
        "clients toward an evil twin. Access points also send it legitimately when "
        "they reboot, change channel or shut down a BSS.",
    ),
    BuiltinAlert(
        "AIRJACKSSID",
        "PROBE",
        5,
        _DOT11,
        _ON,
        "A network advertises the SSID AirJack, the default of the old AirJack "
        "driver used for man-in-the-middle and denial-of-service attacks. It points "
        "to a hostile toolkit being run nearby. Someone naming a test network "
        "AirJack will also match.",
    ),
    BuiltinAlert(
        "CRYPTODROP",
        "SPOOF",
        15,
        _DOT11,
        _ON,
        "A network that previously advertised encryption now advertises none. An "
        "open evil twin of a protected network is a common way to harvest traffic or "
        "credentials from clients that auto-connect. An administrator actually "
        "reconfiguring the network, or a guest SSID reusing the same BSSID, can also "
        "cause it.",
    ),
    BuiltinAlert(
        "DHCPNAMECHANGE",
        "SPOOF",
        5,
        _DOT11,
        _ON,
        "A client's DHCP host-name option differs from the name it sent earlier. "
        "A device whose identity changes may be a spoofer reusing another machine's "
        "MAC address. Renamed hosts, dual-boot machines and privacy features that "
        "randomise or omit host names also trigger it.",
    ),
    BuiltinAlert(
        "DHCPOSCHANGE",
        "SPOOF",
        5,
        _DOT11,
        _ON,
        "A client's DHCP vendor-class option differs from the value it sent earlier, "
        "suggesting a different operating system behind the same MAC. That is a sign "
        "of MAC cloning by another machine. Dual-boot systems, OS upgrades and "
        "virtual machines sharing a bridged MAC are the usual benign causes.",
    ),
    BuiltinAlert(
        "ADHOCCONFLICT",
        "SPOOF",
        15,
        _DOT11,
        _ON,
        "The same BSSID and SSID are advertised both as an infrastructure access "
        "point and as an ad-hoc (IBSS) network. This is a sign of spoofing, since "
        "one radio should not play both roles for the same network. Buggy drivers "
        "and devices switching modes during configuration occasionally cause it.",
    ),
    BuiltinAlert(
        "SSIDCANARY",
        "SPOOF",
        15,
        _DOT11,
        _ON,
        "An SSID in a beacon, probe response or probe request matches a configured "
        "canary pattern. Canary SSIDs are names that should never appear on the air, "
        "so a hit usually means a device is probing for, or impersonating, a network "
        "it learned about. Patterns that are too broad will match innocent networks.",
    ),
    BuiltinAlert(
        "APSPOOF",
        "SPOOF",
        15,
        _DOT11,
        _ON,
        "An SSID protected by an apspoof rule was advertised by a BSSID that is not "
        "in the rule's list of authorised MACs. This is the main evil-twin and rogue "
        "access point indicator for corporate networks. New or replaced access "
        "points not yet added to the list, and neighbours using a similar name that "
        "the pattern also matches, are the usual false positives.",
    ),
    BuiltinAlert(
        "DOT11D",
        "SPOOF",
        15,
        _DOT11,
        _ON,
        "A known network now advertises a different 802.11d country code. Changing "
        "the regulatory domain can coax clients into using channels or power levels "
        "they normally would not, and a mismatch suggests a cloned access point. "
        "Firmware updates and reconfiguration by an administrator can also change "
        "the code.",
    ),
    BuiltinAlert(
        "BEACONRATE",
        "SPOOF",
        15,
        _DOT11,
        _ON,
        "A known network's beacon interval changed. Spoofed access points often use "
        "a different interval from the original, and some attacks shorten it to win "
        "clients. Administrators tuning the interval, and controllers adjusting "
        "settings, are the common benign causes.",
    ),
    BuiltinAlert(
        "ADVCRYPTCHANGE",
        "SPOOF",
        15,
        _DOT11,
        _ON,
        "A known network changed the set of encryption and authentication methods it "
        "advertises. A downgrade, for example from WPA3 to WPA2 or from CCMP to TKIP, "
        "can be an attacker's evil twin trying to force weaker security. Planned "
        "migrations and transition-mode settings produce legitimate changes.",
    ),
    BuiltinAlert(
        "MALFORMMGMT",
        "EXPLOIT",
        10,
        _DOT11,
        _ON,
        "A management frame contains information elements that run past the end of "
        "the frame. Malformed elements are a common vector for parser bugs in "
        "drivers and firmware, and fuzzers produce them in bulk. Truncated captures, "
        "frames with bad checksums and noisy links cause many benign hits.",
    ),
    BuiltinAlert(
        "WPSBRUTE",
        "EXPLOIT",
        20,
        _DOT11,
        _ON,
        "One device sent many WPS M3 messages in a short time. In an online WPS PIN "
        "brute-force attack such as Reaver or Bully the access point answers every "
        "guessed PIN with an M3, so a burst of them is the attack's pattern; it "
        "can recover the network passphrase. A user repeatedly "
        "retrying a failed WPS setup could trigger it, but only rarely.",
    ),
    BuiltinAlert(
        "KARMAOUI",
        "PROBE",
        10,
        _DOT11,
        _ON,
        "A probe response came from the 00:13:37 MAC range used by default by Karma "
        "and WiFi Pineapple rogue access points. Such devices answer probes for any "
        "SSID to lure clients into connecting. Legitimate hardware from that vendor "
        "range will also match.",
    ),
    BuiltinAlert(
        "OVERPOWERED",
        "OTHER",
        15,
        _DOT11,
        _OFF,
        "A frame was received at an unusually strong signal level. A transmitter "
        "very close to the sensor, or one running far above normal power, may be an "
        "attacker trying to overpower legitimate access points. Devices placed next "
        "to the sensor and radios that report bogus signal values trigger it, so it "
        "ships disabled.",
    ),
    BuiltinAlert(
        "NONCEDEGRADE",
        "EXPLOIT",
        10,
        _DOT11,
        _OFF,
        "An EAPOL-Key group message carries an all-zero nonce and no key data. This "
        "matches the pattern used in key reinstallation (KRACK) style attacks that "
        "try to force nonce reuse. Some buggy access points send zeroed nonces "
        "legitimately, which is why it ships disabled.",
    ),
    BuiltinAlert(
        "NONCEREUSE",
        "EXPLOIT",
        15,
        _DOT11,
        _OFF,
        "An EAPOL handshake nonce was repeated for the same station without an "
        "increasing replay counter. Nonce reuse is the hallmark of key reinstallation "
        "(KRACK) attacks and can let an attacker decrypt or forge traffic. "
        "Retransmissions and capture duplicates can look similar, so it ships "
        "disabled.",
    ),
    BuiltinAlert(
        "WMMTSPEC",
        "EXPLOIT",
        15,
        _DOT11,
        _ON,
        "A frame contains an excessive number of WMM TSPEC elements. Stacking these "
        "elements has been used to exploit traffic-stream handling in access point "
        "and client firmware. Legitimate frames normally carry at most a few, so "
        "false positives are uncommon.",
    ),
    BuiltinAlert(
        "RSNLOOP",
        "EXPLOIT",
        15,
        _DOT11,
        _ON,
        "An RSN element declares an absurd number of pairwise ciphers or a count that "
        "overruns the element. Parsers that loop over the declared count can read "
        "out of bounds or hang, which attackers use to crash or take over devices. "
        "Corrupted captures may occasionally produce it.",
    ),
    BuiltinAlert(
        "BCOM11KCHAN",
        "EXPLOIT",
        15,
        _DOT11,
        _ON,
        "An 802.11k neighbor report names a channel number outside the valid range. "
        "Out-of-range channels in neighbor reports have been used to exploit "
        "Broadcom firmware that indexes tables with the value. Valid reports do not "
        "use such channels, so hits are usually deliberate or corrupted frames.",
    ),
    BuiltinAlert(
        "BSSTIMESTAMP",
        "SPOOF",
        10,
        _DOT11,
        _ON,
        "Beacon timestamps for one BSSID repeatedly jump backwards or forwards by "
        "large amounts. That is what two radios transmitting under the same BSSID "
        "produce, the classic sign of a cloned access point. Access point reboots, "
        "firmware timer bugs and multi-radio APs sharing a BSSID can also cause "
        "irregular timestamps.",
    ),
    BuiltinAlert(
        "PROBECHAN",
        "SPOOF",
        10,
        _DOT11,
        _ON,
        "A probe response advertises a different channel from the beacons of the "
        "same BSSID and SSID. An impostor answering probes on another channel is a "
        "common evil-twin technique. An access point that is changing channel, or a "
        "repeater copying another's probe responses, causes benign hits.",
    ),
    BuiltinAlert(
        "QCOMEXTENDED",
        "EXPLOIT",
        15,
        _DOT11,
        _OFF,
        "An extended-capabilities element is longer than expected. Oversized "
        "elements of this kind have been used against Qualcomm drivers. Newer "
        "amendments keep adding capability bits, so legitimate modern devices send "
        "longer elements and the alert ships disabled.",
    ),
    BuiltinAlert(
        "BADFIXLENIE",
        "EXPLOIT",
        15,
        _DOT11,
        _ON,
        "An information element whose length is fixed by the standard has the wrong "
        "length, such as a DS parameter set longer than one byte. Drivers that trust "
        "the fixed size can be overflowed by such frames. Truncated or corrupted "
        "captures and a few buggy vendor stacks can also produce it.",
    ),
    BuiltinAlert(
        "RTLWIFIP2P",
        "EXPLOIT",
        15,
        _DOT11,
        _ON,
        "A Wi-Fi Direct (P2P) element carries an oversized notice-of-absence "
        "attribute. This is the signature of an exploit against Realtek driver P2P "
        "parsing that can crash or compromise nearby devices without any "
        "interaction. Legitimate P2P devices stay within the attribute's size, so "
        "hits are rarely benign.",
    ),
    BuiltinAlert(
        "DEAUTHFLOOD",
        "DENIAL",
        10,
        _DOT11,
        _ON,
        "Many deauthentication or disassociation frames were seen for one BSSID in "
        "a very short time. Floods like this are used to jam a network, capture "
        "WPA handshakes as clients reconnect or push users toward an evil twin. "
        "Wireless intrusion prevention systems that contain rogue access points, and "
        "access points cleaning up after a reboot, generate similar bursts.",
    ),
    BuiltinAlert(
        "NOCLIENTMFP",
        "SPOOF",
        5,
        _DOT11,
        _ON,
        "A client associated without advertising support for management frame "
        "protection. Without MFP, its connection can be torn down with spoofed "
        "deauthentication frames and it is exposed to other management-frame attacks. "
        "Many older or low-cost devices and open networks legitimately lack MFP, so "
        "this is informational rather than an attack indicator.",
    ),
    BuiltinAlert(
        "RTL8195VD1406",
        "EXPLOIT",
        15,
        _DOT11,
        _ON,
        "An EAPOL-Key frame declares an 802.1X body length far beyond what a key "
        "message needs. Oversized EAPOL frames match a known attack on Realtek "
        "RTL8195 based IoT devices that can lead to code execution. Legitimate key "
        "exchanges stay well below the limit.",
    ),
    BuiltinAlert(
        "VDOO202027301",
        "EXPLOIT",
        15,
        _DOT11,
        _ON,
        "An access point sent an EAPOL-Key frame with a non-AES descriptor and key "
        "data longer than the receiving stack can safely hold. This matches a known "
        "overflow in Realtek IoT WPA2 handshake code that can be triggered before "
        "authentication. Normal handshakes do not carry key data this large.",
    ),
    BuiltinAlert(
        "VDOO202027302",
        "EXPLOIT",
        15,
        _DOT11,
        _ON,
        "An access point sent an EAPOL-Key frame with the AES descriptor and key "
        "data longer than the receiving stack can safely hold. This matches the AES "
        "variant of a known overflow in Realtek IoT WPA2 handshake code. Normal "
        "handshakes do not carry key data this large.",
    ),
    BuiltinAlert(
        "FORMATSTRING",
        "EXPLOIT",
        15,
        _DOT11,
        _ON,
        "An SSID contains printf-style format specifiers such as %s, %n, %p or %@. "
        "Such names have crashed phone and laptop Wi-Fi stacks that pass the SSID "
        "to a format function. Occasionally a prankster or a test network uses a "
        "percent sign in its name without targeting anyone.",
    ),
    BuiltinAlert(
        "FLIPPERZERO",
        "PROBE",
        15,
        _BLUETOOTH,
        _ON,
        "A Bluetooth device from the MAC range used by the Flipper Zero was seen. "
        "The Flipper is a multi-tool often used for Bluetooth spam, replay and "
        "proximity attacks. Owners who carry one harmlessly, and other devices from "
        "the same range, also match.",
    ),
    BuiltinAlert(
        "BLEEDINGTOOTH",
        "EXPLOIT",
        15,
        _BTLE,
        _ON,
        "A Bluetooth Low Energy advertisement carries more data than the 31 bytes "
        "legacy advertising allows. Oversized advertisements were used in the "
        "BleedingTooth attacks against the Linux Bluetooth stack. Extended "
        "advertising on newer hardware can legitimately carry more data, so confirm "
        "the advertising type.",
    ),
    BuiltinAlert(
        "SOURCEERROR",
        "SYSTEM",
        15,
        PHY_UNKNOWN,
        _ON,
        "A capture source failed, stopped or could not be opened. While a source is "
        "down the sensor is blind on its channels and attacks there go unseen. "
        "Unplugged adapters, driver resets and permission problems are the usual "
        "causes.",
    ),
    BuiltinAlert(
        "ROOTUSER",
        "SYSTEM",
        15,
        PHY_UNKNOWN,
        _ON,
        "The server is running as the root user. Any flaw in the server or its "
        "packet parsers would then give an attacker full control of the host. Run "
        "it as an unprivileged user and grant capture rights to the capture tools "
        "instead.",
    ),
)
