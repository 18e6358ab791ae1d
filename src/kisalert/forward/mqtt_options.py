"""The options of `type=mqtt`: the broker's URL, the topic template (and the
sanitising of the values it is filled with), TLS and flags. Checked at config time."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kisalert.alert import Alert
from kisalert.forward.base import SpecError
from kisalert.forward.peer import Peer, template_parts
from kisalert.phy import phy_from_u32, phy_log_name
from kisalert.severity import SEVERITY_NAMES

OPTIONS = frozenset(
    {"broker", "topic", "username", "password", "client_id", "retain", "tls_ca", "tls_verify"}
)
REQUIRED = frozenset({"broker"})

DEFAULT_TOPIC = "kisalert/{header}"
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
PLACEHOLDERS = ("header", "class", "severity", "transmitter", "phy")
# A topic level cannot hold these ('/' separates levels, '+' and '#' are wildcards,
# NUL is forbidden), and the standard asks that control characters be left out.
UNSAFE = re.compile(r"[/+#\x00-\x1f\x7f-\x9f]")
# A value is cut to this many characters, and a template to TEMPLATE_MAX bytes, so
# that no topic comes near MQTT's 65535 bytes.
VALUE_MAX = 128
TEMPLATE_MAX = 1024


def sanitise(value: str) -> str:
    """A placeholder's value as exactly one topic level."""
    return UNSAFE.sub("_", value[:VALUE_MAX]) or "_"


def parse_broker(text: str) -> Peer:
    """`mqtt://HOST[:PORT]` or `mqtts://HOST[:PORT]`. Raises SpecError."""
    return Peer.parse("broker", text, DEFAULT_PORTS, "the broker")


@dataclass(frozen=True, slots=True)
class TopicTemplate:
    """Literal text and placeholders, alternating: `parts[1::2]` are the names."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> TopicTemplate:
        pieces = template_parts("topic", text, PLACEHOLDERS)
        literal = "".join(pieces[0::2])
        if not text or len(text.encode()) > TEMPLATE_MAX:
            raise SpecError(f"topic= needs 1 to {TEMPLATE_MAX} bytes")
        if UNSAFE.search(literal.replace("/", "")):
            raise SpecError(f"topic={text!r} holds '+', '#', NUL or a control character")
        if text.startswith("$"):
            raise SpecError(f"topic={text!r}: topics starting with '$' are the broker's")
        return cls(tuple(pieces))

    def render(self, alert: Alert) -> str:
        record = alert.record
        severity = record["kismet.alert.severity"]
        values = {
            "header": alert.header,
            "class": record["kismet.alert.class"],
            "severity": SEVERITY_NAMES.get(severity, str(severity)),
            "transmitter": record["kismet.alert.transmitter_mac"],
            "phy": phy_log_name(phy_from_u32(record["kismet.alert.phy_id"])),
        }
        topic = "".join(
            sanitise(values[part]) if n % 2 else part for n, part in enumerate(self.parts)
        )
        # A value may not make the topic one of the broker's own ($SYS/...).
        return "_" + topic[1:] if topic.startswith("$") else topic
