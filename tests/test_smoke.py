from tests.server import Server


def test_define_raise_read(server: Server) -> None:
    assert server.define("MYALERT").status_code == 200
    response = server.raise_alert("MYALERT", "hello", bssid="aa:bb:cc:dd:ee:ff", channel="6")
    assert response.status_code == 200, response.text
    assert response.text == "Alert raised\n"
    mine = [a for a in server.alerts() if a["kismet.alert.header"] == "MYALERT"]
    assert len(mine) == 1
    assert mine[0]["kismet.alert.transmitter_mac"] == "AA:BB:CC:DD:EE:FF"
