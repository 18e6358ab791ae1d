"""kisalert's own record of a definition's state (/alerts/definitions/state and
`kisalert definitions --json`): enabled or not, rates in words, where it came from."""

from __future__ import annotations

from pathlib import Path

import orjson

from kisalert.alertlog import LOG_NAME
from kisalert.alertlog.log import INSERT_DEFINITION
from kisalert.alertlog.rows import definition_blob
from kisalert.alertlog.writer import connect
from kisalert.definition import Definition
from kisalert.definition_state import state_record
from kisalert.definitions_table import api_definitions, json_lines, table
from kisalert.rates import Limits
from tests.test_tracker import World, make_world, run_async


async def state_of(world: World, name: str) -> dict[str, object]:
    return state_record(await world.definition(name))


@run_async
async def test_the_state_of_a_built_in_and_of_a_definition_made_over_the_api() -> None:
    world = await make_world()
    assert await state_of(world, "DEAUTHFLOOD") == {
        "kisalert.definition.header": "DEAUTHFLOOD",
        "kisalert.definition.enabled": True,
        "kisalert.definition.throttle": "5/min",
        "kisalert.definition.burst": "2/sec",
        "kisalert.definition.class": "DENIAL",
        "kisalert.definition.severity": 10,
        "kisalert.definition.severity_name": "MEDIUM",
        "kisalert.definition.origin": "builtin",
    }
    await world.tracker.define("mine", "d", klass="spoof", severity_value=15, throttle="3/hr")
    assert await state_of(world, "MINE") == {
        "kisalert.definition.header": "MINE",
        "kisalert.definition.enabled": True,
        "kisalert.definition.throttle": "3/hr",
        "kisalert.definition.burst": "1/sec",
        "kisalert.definition.class": "SPOOF",
        "kisalert.definition.severity": 15,
        "kisalert.definition.severity_name": "HIGH",
        "kisalert.definition.origin": "api",
    }


@run_async
async def test_a_rate_or_a_burst_of_zero_disables_a_definition() -> None:
    world = await make_world()
    await world.tracker.define("NORATE", "d", throttle="0/min", burst="1/sec")
    await world.tracker.define("NOBURST", "d", throttle="5/min", burst="0/sec")
    assert (await state_of(world, "NORATE"))["kisalert.definition.enabled"] is False
    assert (await state_of(world, "NOBURST"))["kisalert.definition.enabled"] is False
    # Kismet's own off switch among the built-ins.
    assert (await state_of(world, "KISMET"))["kisalert.definition.enabled"] is False


def test_a_stored_severity_with_no_name_is_shown_as_its_number(tmp_path: Path) -> None:
    # The log's definitions are read back unchecked: one stored with a severity Kismet
    # gives no name (a log edited by hand) is listed by `kisalert definitions`, not fatal.
    log = tmp_path / LOG_NAME
    db = connect(log, "strict", check=True)
    odd = Definition("ODD", "PROBE", 7, "d", 0, Limits.parse("5/min", "1/sec"))
    db.execute(INSERT_DEFINITION, (odd.name, definition_blob(odd)))
    db.close()
    found = api_definitions(log)
    assert found == [odd]
    assert table(found).splitlines()[1].split() == [
        "ODD",
        "PROBE",
        "7",
        "5/min",
        "1/sec",
        "enabled",
        "api",
    ]
    assert orjson.loads(json_lines(found))["kisalert.definition.severity_name"] == "7"
