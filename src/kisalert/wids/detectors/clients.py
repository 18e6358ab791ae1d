"""What associating stations say about themselves: NOCLIENTMFP."""

from __future__ import annotations

from kisalert.wids.detectors.base import Family
from kisalert.wids.dot11 import anomalies as A
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame, mac_text
from kisalert.wids.dot11.header import FLAG_PROTECTED

RSN_MFP_CAPABLE = 0x0080


class Clients(Family):
    headers = ("NOCLIENTMFP",)
    # A reassociation request makes the same promise for the station's next AP.
    kinds = F.ASSOC_REQ | F.REASSOC_REQ

    def frame(self, frame: Frame, now_us: int) -> None:
        if frame.flags & FLAG_PROTECTED or frame.tags & A.SHORT_BODY:
            return  # protected, or too short for its fixed fields: nothing was read
        caps = frame.rsn_caps
        if caps < 0 and frame.tags & A.INCOMPLETE:
            return  # the RSN element may be what an overrun or the snap length lost
        if caps < 0 or not caps & RSN_MFP_CAPABLE:
            # An RSN element cut short before its capabilities declares nothing either.
            why = (
                "does not declare MFP capability"
                if frame.crypt & F.CRYPT_RSN
                else "sends no RSN element"
            )
            self.alert(
                "NOCLIENTMFP",
                f"Client {mac_text(frame.source)} "
                f"{'associating' if frame.kind == F.ASSOC_REQ else 'reassociating'} to BSSID "
                f"{mac_text(frame.bssid)} {why}: without management frame protection it "
                "can be deauthenticated by anyone",
                frame,
                now_us,
            )
