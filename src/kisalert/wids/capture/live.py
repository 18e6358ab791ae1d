"""Live capture from a network interface in monitor mode, through libpcap (pcapy-ng).

Records come out as `(linktype, timestamp in µs, frame bytes)`, as from a capture file.
The handle is non-blocking and `read` waits on its descriptor with a timeout, because
a blocking libpcap read can wait forever on a quiet interface and so could never be
stopped. Every failure is a `LiveError` whose str() is one line that says what to do.
kisalert never changes an interface's mode itself: that is the operator's decision.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Iterator

import pcapy

from kisalert.wids.capture import linktypes
from kisalert.wids.capture.pcapfile import Record

SNAPLEN = 65535
TIMEOUT_MS = 100  # libpcap hands captured frames over at least this often
BATCH = 4096  # records taken per `read`, so a flood cannot starve the caller's checks
GONE_WAIT = 0.5  # seconds a stopped capture waits to see whether its interface went

# pcap_activate() results (pcap/pcap.h); warnings are positive and harmless here.
_NO_SUCH_DEVICE = -5
_PERM_DENIED = -8
_IFACE_NOT_UP = -9
_PROMISC_PERM_DENIED = -11


class LiveError(Exception):
    """A capture that cannot start or has stopped; str() is one line."""


def interface_exists(name: str) -> bool:
    """Whether the kernel has a network interface of that name. `.` and `..` are
    never one, though /sys/class/net/. and /sys/class/net/.. are directories."""
    return (
        name not in ("", ".", "..") and "/" not in name and os.path.isdir(f"/sys/class/net/{name}")
    )


def _not_permitted(interface: str) -> LiveError:
    return LiveError(
        f"not permitted to capture on {interface}: kisalert needs the CAP_NET_RAW "
        "capability (e.g. AmbientCapabilities=CAP_NET_RAW in its systemd unit) or root"
    )


class LiveCapture:
    """One interface, opened for capture. Close it when done."""

    def __init__(self, interface: str) -> None:
        self.interface = interface
        if not interface_exists(interface):
            raise LiveError(f"no such network interface {interface!r}")
        try:
            pcap = pcapy.create(interface)
            pcap.set_snaplen(SNAPLEN)
            pcap.set_timeout(TIMEOUT_MS)
            status = pcap.activate()
        except pcapy.PcapError as exc:
            raise LiveError(f"cannot capture on {interface}: {exc}") from None
        if status < 0:
            pcap.close()
            raise self._activate_error(status)
        linktype: int = pcap.datalink()
        if linktype not in linktypes.DECODED:
            pcap.close()
            raise LiveError(
                f"{interface} is not in monitor mode: its link type is "
                f"{linktypes.name(linktype)}, not 802.11 radiotap; put it in monitor mode "
                f"first, e.g. `ip link set {interface} down && iw dev {interface} set type "
                f"monitor && ip link set {interface} up`"
            )
        pcap.setnonblock(1)
        self.linktype = linktype
        self._pcap = pcap
        self._fd: int = pcap.getfd()
        self._closed = False

    def _activate_error(self, status: int) -> LiveError:
        interface = self.interface
        if status in (_PERM_DENIED, _PROMISC_PERM_DENIED):
            return _not_permitted(interface)
        if status == _NO_SUCH_DEVICE:
            return LiveError(f"no such network interface {interface!r}")
        if status == _IFACE_NOT_UP:
            return LiveError(f"{interface} is down: bring it up with `ip link set {interface} up`")
        # pcapy gives no error text for a failed activate(); open_live() raises with it.
        try:
            pcapy.open_live(interface, SNAPLEN, 0, TIMEOUT_MS).close()
        except pcapy.PcapError as exc:
            return LiveError(f"cannot capture on {interface}: {exc}")
        return LiveError(f"cannot capture on {interface} (libpcap error {status})")

    def read(self, wait: float) -> Iterator[Record]:
        """The frames captured so far, waiting up to `wait` seconds for the first.

        Raises LiveError when the interface goes down or disappears.
        """
        if self._closed:
            return
        select.select([self._fd], [], [], wait)
        # Drained whatever select said: a wake-up missed in libpcap's ring costs at
        # most one `wait`, never a frame.
        take = self._pcap.next
        linktype = self.linktype
        for _ in range(BATCH):
            try:
                header, data = take()
            except pcapy.PcapError as exc:
                raise self._stopped(exc) from None
            if header is None:
                return
            sec, usec = header.getts()
            if header.getcaplen() < header.getlen():
                yield linktype | linktypes.SNAPPED, sec * 1_000_000 + usec, data
            else:
                yield linktype, sec * 1_000_000 + usec, data

    def _stopped(self, exc: pcapy.PcapError) -> LiveError:
        interface = self.interface
        # libpcap sees a removed interface go down a moment before the kernel
        # drops its name: wait a little, to say which of the two happened.
        deadline = time.monotonic() + GONE_WAIT
        while interface_exists(interface):
            if time.monotonic() > deadline:
                return LiveError(f"capture on {interface} stopped: {exc}")
            time.sleep(0.01)
        return LiveError(f"capture on {interface} stopped: the interface is gone")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pcap.close()

    def __enter__(self) -> LiveCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
