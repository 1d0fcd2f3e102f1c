"""The file provisioner's config rules and path arithmetic (no machine needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from imagesmith.errors import Problem
from imagesmith.provisioners.file import FileConfig, download_target
from imagesmith.template.decode import decode_config


def problems_of(raw: dict[str, Any]) -> list[str]:
    problems: list[Problem] = []
    decode_config(FileConfig, raw, render=None, path="", problems=problems)
    return [p.message for p in problems]


def test_valid_upload(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x")
    assert problems_of({"source": str(tmp_path / "a"), "destination": "/tmp/a"}) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"destination": "/x"}, "Source must be specified."),
        ({"source": "/etc/hostname"}, "Destination must be specified."),
        ({"source": "/nope", "destination": "/x"}, "Bad source '/nope': stat /nope: no such file or directory"),
        ({"source": "/etc/hostname", "destination": "/x", "direction": "sideways"}, "Direction must be one of"),
        (
            {"sources": ["/etc/hostname", "/etc/passwd"], "destination": "/x"},
            "Destination must be a directory when specifying multiple sources",
        ),
    ],
)
def test_config_errors(raw: dict[str, Any], message: str) -> None:
    assert any(p.startswith(message) for p in problems_of(raw)), problems_of(raw)


def test_generated_and_download_skip_the_existence_check() -> None:
    assert problems_of({"source": "/nope", "destination": "/x", "generated": True}) == []
    assert problems_of({"source": "/remote/only", "destination": "/x", "direction": "download"}) == []


def test_download_targets() -> None:
    assert download_target("/etc/passwd", "out/passwd") == ("out/passwd", "out")
    assert download_target("/etc/passwd", "out/") == ("out/passwd", "out/")
    assert download_target("/etc/", "out/") == ("out/", "out/")
    assert download_target("/etc/*", "out/") == ("out/", "out/")
