"""OUTPUTS, the one table from `type=` to an output: each kind builds from its required
options alone, keeps clear of the runner's options (its defaults for them are usable
ones), and is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from kisalert.forward import OUTPUTS
from kisalert.forward.base import OutputSpec
from kisalert.forward.spec import RUNNER_OPTIONS, settings

DOC = (Path(__file__).parents[2] / "docs" / "forwarding.md").read_text(encoding="utf-8")
# A usable value of each required option, for building without a peer.
SAMPLES = {
    "target": "udp://127.0.0.1:514",
    "url": "https://hooks.example/x",
    "broker": "mqtt://127.0.0.1:1883",
    "smtp": "smtp://127.0.0.1:25",
    "from": "kisalert@example.net",
    "to": "soc@example.net",
}


@pytest.mark.parametrize("kind", sorted(OUTPUTS))
def test_each_kind_builds_from_its_required_options(kind: str) -> None:
    found = OUTPUTS[kind]
    assert found.required <= found.options
    options = {key: SAMPLES[key] for key in found.required}
    output = found.build(OutputSpec("sample", kind, options))
    assert output.name == "sample"


@pytest.mark.parametrize("kind", sorted(OUTPUTS))
def test_a_kind_never_shadows_a_runner_option(kind: str) -> None:
    assert not OUTPUTS[kind].options & RUNNER_OPTIONS


@pytest.mark.parametrize("kind", sorted(OUTPUTS))
def test_a_kinds_defaults_are_usable_runner_options(kind: str) -> None:
    found = OUTPUTS[kind]
    assert set(found.defaults) <= RUNNER_OPTIONS - {"type"}
    options = {key: SAMPLES[key] for key in found.required}
    settings(OutputSpec("sample", kind, options))  # raises SpecError if one is not


@pytest.mark.parametrize("kind", sorted(OUTPUTS))
def test_each_kind_and_its_options_are_documented(kind: str) -> None:
    assert f"`type={kind}`" in DOC
    for option in sorted(OUTPUTS[kind].options | RUNNER_OPTIONS):
        assert f"`{option}=" in DOC, option
