"""The runner: in order, in batches; filter and cap before the output; retries with
backoff; partial sends and give-ups; one message on failing, one on recovering."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import pytest

from kisalert.alert import Alert
from kisalert.bus import Bus
from kisalert.clock import SystemClock
from kisalert.forward.base import Outcome
from kisalert.forward.runner import FAILING, OK, Runner, backoff
from kisalert.forward.source import QueueSource
from kisalert.forward.spec import parse_spec, settings
from kisalert.messages import MessageBus
from tests.forward.alerts import make_alert

Script = Callable[[Sequence[Alert]], Awaitable[Outcome]]


class FakeOutput:
    """Records each batch it is given and answers as `script` says (default: all
    delivered)."""

    def __init__(self, *script: Outcome | Script) -> None:
        self.name = "fake"
        self.batches: list[list[int]] = []
        self._script = list(script)
        self.closed = 0

    async def send(self, batch: Sequence[Alert]) -> Outcome:
        self.batches.append([alert.alert_id for alert in batch])
        if not self._script:
            return Outcome.delivered(len(batch))
        step = self._script.pop(0)
        if isinstance(step, Outcome):
            return step
        return await step(batch)

    async def close(self) -> None:
        self.closed += 1

    def sent_ids(self) -> list[int]:
        return [alert_id for batch in self.batches for alert_id in batch]


class Rig:
    def __init__(self, output: FakeOutput, options: str = "") -> None:
        spec = parse_spec(f"fake:type=syslog,target=udp://h:1,retry_max=0.1,timeout=0.2{options}")
        self.output = output
        self.source = QueueSource(settings(spec).queue)
        self.messagebus = MessageBus(Bus(), SystemClock())
        self.runner = Runner(
            output, "syslog", settings(spec), self.source, self.messagebus, random.Random(1)
        )

    def put(self, *alerts: Alert) -> None:
        for alert in alerts:
            self.source.put(alert)
        self.runner.wake()

    def messages(self) -> list[str]:
        return [message.text for message in self.messagebus.all()]

    async def until(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not check():
                await asyncio.sleep(0.005)


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


def test_batches_in_order_as_alerts_arrive() -> None:
    async def test() -> None:
        rig = Rig(FakeOutput())
        rig.put(*[make_alert(n) for n in range(150)])
        rig.runner.start()
        await rig.until(lambda: rig.runner.delivered == 150)
        assert [len(batch) for batch in rig.output.batches] == [100, 50]
        rig.put(make_alert(150))
        await rig.until(lambda: rig.runner.delivered == 151)
        assert rig.output.sent_ids() == list(range(1000, 1151))
        assert rig.runner.record()["kisalert.forward.backlog"] == 0
        await rig.runner.stop()
        assert rig.output.closed == 1

    run(test)


def test_retries_until_delivered_with_one_message_each_way() -> None:
    async def test() -> None:
        down = Outcome.retry("peer: Connection refused")
        rig = Rig(FakeOutput(down, down, down))
        rig.put(make_alert(0), make_alert(1))
        rig.runner.start()
        await rig.until(lambda: rig.runner.state == FAILING)
        assert rig.runner.last_error == "peer: Connection refused"
        await rig.until(lambda: rig.runner.delivered == 2)
        assert rig.runner.state == OK
        assert rig.output.batches == [[1000, 1001]] * 4
        assert rig.messages() == [
            "forward fake: failing, will retry: peer: Connection refused",
            "forward fake: delivering again after 3 failed attempts",
        ]
        record = rig.runner.record()
        assert (record["kisalert.forward.failed"], record["kisalert.forward.last_error"]) == (
            0,
            "peer: Connection refused",
        )
        await rig.runner.stop()

    run(test)


def test_a_partial_send_is_not_repeated() -> None:
    async def test() -> None:
        rig = Rig(FakeOutput(Outcome.retry("broke after two", sent=2)))
        rig.put(*[make_alert(n) for n in range(4)])
        rig.runner.start()
        await rig.until(lambda: rig.runner.delivered == 4)
        assert rig.output.batches == [[1000, 1001, 1002, 1003], [1002, 1003]]
        await rig.runner.stop()

    run(test)


def test_a_give_up_skips_those_alerts_and_goes_on() -> None:
    async def test() -> None:
        rig = Rig(FakeOutput(Outcome.give_up("400 Bad Request", sent=1)))
        rig.put(*[make_alert(n) for n in range(3)])
        rig.runner.start()
        await rig.until(lambda: rig.runner.failed == 2)
        rig.put(make_alert(3))
        await rig.until(lambda: rig.runner.delivered == 2)
        assert rig.output.batches == [[1000, 1001, 1002], [1003]]
        assert rig.runner.state == OK
        assert rig.messages() == ["forward fake: gave up on 2 alerts: 400 Bad Request"]
        await rig.runner.stop()

    run(test)


def test_a_peer_that_took_part_of_a_batch_after_failing_is_delivering_again() -> None:
    async def test() -> None:
        refused = Outcome.give_up("HTTP 404 Not Found", sent=2)
        rig = Rig(FakeOutput(Outcome.retry("HTTP 500"), refused))
        rig.put(*[make_alert(n) for n in range(3)])
        rig.runner.start()
        await rig.until(lambda: rig.runner.failed == 1)
        assert (rig.runner.delivered, rig.runner.state) == (2, OK)
        assert rig.messages() == [
            "forward fake: failing, will retry: HTTP 500",
            "forward fake: gave up on 1 alert: HTTP 404 Not Found",
            "forward fake: delivering again after 1 failed attempt",
        ]
        await rig.runner.stop()

    run(test)


def test_filter_then_cap_before_the_output() -> None:
    async def test() -> None:
        rig = Rig(FakeOutput(), ",min_severity=HIGH,rate=2/hr")
        severities = [15, 5, 20, 15, 10, 20]
        rig.put(*[make_alert(n, severity=s) for n, s in enumerate(severities)])
        rig.runner.start()
        await rig.until(lambda: rig.source.backlog() == 0)
        assert rig.output.sent_ids() == [1000, 1002]
        assert (rig.runner.delivered, rig.runner.held_back) == (2, 2)
        await rig.runner.stop()

    run(test)


def test_a_send_that_hangs_is_timed_out_and_retried() -> None:
    async def hang(batch: Sequence[Alert]) -> Outcome:
        await asyncio.sleep(60)
        raise AssertionError("not cancelled")

    async def test() -> None:
        rig = Rig(FakeOutput(hang))
        rig.put(make_alert(0))
        rig.runner.start()
        await rig.until(lambda: rig.runner.delivered == 1)
        assert rig.runner.last_error == "no answer within 0.2 s"
        assert rig.output.closed == 1  # the half-done connection is let go
        await rig.runner.stop()

    run(test)


def test_an_output_that_raises_is_retried_not_fatal() -> None:
    async def bug(batch: Sequence[Alert]) -> Outcome:
        raise KeyError("oops")

    async def test() -> None:
        rig = Rig(FakeOutput(bug))
        rig.put(make_alert(0))
        rig.runner.start()
        await rig.until(lambda: rig.runner.delivered == 1)
        assert rig.runner.last_error == "internal error in the output: KeyError('oops')"
        await rig.runner.stop()

    run(test)


def test_a_full_queue_drops_the_oldest_and_counts() -> None:
    source = QueueSource(3)
    for n in range(5):
        source.put(make_alert(n))
    assert source.dropped == 2
    assert [alert.alert_id for alert in source.read(10)] == [1002, 1003, 1004]
    assert source.backlog() == 3
    asyncio.run(source.done(make_alert(3)))
    assert source.backlog() == 1


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 8, 40])
def test_backoff_doubles_up_to_the_cap_with_jitter(attempt: int) -> None:
    rng = random.Random(attempt)
    full = min(60.0, 0.5 * 2 ** (attempt - 1))
    delays = [backoff(attempt, 60.0, rng) for _ in range(50)]
    assert all(full / 2 <= delay <= full for delay in delays)
    assert len(set(delays)) > 1


class FlakySource(QueueSource):
    """A queue whose first read fails, as a locked or damaged log would."""

    def __init__(self) -> None:
        super().__init__(10)
        self.failures = 1

    def read(self, limit: int) -> list[Alert]:
        if self.failures:
            self.failures -= 1
            raise OSError("disk I/O error")
        return super().read(limit)


def test_a_failed_read_is_retried() -> None:
    async def test() -> None:
        rig = Rig(FakeOutput())
        rig.source = rig.runner.source = FlakySource()
        rig.put(make_alert(0))
        rig.runner.start()
        await rig.until(lambda: rig.runner.delivered == 1)
        assert rig.runner.last_error == "cannot read the alert log: disk I/O error"
        assert rig.messages()[0] == (
            "forward fake: failing, will retry: cannot read the alert log: disk I/O error"
        )
        await rig.runner.stop()

    run(test)


@pytest.mark.parametrize(
    ("window", "batches"),
    [("0", [[1000], [1001, 1002, 1003]]), ("0.3", [[1000, 1001, 1002, 1003]])],
)
def test_a_window_gathers_what_comes_after_the_first_alert_into_one_batch(
    window: str, batches: list[list[int]]
) -> None:
    async def test() -> None:
        rig = Rig(FakeOutput(), f",window={window}")
        rig.put(just_raised(0))
        rig.runner.start()
        await rig.until(lambda: not rig.source._queue)  # taken: sent, or waiting
        rig.put(*[just_raised(n) for n in range(1, 4)])
        await rig.until(lambda: rig.runner.delivered == 4)
        assert rig.output.batches == batches
        await rig.runner.stop()

    run(test)


def just_raised(n: int) -> Alert:
    """The `n`th alert of a test, stamped now: a window counts from the raise."""
    alert = make_alert(n)
    return Alert(alert.record | {"kismet.alert.timestamp": time.time()})


def test_a_backlog_older_than_the_window_goes_out_at_once() -> None:
    async def test() -> None:
        # Raised an hour ago (an output that was down): no window to wait out.
        rig = Rig(FakeOutput(), ",window=3600")
        rig.put(*[make_alert(n) for n in range(1500)])
        rig.runner.start()
        await rig.until(lambda: rig.runner.delivered == 1500)
        assert [len(batch) for batch in rig.output.batches] == [1000, 500]
        await rig.runner.stop()

    run(test)


def test_a_window_holds_at_most_its_limit_and_filtered_alerts_start_none() -> None:
    async def test() -> None:
        rig = Rig(FakeOutput(), ",window=0.01,min_severity=HIGH")
        rig.put(*[make_alert(n, severity=15 if n % 2 else 5) for n in range(4000)])
        rig.runner.start()
        await rig.until(lambda: rig.runner.delivered == 2000)
        assert [len(batch) for batch in rig.output.batches] == [1000, 1000]
        assert rig.output.sent_ids() == list(range(1001, 5000, 2))
        await rig.runner.stop()
        # Nothing to send: no window to wait out, however long it is.
        quiet = Rig(FakeOutput(), ",window=3600,min_severity=HIGH")
        quiet.put(*[make_alert(n, severity=5) for n in range(3)])
        quiet.runner.start()
        await quiet.until(lambda: quiet.source.backlog() == 0)
        assert quiet.output.batches == []
        await quiet.runner.stop()

    run(test)
