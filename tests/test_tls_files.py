"""`kisalert serve --tls-cert --tls-key` with a pair that cannot serve: one line, exit 2,
before anything is announced (and before a first start stores a login nobody was shown)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import requests

from tests.certs import self_signed
from tests.file_modes import obeying_file_modes
from tests.server import free_port
from tests.test_cli import serving

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="openssl is needed to make test certificates"
)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("tls-files")
    cert, key = self_signed(where, "one-")
    _, other_key = self_signed(where, "two-")
    encrypted = where / "encrypted-key.pem"
    subprocess.run(
        ["openssl", "pkey", "-in", str(key), "-aes256", "-passout", "pass:secret",
         "-out", str(encrypted)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    junk = where / "junk.pem"
    junk.write_text("this is no PEM file\n")
    return {"cert": cert, "key": key, "other_key": other_key, "encrypted": encrypted, "junk": junk}


def serve(
    tmp_path: Path, cert: Path, key: Path, prefix: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """A first start (no login yet) that should refuse the pair and return on its own,
    run through `prefix` if one is given."""
    port = free_port()
    args = [*prefix, sys.executable, "-m", "kisalert", "serve"]
    args += ["--data-dir", str(tmp_path / "data")]
    args += ["--listen", f"127.0.0.1:{port}", "--tls-cert", str(cert), "--tls-key", str(key)]
    # A new session has no controlling terminal: a passphrase prompt fails instead of
    # waiting for someone to type.
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
        start_new_session=True,
    )


def refusal(tmp_path: Path, cert: Path, key: Path, prefix: Sequence[str] = ()) -> str:
    """The one line a refused pair prints; checks the exit status and the silence around it."""
    result = serve(tmp_path, cert, key, prefix)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("kisalert: "), lines[0]
    assert "listening" not in result.stdout
    # A generated password would have been stored without ever being shown.
    assert not (tmp_path / "data" / "admin_login.json").exists()
    return lines[0]


def test_swapped_cert_and_key_are_named(tmp_path: Path, pairs: dict[str, Path]) -> None:
    line = refusal(tmp_path, pairs["key"], pairs["cert"])
    assert line == (
        f"kisalert: --tls-cert {pairs['key']} is not a PEM certificate "
        "(did you swap --tls-cert and --tls-key?)"
    )


def test_a_key_of_another_certificate(tmp_path: Path, pairs: dict[str, Path]) -> None:
    line = refusal(tmp_path, pairs["cert"], pairs["other_key"])
    assert line == (
        f"kisalert: the key in {pairs['other_key']} does not match "
        f"the certificate in {pairs['cert']}"
    )


def test_an_encrypted_key_is_refused_without_a_prompt(
    tmp_path: Path, pairs: dict[str, Path]
) -> None:
    line = refusal(tmp_path, pairs["cert"], pairs["encrypted"])
    assert line == (
        f"kisalert: --tls-key {pairs['encrypted']} is encrypted; kisalert needs an unencrypted key"
    )


def test_files_that_are_not_pem(tmp_path: Path, pairs: dict[str, Path]) -> None:
    line = refusal(tmp_path, pairs["junk"], pairs["key"])
    assert line == f"kisalert: --tls-cert {pairs['junk']} is not a PEM certificate"
    line = refusal(tmp_path, pairs["cert"], pairs["junk"])
    assert line == f"kisalert: --tls-key {pairs['junk']} is not a PEM private key"
    line = refusal(tmp_path, pairs["cert"], pairs["cert"])
    assert line == (
        f"kisalert: --tls-key {pairs['cert']} is not a PEM private key (it holds a certificate)"
    )


def test_an_unreadable_file(tmp_path: Path, pairs: dict[str, Path]) -> None:
    key = tmp_path / "key.pem"
    shutil.copy(pairs["key"], key)
    key.chmod(0)
    # As root, without the capabilities that would let it read the key anyway.
    line = refusal(tmp_path, pairs["cert"], key, obeying_file_modes())
    assert line == f"kisalert: cannot read --tls-key {key}: Permission denied"


def test_one_file_holding_both_still_serves_https(tmp_path: Path, pairs: dict[str, Path]) -> None:
    """The checks refuse only what cannot serve: a certificate and its key in one
    file, given to both options, is a pair."""
    both = tmp_path / "both.pem"
    both.write_bytes(pairs["cert"].read_bytes() + pairs["key"].read_bytes())
    port = free_port()
    args = ["--data-dir", str(tmp_path / "data"), "--listen", f"127.0.0.1:{port}"]
    args += ["--tls-cert", str(both), "--tls-key", str(both)]
    with serving(tmp_path, args, "127.0.0.1", port):
        assert f"https://127.0.0.1:{port}/" in (tmp_path / "serve-stdout.txt").read_text()
        url = f"https://127.0.0.1:{port}/session/check_setup_ok"
        # Connection: close, or requests keeps the connection open after the `with`, and
        # the stop waits out uvicorn's 5 s graceful timeout for the idle TLS connection.
        close = {"Connection": "close"}
        with requests.get(url, verify=str(pairs["cert"]), headers=close, timeout=10) as response:
            assert response.status_code == 200
