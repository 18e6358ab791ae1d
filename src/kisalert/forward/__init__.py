"""Forwarding alerts to other systems (docs/forwarding.md).

`OUTPUTS` is the one table from a `forward=` line's `type=` to the output it builds.
An output's module, and the client library it needs (aiosmtplib, with the standard
library's email package: some 30 ms of imports), is loaded only when a `forward=`
line names its kind: every
`kisalert` command reads the config, and most never forward. So the options of the
kinds whose modules import a client are listed here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kisalert.forward import mqtt_options, syslog
from kisalert.forward.base import Output, OutputSpec
from kisalert.severity import HIGH, SEVERITY_NAMES


@dataclass(frozen=True, slots=True)
class Kind:
    options: frozenset[str]  # the kind's own options, besides the runner's
    required: frozenset[str]
    # Builds without connecting: a bad option raises SpecError at config time.
    build: Callable[[OutputSpec], Output]
    # Runner options (spec.py) the kind has unless its line gives them.
    defaults: Mapping[str, str] = field(default_factory=dict)


def _email(spec: OutputSpec) -> Output:
    from kisalert.forward.email import EmailOutput

    return EmailOutput.from_spec(spec)


def _mqtt(spec: OutputSpec) -> Output:
    from kisalert.forward.mqtt import MqttOutput

    return MqttOutput.from_spec(spec)


def _webhook(spec: OutputSpec) -> Output:
    from kisalert.forward.webhook import WebhookOutput

    return WebhookOutput.from_spec(spec)


WEBHOOK_OPTIONS = frozenset({"url", "format", "http_headers", "secret", "tls_ca", "tls_verify"})
EMAIL_OPTIONS = frozenset(
    {"smtp", "starttls", "tls_ca", "tls_verify", "username", "password", "from", "to", "subject"}
)
# Mail is for what a person should read, gathered into one message a minute.
EMAIL_DEFAULTS = {"min_severity": SEVERITY_NAMES[HIGH], "window": "60"}

OUTPUTS: dict[str, Kind] = {
    "email": Kind(EMAIL_OPTIONS, frozenset({"smtp", "from", "to"}), _email, EMAIL_DEFAULTS),
    "mqtt": Kind(mqtt_options.OPTIONS, mqtt_options.REQUIRED, _mqtt),
    "syslog": Kind(syslog.OPTIONS, syslog.REQUIRED, syslog.SyslogOutput.from_spec),
    "webhook": Kind(WEBHOOK_OPTIONS, frozenset({"url"}), _webhook),
}
