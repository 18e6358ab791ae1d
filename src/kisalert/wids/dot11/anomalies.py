"""What the decoders tag instead of raising: one bit per anomaly or notable feature.

A decoder that meets a malformed or suspicious structure sets a bit in
`Frame.tags` and goes on; detectors that care ask for frames carrying their bit,
so frames without any are never handed to them.
"""

from __future__ import annotations

OVERRUN = 1 << 0  # an element runs past the end of the frame (MALFORMMGMT)
LONG_SSID = 1 << 1  # an SSID element longer than 32 bytes
EMPTY_SSID = 1 << 2  # an SSID element of length 0
DLINK_RATES = 1 << 3  # 75 EB 49 inside a supported/extended rates element
WMM_OVERFLOW = 1 << 4  # a WMM information/parameter element over 24 bytes
WMM_TSPEC_MANY = 1 << 5  # more than 4 WMM TSPEC elements
RSN_LOOP = 1 << 6  # an RSN element whose pairwise count is huge or overruns it
EXTCAP_LONG = 1 << 7  # an extended-capabilities element longer than 13 bytes
BAD_FIXED_LEN = 1 << 8  # a fixed-length element with the wrong length
P2P_NOA_LONG = 1 << 9  # a Wi-Fi P2P notice-of-absence attribute over 28 bytes
NEIGHBOR_CHANNEL = 1 << 10  # a neighbor report naming a channel above 224
NETGEAR_BEACON = 1 << 11  # 6A 39 58 01 at frame offset 1180
FORMAT_SSID = 1 << 12  # %s, %n, %p or %@ in the SSID
SHORT_BODY = 1 << 14  # a management frame too short for its fixed fields
SNAPPED = 1 << 15  # the capture kept less than the whole frame (set by the engine)

# Tags that make a frame count as malformed in the summary (unless SNAPPED says the
# capture, not the sender, cut it short).
MALFORMED = OVERRUN | SHORT_BODY
# Elements may be missing from a frame with one of these: an overrun loses what came
# after it, a short snap length what came after the cut (even at an element's
# boundary). What such a frame lacks (an RSN element, say) proves nothing.
INCOMPLETE = OVERRUN | SNAPPED
