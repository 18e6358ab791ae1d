"""Silences on a real server: made in config and over the API, a silenced alert kept
and served but not forwarded, its hits counted, expiry, restarts, and the API's
answers to bad input (http/silences.py)."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import requests

from tests.forward.receivers import DatagramReceiver
from tests.forward.status import settled
from tests.http.helpers import define_fast, raise_ok
from tests.server import BASE_CONFIG, Server, wait_for

CREATE = "/forward/silences/create.cmd"
LIST = "/forward/silences/all_silences.json"
NOISY = "00:11:22:33:44:55"
QUIET = "66:77:88:99:AA:BB"


def expire_path(silence_id: str) -> str:
    return f"/forward/silences/by-id/{silence_id}/expire.cmd"


def create(server: Server, **args: Any) -> requests.Response:
    return server.command(CREATE, args)


def listed(server: Server) -> list[dict[str, Any]]:
    answer = server.get(LIST)
    assert answer.status_code == 200, answer.text
    records: list[dict[str, Any]] = answer.json()
    return records


def texts(peer: DatagramReceiver) -> list[str]:
    return [message.decode(errors="replace") for message in peer.messages]


def test_an_api_silence_keeps_alerts_from_the_outputs_and_counts_them(tmp_path: Path) -> None:
    with DatagramReceiver() as peer:
        config = BASE_CONFIG + f"forward=u:type=syslog,target=udp://127.0.0.1:{peer.port}\n"
        with Server(tmp_path, config) as server:
            define_fast(server, "SILTEST")
            before = time.time()
            made = create(
                server, bssid=NOISY, comment="the lab's test AP", duration="1h", header="SILTEST"
            )
            assert made.status_code == 200, made.text
            record = made.json()
            silence_id = record["kisalert.silence.id"]
            assert record == {
                "kisalert.silence.id": silence_id,
                "kisalert.silence.state": "active",
                "kisalert.silence.origin": "api",
                "kisalert.silence.matchers": {"header": "SILTEST", "transmitter": NOISY},
                "kisalert.silence.comment": "the lab's test AP",
                "kisalert.silence.created_by": "admin",
                "kisalert.silence.starts": record["kisalert.silence.starts"],
                "kisalert.silence.expires": record["kisalert.silence.starts"] + 3600,
                "kisalert.silence.hits": 0,
            }
            assert before <= record["kisalert.silence.starts"] <= time.time()
            raise_ok(server, "SILTEST", "noisy one", bssid=NOISY)
            raise_ok(server, "SILTEST", "quiet one", bssid=QUIET)
            raise_ok(server, "SILTEST", "noisy two", bssid=NOISY)
            raise_ok(server, "SILTEST", "quiet two", bssid=QUIET)
            mine = [a for a in server.alerts() if a["kismet.alert.header"] == "SILTEST"]
            # Kept and served as any alert is: the record does not change.
            assert [a["kismet.alert.text"] for a in mine] == [
                "noisy one", "quiet one", "noisy two", "quiet two"
            ]  # fmt: skip
            assert "kisalert.silence.id" not in str(mine)
            quiet_ids = [a["kismet.alert.hash"] for a in mine if "quiet" in a["kismet.alert.text"]]
            wait_for(lambda: set(quiet_ids) <= set(peer.ids()), what="the quiet alerts")
            forwarded = [t for t in texts(peer) if "SILTEST" in t]
            assert [t.rsplit(" ", 2)[-2:] for t in forwarded] == [
                ["quiet", "one"],
                ["quiet", "two"],
            ]
            assert wait_for(lambda: listed(server)[0]["kisalert.silence.hits"] == 2, what="hits")
            # Expired: the next noisy alert goes out.
            gone = server.post(expire_path(silence_id))
            assert gone.status_code == 200, gone.text
            assert gone.json()["kisalert.silence.state"] == "expired"
            raise_ok(server, "SILTEST", "noisy three", bssid=NOISY)
            wait_for(lambda: any("noisy three" in t for t in texts(peer)), what="noisy three")
            assert not any("noisy one" in t or "noisy two" in t for t in texts(peer))
            assert listed(server)[0]["kisalert.silence.state"] == "expired"


def test_silences_and_hits_outlive_a_restart_and_a_kill(tmp_path: Path) -> None:
    with DatagramReceiver() as peer:
        config = BASE_CONFIG + f"forward=u:type=syslog,target=udp://127.0.0.1:{peer.port}\n"
        with Server(tmp_path, config) as server:
            define_fast(server, "SILTEST")
            made = create(server, mac=NOISY, comment="c", expires=time.time() + 600)
            assert made.status_code == 200, made.text
            raise_ok(server, "SILTEST", "noisy", source=NOISY)
            wait_for(lambda: listed(server)[0]["kisalert.silence.hits"] == 1, what="a hit")
            # The hit is kept within a second or so: wait for the file, then kill.
            wait_for(lambda: b'"hits":{"' in (server.data_dir / "silences.json").read_bytes())
            server.stop(signal.SIGKILL)
        with Server(tmp_path, config) as server:
            define_fast(server, "SILTEST")
            [record] = listed(server)
            assert record["kisalert.silence.id"] == made.json()["kisalert.silence.id"]
            assert record["kisalert.silence.hits"] == 1
            raise_ok(server, "SILTEST", "noisy again", source=NOISY)
            raise_ok(server, "SILTEST", "quiet", source=QUIET)
            quiet = server.alerts()[-1]["kismet.alert.hash"]
            wait_for(lambda: quiet in peer.ids(), what="the quiet alert")
            assert not any("noisy" in t for t in texts(peer))
            wait_for(lambda: listed(server)[0]["kisalert.silence.hits"] == 2, what="2 hits")


def test_a_config_silence_holds_and_cannot_be_expired_over_the_api(tmp_path: Path) -> None:
    with DatagramReceiver() as peer:
        config = (
            BASE_CONFIG
            + f"forward=u:type=syslog,target=udp://127.0.0.1:{peer.port}\n"
            + 'silence=header=SILTEST,text="^noisy",comment="known, ticket 42"\n'
        )
        with Server(tmp_path, config) as server:
            define_fast(server, "SILTEST")
            [record] = listed(server)
            assert record["kisalert.silence.origin"] == "config"
            assert record["kisalert.silence.expires"] == 0
            assert record["kisalert.silence.matchers"] == {"header": "SILTEST", "text": "^noisy"}
            assert record["kisalert.silence.comment"] == "known, ticket 42"
            raise_ok(server, "SILTEST", "noisy")
            raise_ok(server, "SILTEST", "fine")
            settled(server, "u", len(server.alerts()) - 1)
            assert [t for t in texts(peer) if "SILTEST" in t][-1].endswith("SILTEST fine")
            answer = server.post(expire_path(record["kisalert.silence.id"]))
            assert answer.status_code == 409
            assert "silence= line" in answer.text


def test_a_bad_silence_line_stops_the_start_with_its_line_number(tmp_path: Path) -> None:
    config = BASE_CONFIG + "silence=bssid=nonsense,comment=x\n"
    try:
        Server(tmp_path, config).stop()
    except RuntimeError as exc:
        assert "kisalert.conf:3" in str(exc)
        assert "bssid needs a MAC address" in str(exc)
    else:
        raise AssertionError("the server started")


def test_bad_silence_commands_get_400_with_a_reason(shared_server: Server) -> None:
    for args, reason in (
        ({"comment": "c", "duration": 60}, "at least one matcher"),
        ({"header": "X", "duration": 60}, "needs a comment"),
        ({"header": "X", "comment": "c"}, "needs a duration or expires"),
        ({"bssid": "zz", "comment": "c", "duration": 60}, "needs a MAC address"),
        ({"header": ["X"], "comment": "c", "duration": 60}, "must be a string"),
        ({"header": "X", "comment": "c", "duration": "forever"}, "duration needs"),
    ):
        answer = shared_server.command(CREATE, args)
        assert answer.status_code == 400, (args, answer.text)
        assert reason in answer.text


def test_unknown_silences_are_404(shared_server: Server) -> None:
    for silence_id in ("0" * 32, "nonsense", "cfg-0000000000000000"):
        answer = shared_server.post(expire_path(silence_id))
        assert answer.status_code == 404, answer.text


def test_silences_are_for_admins(shared_server: Server) -> None:
    token = shared_server.command(
        "/auth/apikey/generate.cmd", {"name": "silence-viewer", "role": "readonly", "duration": 0}
    ).text.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    answer = requests.get(shared_server.url + LIST, headers=bearer, timeout=10)
    assert answer.status_code == 403
    answer = requests.post(
        shared_server.url + CREATE,
        data={"json": '{"header": "X", "comment": "c", "duration": 60}'},
        headers=bearer,
        timeout=10,
    )
    assert answer.status_code == 403
    assert requests.get(shared_server.url + LIST, timeout=10).status_code == 401
