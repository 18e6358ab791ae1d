"""`kisalert definitions`: the alert catalogue a server on a data directory holds,
with rates and state, as a table or as JSON lines.

It reads the built-ins, the config's `alert=` rates and the definitions made over
the API from the data directory's alert log, read-only: a server may be running on
that directory, and its lock is left alone.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

import orjson

from kisalert.alertlog import LOG_NAME, LogError
from kisalert.alertlog.rows import definition_from_blob
from kisalert.config import Config, unknown_alerts
from kisalert.definition import Definition
from kisalert.definition_state import state_record
from kisalert.rates import Limits
from kisalert.tracker import builtin_definitions

COLUMNS = ("NAME", "CLASS", "SEVERITY", "THROTTLE", "BURST", "STATE", "ORIGIN")


def api_definitions(log_path: Path) -> list[Definition]:
    """The definitions made over the API that the log holds, in the order they were
    made; none when there is no log yet."""
    if not log_path.is_file():
        return []
    try:
        db = sqlite3.connect(f"file:{log_path}?mode=ro", uri=True)
        try:
            blobs = db.execute("SELECT record FROM kisalert_definitions ORDER BY seq").fetchall()
        finally:
            db.close()
        return [definition_from_blob(blob) for (blob,) in blobs]
    except sqlite3.Error as exc:
        raise LogError(f"cannot read the definitions in {log_path}: {exc}") from None


def catalogue(config: Config, data_dir: Path) -> list[Definition]:
    """What a server started on `data_dir` with `config` registers, in its order:
    the built-ins, then the definitions made over the API, the config's rates winning."""
    rates: Mapping[str, Limits] = config.rates
    found = builtin_definitions(rates)
    known = {definition.name for definition in found}
    for made in api_definitions(data_dir / LOG_NAME):
        if made.name not in known:
            known.add(made.name)
            limits = rates.get(made.name, made.limits)
            found.append(
                Definition(made.name, made.klass, made.severity, made.description, made.phy, limits)
            )
    return found


def table(definitions: Sequence[Definition]) -> str:
    rows = [COLUMNS]
    for definition in definitions:
        state = state_record(definition)
        rows.append(
            (
                definition.name,
                definition.klass,
                state["kisalert.definition.severity_name"],
                state["kisalert.definition.throttle"],
                state["kisalert.definition.burst"],
                "enabled" if state["kisalert.definition.enabled"] else "disabled",
                state["kisalert.definition.origin"],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        + "\n"
        for row in rows
    )


def json_lines(definitions: Sequence[Definition]) -> str:
    """One object per line, as /alerts/definitions/state.itjson gives them."""
    return "".join(orjson.dumps(state_record(d)).decode() + "\n" for d in definitions)


def show(config: Config, data_dir: Path, as_json: bool, out: TextIO = sys.stdout) -> int:
    definitions = catalogue(config, data_dir.expanduser().absolute())
    # As the server warns at start, now that the API's definitions are known.
    for warning in unknown_alerts(config, [definition.name for definition in definitions]):
        print(f"kisalert: warning: {warning}", file=sys.stderr)
    try:
        out.write(json_lines(definitions) if as_json else table(definitions))
        out.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from
        # complaining when it flushes at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
    return 0
