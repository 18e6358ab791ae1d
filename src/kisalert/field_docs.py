"""What each record key means: the `description.<key>` entries of prettyjson output."""

from __future__ import annotations

FIELD_DOCS: dict[str, str] = {
    # Alert record
    "kismet.alert.device_key": "string, key of the device the alert refers to (00_0: none)",
    "kismet.alert.header": "string, name of the alert definition that raised it",
    "kismet.alert.class": "string, class of attack or event, e.g. DENIAL or SPOOF",
    "kismet.alert.hash": "uint32_t, alert id, unique among the alerts the server holds",
    "kismet.alert.severity": "int32_t, severity: 0 info, 5 low, 10 medium, 15 high, 20 critical",
    "kismet.alert.phy_id": "uint32_t, radio layer id (4294967295: any)",
    "kismet.alert.timestamp": "double, time the alert was raised, epoch seconds",
    "kismet.alert.transmitter_mac": "mac_addr, transmitter (BSSID) of the frame",
    "kismet.alert.source_mac": "mac_addr, source of the frame",
    "kismet.alert.dest_mac": "mac_addr, destination of the frame",
    "kismet.alert.other_mac": "mac_addr, another address involved",
    "kismet.alert.channel": "string, channel the alert was seen on",
    "kismet.alert.frequency": "double, frequency in kHz (0: unknown)",
    "kismet.alert.text": "string, what was seen, in words",
    "kismet.alert.location": "map[field, x], position of the sensor when the alert was raised",
    "kismet.common.location.geopoint": "vector[double], [longitude, latitude]",
    "kismet.common.location.alt": "double, altitude in metres",
    "kismet.common.location.fix": "uint8_t, fix: 2 two-dimensional, 3 three-dimensional",
    "kismet.common.location.time_sec": "uint64_t, time of the position, seconds",
    "kismet.common.location.time_usec": "uint64_t, time of the position, microseconds",
    "kismet.alert.list": "vector[x], alerts",
    "kismet.alert.timestamp.sec": "uint64_t, seconds part of a timestamp",
    # Definition record
    "kismet.alert.definition.header": "string, alert name",
    "kismet.alert.definition.class": "string, class of attack or event",
    "kismet.alert.definition.severity": "int32_t, severity of the alerts it raises",
    "kismet.alert.definition.description": "string, what the alert means",
    "kismet.alert.definition.phyid": "int64_t, radio layer id (-1: any, -2: unknown)",
    "kismet.alert.definition.limit_unit": "uint64_t, throttle unit: 0 second, 1 minute, 2 hour, 3 day",
    "kismet.alert.definition.limit_rate": "uint64_t, alerts allowed per throttle unit",
    "kismet.alert.definition.burst_unit": "uint64_t, burst unit: 0 second, 1 minute, 2 hour, 3 day",
    "kismet.alert.definition.limit_burst": "uint64_t, alerts allowed per burst unit",
    "kismet.alert.definition.burst_sent": "uint64_t, alerts sent in the current burst window",
    "kismet.alert.definition.total_sent": "uint64_t, alerts sent in the current throttle window",
    "kismet.alert.definition.time_last": "double, time of the last alert sent (0: none)",
    # Definition state (kisalert's own route)
    "kisalert.definition.header": "string, alert name",
    "kisalert.definition.enabled": "bool, whether raises can get through (false: a rate of 0)",
    "kisalert.definition.throttle": "string, alerts allowed per unit, e.g. 10/min",
    "kisalert.definition.burst": "string, alerts allowed in a burst per unit, e.g. 1/sec",
    "kisalert.definition.class": "string, class of attack or event",
    "kisalert.definition.severity": "int32_t, severity: 0 info, 5 low, 10 medium, 15 high, 20 critical",
    "kisalert.definition.severity_name": "string, the severity's name, as searches match it",
    "kisalert.definition.origin": "string, builtin or api (defined over the API)",
    # Messages
    "kismet.messagebus.message_string": "string, message text",
    "kismet.messagebus.message_flags": "int32_t, flags: 1 debug, 2 info, 4 error, 8 alert, 16 fatal",
    "kismet.messagebus.message_time": "uint64_t, time of the message, epoch seconds",
    "kismet.messagebus.list": "vector[x], messages",
    "kismet.messagebus.timestamp": "uint64_t, server time of this answer",
    # API keys
    "kismet.httpd.auth.name": "string, name of the API key",
    "kismet.httpd.auth.role": "string, role the key grants",
    "kismet.httpd.auth.expiration": "uint64_t, when the key expires, epoch seconds (0: never)",
    "kismet.httpd.auth.token": "string, the key itself (shown only when viewing is allowed)",
    # System
    "kismet.system.timestamp.sec": "uint64_t, server time, seconds",
    "kismet.system.timestamp.usec": "uint64_t, server time, microseconds",
}
# The wrapped last-time answer reuses the alert timestamp key with another meaning.
WRAPPER_DOCS: dict[str, str] = {
    "kismet.alert.timestamp": "double, pass back as the next last-time to get newer alerts",
}
