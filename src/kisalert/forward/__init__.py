"""Forwarding alerts to other systems (docs/forwarding.md).

`OUTPUTS` is the one table from a `forward=` line's `type=` to the output it builds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kisalert.forward import mqtt, syslog, webhook
from kisalert.forward.base import Output, OutputSpec


@dataclass(frozen=True, slots=True)
class Kind:
    options: frozenset[str]  # the kind's own options, besides the runner's
    required: frozenset[str]
    # Builds without connecting: a bad option raises SpecError at config time.
    build: Callable[[OutputSpec], Output]


OUTPUTS: dict[str, Kind] = {
    "mqtt": Kind(mqtt.OPTIONS, mqtt.REQUIRED, mqtt.MqttOutput.from_spec),
    "syslog": Kind(syslog.OPTIONS, syslog.REQUIRED, syslog.SyslogOutput.from_spec),
    "webhook": Kind(webhook.OPTIONS, webhook.REQUIRED, webhook.WebhookOutput.from_spec),
}
