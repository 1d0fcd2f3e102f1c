"""The recording chef-solo stand-in (tests/standins/chef) itself: it records, and refuses what chef-solo refuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ..conftest import ROOT

STANDIN = ROOT / "tests" / "standins" / "chef" / "chef-solo"


def run_standin(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"CHEF_STANDIN_DIR": str(tmp / "log"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, str(STANDIN), *args], capture_output=True, text=True, env=env, cwd=tmp)


def make_solo(tmp: Path, license: str = "accept-silent", run_list: list[str] | None = None) -> tuple[Path, Path]:
    (tmp / "cb/db/recipes").mkdir(parents=True)
    (tmp / "cb/db/recipes/server.rb").write_text("package 'postgresql'\n")
    (tmp / "cb/app/recipes").mkdir(parents=True)
    (tmp / "cb/app/recipes/default.rb").write_text("")
    (tmp / "roles").mkdir()
    (tmp / "roles/db.json").write_text(json.dumps({"run_list": ["recipe[db::server]", "role[app]"]}))
    (tmp / "roles/app.rb").write_text('name "app"\nrun_list "recipe[app]"\n')
    solo = tmp / "solo.rb"
    solo.write_text(f'\nchef_license \t\t"{license}"\ncookbook_path \t["{tmp}/cb"]\n\nrole_path\t\t"{tmp}/roles"\n\n')
    node = tmp / "node.json"
    node.write_text(json.dumps({"run_list": run_list if run_list is not None else ["role[db]"]}))
    return solo, node


def test_standin_chef_solo_records_and_expands_roles(tmp_path: Path) -> None:
    solo, node = make_solo(tmp_path)
    done = run_standin(tmp_path, "--no-color", "-c", str(solo), "-j", str(node))
    assert done.returncode == 0, done.stderr
    assert "Run List expands to [db::server, app::default]" in done.stdout
    calls = (tmp_path / "log/calls.jsonl").read_text().splitlines()
    assert json.loads(calls[0])["argv"] == ["--no-color", "-c", str(solo), "-j", str(node)]
    assert (tmp_path / "log/run-1/solo.rb").read_text() == solo.read_text()
    assert (tmp_path / "log/run-1/node.json").read_text() == node.read_text()


def test_standin_chef_solo_refuses_what_chef_refuses(tmp_path: Path) -> None:
    solo, node = make_solo(tmp_path, run_list=["recipe[missing]"])
    assert run_standin(tmp_path, "--bogus").returncode == 2
    done = run_standin(tmp_path, "-c", str(solo), "-j", str(node))
    assert done.returncode == 1
    assert "Cookbook missing not found" in done.stderr
    node.write_text(json.dumps({"run_list": ["role[nope]"]}))
    assert "RoleNotFound" in run_standin(tmp_path, "-c", str(solo), "-j", str(node)).stderr
    node.write_text(json.dumps({"run_list": ["recipe[db::client]"]}))
    assert "could not find recipe client" in run_standin(tmp_path, "-c", str(solo), "-j", str(node)).stderr
    node.write_text("{not json")
    assert run_standin(tmp_path, "-c", str(solo), "-j", str(node)).returncode == 1
    solo.write_text(solo.read_text().replace("accept-silent", ""))
    node.write_text("{}")
    assert run_standin(tmp_path, "-c", str(solo), "-j", str(node)).returncode == 172
