"""The id journal (alertlog/journal.py) with the real alert log on real SQLite files.

In batched mode every alert's id goes to `kisalert.kismet-ids` before the alert is visible;
the journal stays bounded while alerts keep coming, a clean stop removes it, and
after a process that died with alerts uncommitted, their ids are taken: no new
alert gets them, by-id finds nothing for them, and new stamps come after theirs.
The same over HTTP with the eventbus: test_durability_seen.py.
"""

from __future__ import annotations

import asyncio
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

from kisalert.alert import Alert, AlertDraft
from kisalert.alertlog import LOG_NAME, AlertLog
from tests.test_alertlog import query
from tests.test_tracker import START_US, run_async

JOURNAL = "kisalert.kismet-ids"


def alert(number: int) -> Alert:
    draft = AlertDraft(header="JOURNAL", klass="OTHER", severity=5, phy=-1, text=f"n{number}")
    return Alert.from_draft(draft, START_US + number, 1_000_000 + number)


def logged_ids(path: Path) -> set[int]:
    return {i for (i,) in query(path, "SELECT hash FROM kisalert_alerts WHERE header != ''")}


def test_the_journal_stays_bounded_and_a_clean_stop_removes_it(tmp_path: Path) -> None:
    count = 30_000
    sizes: list[int] = []

    async def main() -> None:
        log = AlertLog(tmp_path / LOG_NAME, "batched", commit_ms=20)
        log.open()
        journal = tmp_path / JOURNAL
        assert stat.S_IMODE(journal.stat().st_mode) == 0o600
        for number in range(count):
            log.append(alert(number))
            if number % 500 == 499:
                await asyncio.sleep(0.03)  # commits come and are settled
                sizes.append(journal.stat().st_size)
        await log.close()

    run_async(main)()
    assert not (tmp_path / JOURNAL).exists()
    # 12 bytes an id: without rewriting, the journal would end at 360 000 bytes.
    assert 0 < max(sizes) < 128 * 1024, sizes
    assert len(logged_ids(tmp_path / LOG_NAME)) == count


# A process that appends alerts to a log with a window longer than its life, then dies.
CRASHING = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from pathlib import Path
    from kisalert.alertlog import AlertLog
    from tests.test_id_journal import alert

    async def main():
        log = AlertLog(Path(sys.argv[1]), "batched", commit_ms=60_000)
        log.open()
        for number in range(int(sys.argv[2])):
            log.append(alert(number))
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
    """
)


def test_ids_of_alerts_a_crash_lost_are_not_handed_out_again(tmp_path: Path) -> None:
    path = tmp_path / LOG_NAME
    lost = [alert(number) for number in range(200)]
    died = subprocess.run(
        [sys.executable, "-c", CRASHING, str(path), str(len(lost))],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert (tmp_path / JOURNAL).stat().st_size == 12 * len(lost)
    assert not logged_ids(path) & {a.alert_id for a in lost}

    async def main() -> None:
        log = AlertLog(path, "batched")
        log.open()
        try:
            for gone in lost:
                assert log.by_id(gone.alert_id) is None
                assert log.first_free(gone.alert_id) != gone.alert_id
            # One past the run of lost ids is free again.
            assert log.first_free(lost[0].alert_id) == lost[-1].alert_id + 1
            assert log.newest_us() >= lost[-1].timestamp_us
            assert (tmp_path / JOURNAL).stat().st_size == 0  # a new, empty journal
        finally:
            await log.close()

    run_async(main)()

    # Kept across a further restart, and with strict mode too.
    async def again() -> None:
        log = AlertLog(path, "strict")
        log.open()
        try:
            assert all(log.first_free(g.alert_id) != g.alert_id for g in lost)
        finally:
            await log.close()

    run_async(again)()
