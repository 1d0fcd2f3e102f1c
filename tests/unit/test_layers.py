"""The layer cache without a daemon: keys, the store's atomic writes and checks, prune's choices."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from imagesmith.errors import UsageError
from imagesmith.layers.keys import base_key, hash_path, provisioner_key, uncacheable_reason
from imagesmith.layers.prune import Listed, choose_victims, list_entries, parse_age, parse_size
from imagesmith.layers.session import format_age
from imagesmith.layers.store import CorruptEntry, Entry, LayerStore


@dataclass(frozen=True)
class ShellLike:
    inline: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    password: str = ""


def entry(key: str = "a" * 64, **kw: object) -> Entry:
    values: dict[str, object] = {
        "key": key,
        "kind": "docker-image",
        "ref": "imagesmith-layers:x",
        "builder": "docker",
        "position": 1,
        "provisioner": "shell",
        "created": 1000.0,
        "size": 10,
    }
    values.update(kw)
    return Entry(**values)  # type: ignore[arg-type]


def test_key_depends_on_previous_layer_config_and_extra() -> None:
    base = base_key("docker", {"image_id": "sha256:1"})
    assert base != base_key("docker", {"image_id": "sha256:2"})
    key = provisioner_key(base, "shell", ShellLike(inline=["echo 1"]))
    assert key == provisioner_key(base, "shell", ShellLike(inline=["echo 1"]))
    assert key != provisioner_key(base, "shell", ShellLike(inline=["echo 2"]))
    assert key != provisioner_key(base_key("docker", {}), "shell", ShellLike(inline=["echo 1"]))
    assert key != provisioner_key(base, "shell", ShellLike(inline=["echo 1"]), extra="mirror 2026-12-01")


def test_key_covers_the_contents_of_local_scripts_and_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("s.sh").write_text("echo one\n")
    config = ShellLike(scripts=["s.sh"])
    first = provisioner_key("0", "shell", config)
    Path("s.sh").write_text("echo two\n")
    assert provisioner_key("0", "shell", config) != first
    Path("d").mkdir()
    Path("d/f").write_text("x")
    before = hash_path(Path("d"))
    os.chmod("d/f", 0o755)
    assert hash_path(Path("d")) != before
    Path("d/g").write_text("")
    assert hash_path(Path("d")) != before


def test_secrets_reach_keys_only_hashed(tmp_path: Path) -> None:
    key = provisioner_key("0", "shell", ShellLike(password="hunter2-secret"))
    assert "hunter2" not in key
    store = LayerStore(tmp_path)
    assert store.write(entry(key))
    stored = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert "hunter2" not in stored


def test_uncacheable_provisioners_end_the_chain() -> None:
    assert uncacheable_reason("shell", ShellLike(), True) == ""
    assert "cache" in uncacheable_reason("shell", ShellLike(), False)
    assert uncacheable_reason("shell-local", ShellLike(), True)
    assert uncacheable_reason("breakpoint", ShellLike(), True)
    assert uncacheable_reason("file", {"direction": "download"}, True)
    assert uncacheable_reason("file", {"direction": "upload"}, True) == ""


def test_store_round_trip_and_duplicate(tmp_path: Path) -> None:
    store = LayerStore(tmp_path)
    assert store.read("a" * 64) is None
    assert store.write(entry())
    assert store.read("a" * 64) == entry()
    assert not store.write(entry(size=99))  # an entry is never overwritten
    assert store.read("a" * 64) == entry()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_corrupted_entry_is_detected(tmp_path: Path) -> None:
    store = LayerStore(tmp_path)
    store.write(entry())
    path = tmp_path / "layers" / ("a" * 64) / "entry.json"
    data = json.loads(path.read_text())
    data["ref"] = "imagesmith-layers:other"
    path.write_text(json.dumps(data))
    with pytest.raises(CorruptEntry, match="checksum"):
        store.read("a" * 64)
    path.write_text("{not json")
    with pytest.raises(CorruptEntry, match="unreadable"):
        store.read("a" * 64)
    assert [item.problem != "" for item in list_entries(store)] == [True]


def test_interrupted_write_never_becomes_an_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LayerStore(tmp_path)

    def interrupted(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.write(entry())
    monkeypatch.undo()
    assert store.read("a" * 64) is None
    assert store.entry_keys() == []
    assert list((tmp_path / "tmp").iterdir()) == []


def test_prune_choices() -> None:
    now = 10_000.0
    old = Listed("o", entry("o", size=5), now - 9000)
    new = Listed("n", entry("n", size=5), now - 10)
    mid = Listed("m", entry("m", size=5), now - 100)
    broken = Listed("b", None, now, "checksum mismatch")
    items = [old, new, mid, broken]
    assert choose_victims(items, max_size=None, older_than=3600, now=now) == [old, broken]
    assert choose_victims(items, max_size=5, older_than=None, now=now) == [broken, old, mid]
    assert choose_victims(items, max_size=None, older_than=None, now=now) == [broken]


def test_sizes_ages_and_their_errors() -> None:
    assert parse_size("20G") == 20 << 30
    assert parse_size("512m") == 512 << 20
    assert parse_size("1000") == 1000
    assert parse_age("7d") == 7 * 86400
    assert parse_age("1h30m") == 5400
    for bad in ("", "20X", "-1G"):
        with pytest.raises(UsageError):
            parse_size(bad)
    for bad in ("", "7", "d7", "7days"):
        with pytest.raises(UsageError):
            parse_age(bad)
    assert format_age(7200) == "2 h"
    assert format_age(59) == "59 s"
    assert format_age(time.time() - time.time()) == "0 s"


def test_builds_share_the_cache_and_prune_waits_for_them(tmp_path: Path) -> None:
    store = LayerStore(tmp_path)
    waiting = threading.Event()
    got_it = threading.Event()

    def prune() -> None:
        with store.using(exclusive=True, on_wait=waiting.set):
            got_it.set()

    with store.using():
        with store.using():  # two builds at once
            pass
        thread = threading.Thread(target=prune)
        thread.start()
        assert waiting.wait(timeout=60)
        assert not got_it.is_set()
    thread.join(timeout=60)
    assert got_it.is_set()


def test_cache_meta_keys_are_split_off_and_checked(tmp_path: Path) -> None:
    import imagesmith
    from imagesmith.errors import TemplateError

    def template(**meta: object) -> str:
        path = tmp_path / "t.json"
        provisioner = {"type": "shell", "inline": ["true"], **meta}
        path.write_text(
            json.dumps({"builders": [{"type": "null", "communicator": "none"}], "provisioners": [provisioner]})
        )
        return str(path)

    imagesmith.validate(template(cache=False, cache_key_extra="{{user `d`}}"), vars={"d": "2026"})
    with pytest.raises(TemplateError, match=r"provisioners\[0\].cache"):
        imagesmith.validate(template(cache="no"))
    with pytest.raises(TemplateError, match="unknown configuration key"):  # other keys still checked
        imagesmith.validate(template(cache=True, cachee=1))


def test_cache_flag_and_command_usage_errors(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    env = {"IMAGESMITH_CACHE_DIR": str(tmp_path / "cache")}
    bad = run_cli("build", "-cache=sometimes", "t.json", cwd=tmp_path, env=env)
    assert bad.returncode == 1 and 'invalid value "sometimes" for flag -cache' in bad.stderr
    missing = run_cli("cache", env=env)
    assert missing.returncode == 1 and "expected an action: list, prune or clear" in missing.stderr
    wrong = run_cli("cache", "list", "-max-size", "1G", env=env)
    assert wrong.returncode == 1 and "go with prune" in wrong.stderr
    empty = run_cli("cache", "list", env=env)
    assert empty.returncode == 0 and "0 entries" in empty.stdout
    for done in (bad, missing, wrong, empty):
        assert "Traceback" not in done.stderr
