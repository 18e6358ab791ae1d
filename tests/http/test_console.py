"""Serving the console: the page at `/`, its versioned files, its security headers."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import requests

from tests.server import BASE_CONFIG, Server

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
ASSET = re.compile(r'(?:src|href)="(static/[0-9a-f]{16}/[^"]+)"')
IMPORT = re.compile(r"""(?:from|import)\s*['"](\./[^'"]+|\.\./[^'"]+)['"]""")


def _page(server: Server, path: str = "/") -> requests.Response:
    return requests.get(server.url + path, timeout=10)  # no login


def test_the_console_is_served_at_the_root_without_a_login(shared_server: Server) -> None:
    response = _page(shared_server)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-cache"
    assert '<base href="/">' in response.text
    assert "<script>" not in response.text  # no inline script: the CSP would block it
    assert " style=" not in response.text


def test_every_file_the_page_and_its_modules_name_is_served(shared_server: Server) -> None:
    index = _page(shared_server).text
    pending = ASSET.findall(index)
    assert any(path.endswith(".js") for path in pending)
    assert any(path.endswith(".css") for path in pending)
    seen: set[str] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        response = _page(shared_server, "/" + path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-security-policy"] == CSP
        if path.endswith(".js"):
            assert response.headers["content-type"] == "text/javascript; charset=utf-8"
            folder = path.rpartition("/")[0]
            for module in IMPORT.findall(response.text):
                pending.append(posixpath.normpath(posixpath.join(folder, module)))
        elif path.endswith(".css"):
            assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert len(seen) > 3


def test_a_file_of_another_version_or_none_is_404(shared_server: Server) -> None:
    index = _page(shared_server).text
    real = ASSET.findall(index)[0]
    version = real.split("/")[1]
    stale = real.replace(version, "0123456789abcdef")
    for path in (stale, f"static/{version}/nothing.js", f"static/{version}/../index.html"):
        response = _page(shared_server, "/" + path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "reload the page" in _page(shared_server, "/" + stale).text


def test_the_page_does_not_change_state(shared_server: Server) -> None:
    assert requests.post(shared_server.url + "/", timeout=10).status_code == 405


def test_under_a_uri_prefix_the_page_resolves_everything_below_it(tmp_path: Path) -> None:
    with Server(tmp_path, BASE_CONFIG + "httpd_uri_prefix=/kis/\n") as server:
        page = _page(server, "/kis/")
        assert page.status_code == 200
        assert '<base href="/kis/">' in page.text
        asset = ASSET.findall(page.text)[0]
        assert _page(server, "/kis/" + asset).status_code == 200
        assert _page(server, "/" + asset).status_code == 404
        assert _page(server, "/").status_code == 404


def test_httpd_console_false_serves_only_the_api(tmp_path: Path) -> None:
    with Server(tmp_path, BASE_CONFIG + "httpd_console=false\n") as server:
        root = _page(server)
        assert root.status_code == 404
        assert "the API lives under" in root.text
        assert server.get("/system/timestamp.json").status_code == 200
