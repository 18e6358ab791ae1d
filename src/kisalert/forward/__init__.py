"""Forwarding alerts to other systems (docs/forwarding.md).

`OUTPUTS` is the one table from a `forward=` line's `type=` to the output it builds.
An output's module, and the client library it needs (httpx2, aiomqtt: a tenth of a
second of imports together), is loaded only when a `forward=` line names its kind:
every `kisalert` command reads the config, and most never forward.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kisalert.forward import mqtt_options, syslog
from kisalert.forward.base import Output, OutputSpec


@dataclass(frozen=True, slots=True)
class Kind:
    options: frozenset[str]  # the kind's own options, besides the runner's
    required: frozenset[str]
    # Builds without connecting: a bad option raises SpecError at config time.
    build: Callable[[OutputSpec], Output]


def _mqtt(spec: OutputSpec) -> Output:
    from kisalert.forward.mqtt import MqttOutput

    return MqttOutput.from_spec(spec)


def _webhook(spec: OutputSpec) -> Output:
    from kisalert.forward.webhook import WebhookOutput

    return WebhookOutput.from_spec(spec)


WEBHOOK_OPTIONS = frozenset({"url", "format", "http_headers", "secret", "tls_ca", "tls_verify"})

OUTPUTS: dict[str, Kind] = {
    "mqtt": Kind(mqtt_options.OPTIONS, mqtt_options.REQUIRED, _mqtt),
    "syslog": Kind(syslog.OPTIONS, syslog.REQUIRED, syslog.SyslogOutput.from_spec),
    "webhook": Kind(WEBHOOK_OPTIONS, frozenset({"url"}), _webhook),
}
