"""The radiotap capture header: channel frequency, flags and dBm signal.

A radiotap header lists its fields in one or more 32-bit "present" words, each field
aligned to its own size. Walking the words for every frame is the slow part, and a
driver writes the same words for every frame, so the layout computed for a run of
present words is kept and reused (the cache is bounded).
"""

from __future__ import annotations

import struct

from kisalert.wids.dot11.frame import Frame

# (alignment, size) of radiotap fields 0-27, in the radiotap namespace.
_FIELDS = (
    (8, 8),  # 0 TSFT
    (1, 1),  # 1 flags
    (1, 1),  # 2 rate
    (2, 4),  # 3 channel: frequency, flags
    (2, 2),  # 4 FHSS
    (1, 1),  # 5 dBm antenna signal
    (1, 1),  # 6 dBm antenna noise
    (2, 2),  # 7 lock quality
    (2, 2),  # 8 TX attenuation
    (2, 2),  # 9 dB TX attenuation
    (1, 1),  # 10 dBm TX power
    (1, 1),  # 11 antenna
    (1, 1),  # 12 dB antenna signal
    (1, 1),  # 13 dB antenna noise
    (2, 2),  # 14 RX flags
    (2, 2),  # 15 TX flags
    (1, 1),  # 16 RTS retries
    (1, 1),  # 17 data retries
    (4, 8),  # 18 XChannel: flags, frequency, channel, max power
    (1, 3),  # 19 MCS
    (4, 8),  # 20 A-MPDU status
    (2, 12),  # 21 VHT
    (8, 12),  # 22 timestamp
    (2, 12),  # 23 HE
    (2, 12),  # 24 HE-MU
    (2, 6),  # 25 HE-MU other user
    (1, 1),  # 26 zero-length PSDU
    (2, 4),  # 27 L-SIG
)
_FLAGS, _CHANNEL, _SIGNAL, _XCHANNEL = 1, 3, 5, 18
_EXT = 1 << 31
_NS_RADIOTAP = 1 << 29
_NS_VENDOR = 1 << 30

FLAG_FCS = 0x10  # the frame ends with its 4-byte FCS
FLAG_DATAPAD = 0x20  # padding between the 802.11 header and the payload
FLAG_BAD_FCS = 0x40

_u16 = struct.Struct("<H").unpack_from
_u32 = struct.Struct("<I").unpack_from

# Layout: (minimum header length, flags offset, frequency offset, signal offset),
# -1 for a field that is absent; None when the layout depends on the data (vendor
# namespaces), which is then walked every time.
Layout = tuple[int, int, int, int]
_cache: dict[bytes, Layout | None] = {}
_CACHE_MAX = 256
# Present words a header may have. Drivers write one per namespace, a handful even
# with one namespace per antenna; a header of thousands (a 64 KiB header allows
# 16 000) was walked bit by bit for every frame, at 10 frames/s.
MAX_PRESENT_WORDS = 64


class RadiotapError(Exception):
    pass


def _layout(buf: bytes, hlen: int) -> tuple[Layout, bool]:
    """Walk the present words; returns the layout and whether it may be cached."""
    words: list[int] = []
    pos = 4
    while True:
        if pos + 4 > hlen:
            raise RadiotapError("present words overrun the header")
        word = _u32(buf, pos)[0]
        words.append(word)
        pos += 4
        if not word & _EXT:
            break
    offset = pos
    flags_at = freq_at = signal_at = -1
    cacheable = True
    vendor = False
    first_of_namespace = True
    for word in words:
        if vendor:
            cacheable = False
        elif first_of_namespace:
            bits = word & 0x1FFFFFFF
            index = 0
            while bits:
                if bits & 1:
                    if index >= len(_FIELDS):
                        # An unknown field: its size is unknown, so nothing after it
                        # can be located. What came before stands.
                        return (offset, flags_at, freq_at, signal_at), cacheable
                    align, size = _FIELDS[index]
                    offset = (offset + align - 1) & -align
                    if index == _FLAGS and flags_at < 0:
                        flags_at = offset
                    elif index == _CHANNEL and freq_at < 0:
                        freq_at = offset
                    elif index == _SIGNAL and signal_at < 0:
                        signal_at = offset
                    elif index == _XCHANNEL and freq_at < 0:
                        freq_at = offset + 4
                    offset += size
                bits >>= 1
                index += 1
        elif word & 0x1FFFFFFF:
            # Bits 32 and up of a namespace define no fields yet.
            return (offset, flags_at, freq_at, signal_at), cacheable
        if not word & _EXT:
            break  # the last word: bits 29 and 30 announce no namespace
        if word & _NS_VENDOR:
            offset = (offset + 1) & -2
            if offset + 6 > hlen:
                raise RadiotapError("vendor namespace overruns the header")
            offset += 6 + _u16(buf, offset + 4)[0]
            vendor = True
            first_of_namespace = False
        elif word & _NS_RADIOTAP:
            vendor = False
            first_of_namespace = True
        else:
            first_of_namespace = False
    return (offset, flags_at, freq_at, signal_at), cacheable


def decode(frame: Frame, buf: bytes) -> int:
    """Fill frequency and signal; returns the radiotap flags byte (0 if absent).

    Sets `frame.start` past the header and trims the FCS from `frame.end`. Raises
    RadiotapError for a header that does not fit the record.
    """
    size = len(buf)
    if size < 8 or buf[0] != 0:
        raise RadiotapError("not a radiotap header")
    hlen = _u16(buf, 2)[0]
    if hlen < 8 or hlen > size:
        raise RadiotapError("radiotap length overruns the record")
    # The present words end at the first word without the extension bit.
    end = 8
    while buf[end - 1] & 0x80:
        end += 4
        if end > hlen:
            raise RadiotapError("present words overrun the header")
        if end > 4 + 4 * MAX_PRESENT_WORDS:
            raise RadiotapError("more present words than any radiotap header has")
    key = buf[4:end]
    layout = _cache.get(key)
    if layout is None:
        layout, cacheable = _layout(buf, hlen)
        if cacheable:
            if len(_cache) >= _CACHE_MAX:
                _cache.clear()
            _cache[key] = layout
    needed, flags_at, freq_at, signal_at = layout
    if needed > hlen:
        raise RadiotapError("radiotap fields overrun the header")
    flags = buf[flags_at] if flags_at >= 0 else 0
    frame.freq = _u16(buf, freq_at)[0] if freq_at >= 0 else 0
    if signal_at >= 0:
        signal = buf[signal_at]
        frame.signal = signal - 256 if signal > 127 else signal
    else:
        frame.signal = 0
    frame.start = hlen
    frame.end = size - 4 if flags & FLAG_FCS else size
    return flags
