"""The options of `type=mqtt`: the broker's URL, the topic template (and the
sanitising of the values it is filled with), TLS and flags. Checked at config time."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from kisalert.alert import Alert
from kisalert.forward.base import SpecError
from kisalert.forward.peer import host_port
from kisalert.phy import phy_from_u32, phy_log_name
from kisalert.severity import SEVERITY_NAMES

OPTIONS = frozenset(
    {"broker", "topic", "username", "password", "client_id", "retain", "tls_ca", "tls_verify"}
)
REQUIRED = frozenset({"broker"})

DEFAULT_TOPIC = "kisalert/{header}"
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
PLACEHOLDERS = ("header", "class", "severity", "transmitter", "phy")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
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


@dataclass(frozen=True, slots=True)
class Broker:
    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Broker:
        """`mqtt://HOST[:PORT]` or `mqtts://HOST[:PORT]`. Raises SpecError."""
        parts = urllib.parse.urlsplit(text.strip())
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise SpecError(f"broker={text!r} must be mqtt://HOST:PORT or mqtts://HOST:PORT")
        if parts.username is not None or parts.password is not None:
            # Kept out of the URL, which reasons and messages show.
            raise SpecError("give the broker's credentials as username= and password=")
        host, port = host_port(parts, "broker", text, scheme, DEFAULT_PORTS[scheme])
        if parts.query or parts.fragment:
            raise SpecError(f"broker={text!r}: use {scheme}://HOST:PORT")
        return cls(scheme, host, port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class TopicTemplate:
    """Literal text and placeholders, alternating: `parts[1::2]` are the names."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> TopicTemplate:
        pieces = PLACEHOLDER.split(text)
        literals, names = pieces[0::2], pieces[1::2]
        for name in names:
            if name not in PLACEHOLDERS:
                known = ", ".join("{" + known + "}" for known in PLACEHOLDERS)
                raise SpecError(f"topic={text!r}: unknown placeholder {{{name}}}; use {known}")
        literal = "".join(literals)
        if "{" in literal or "}" in literal:
            raise SpecError(f"topic={text!r}: a '{{' or '}}' outside a placeholder")
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
