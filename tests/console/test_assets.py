"""The console's files: versioned by content, the index page filled in once."""

from __future__ import annotations

from kisalert.console.assets import Assets

FILES = {
    "index.html": b'<base href="{{base}}"><script src="static/{{version}}/js/main.js"></script>',
    "js/main.js": b"import './api.js';",
    "console.css": b"body{}",
    "notes.txt": b"not a console file type",
}


def test_the_index_gets_the_base_and_the_version() -> None:
    assets = Assets(FILES, "/p/")
    assert (
        assets.index
        == (f'<base href="/p/"><script src="static/{assets.version}/js/main.js"></script>').encode()
    )


def test_the_base_is_escaped_for_the_attribute() -> None:
    assets = Assets(FILES, '/a"b/')
    assert b'href="/a&quot;b/"' in assets.index


def test_files_are_served_only_under_the_current_version() -> None:
    assets = Assets(FILES, "/")
    asset = assets.get(assets.version, "js/main.js")
    assert asset is not None
    assert asset.body == b"import './api.js';"
    assert asset.content_type == "text/javascript; charset=utf-8"
    assert assets.get("0" * 16, "js/main.js") is None
    assert assets.get(assets.version, "index.html") is None
    assert assets.get(assets.version, "notes.txt") is None
    assert assets.get(assets.version, "../assets.py") is None


def test_any_change_to_any_file_is_a_new_version() -> None:
    before = Assets(FILES, "/").version
    assert Assets({**FILES, "console.css": b"body{color:red}"}, "/").version != before
    assert Assets({**FILES, "js/other.js": b""}, "/").version != before
    assert Assets(FILES, "/p/").version == before  # the base is not part of the files


def test_the_packaged_console_has_its_index_and_modules() -> None:
    assets = Assets.packaged("")
    assert b"{{" not in assets.index
    assert f"static/{assets.version}/".encode() in assets.index
    assert "js/main.js" in assets.files
    assert "console.css" in assets.files
