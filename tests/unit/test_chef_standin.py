"""The recording chef stand-ins (tests/standins/chef) themselves: they record, and refuse what chef refuses."""

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


CLIENT_STANDIN = ROOT / "tests" / "standins" / "chef" / "chef-client"
KNIFE_STANDIN = ROOT / "tests" / "standins" / "chef" / "knife"


def run_tool(tool: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"CHEF_STANDIN_DIR": str(tmp / "log"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, str(tool), *args], capture_output=True, text=True, env=env, cwd=tmp)


def test_standin_chef_client_registers_and_knife_deletes(tmp_path: Path) -> None:
    (tmp_path / "validation.pem").write_text("VK\n")
    client_rb = tmp_path / "client.rb"
    header = f'chef_server_url  "https://chef.test"\nclient_key       "{tmp_path}/client.pem"\n'
    client_rb.write_text(
        f'\n{header}chef_license     "accept-silent"\nvalidation_key "{tmp_path}/validation.pem"\nnode_name "n1"\n'
    )
    (tmp_path / "first-boot.json").write_text('{"run_list": ["role[web]"]}')
    knife_rb = tmp_path / "knife.rb"
    knife_rb.write_text(f'{header}node_name "n1"\n')
    assert run_tool(KNIFE_STANDIN, tmp_path, "node", "delete", "n1", "-y", "-c", str(knife_rb)).returncode == 100
    done = run_tool(CLIENT_STANDIN, tmp_path, "--no-color", "-c", str(client_rb), "-j", "first-boot.json")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "client.pem").is_file()
    assert (tmp_path / "log/run-2/validation.pem").read_text() == "VK\n"
    assert (tmp_path / "log/run-2/client.rb").read_text() == client_rb.read_text()
    assert run_tool(KNIFE_STANDIN, tmp_path, "node", "delete", "n1", "-c", str(knife_rb)).returncode == 1  # no -y
    for kind in ("node", "client"):
        done = run_tool(KNIFE_STANDIN, tmp_path, kind, "delete", "n1", "-y", "-c", str(knife_rb))
        assert done.returncode == 0, done.stderr
    assert not list((tmp_path / "log/server").rglob("n1"))
    tools = [json.loads(line)["tool"] for line in (tmp_path / "log/calls.jsonl").read_text().splitlines()]
    assert tools == ["knife", "chef-client", "knife", "knife", "knife"]


def test_standin_chef_client_refuses_what_chef_client_refuses(tmp_path: Path) -> None:
    client_rb = tmp_path / "client.rb"
    client_rb.write_text(f'chef_server_url  "https://chef.test"\nclient_key "{tmp_path}/c.pem"\nnode_name "n"\n')
    assert run_tool(CLIENT_STANDIN, tmp_path, "-c", str(client_rb)).returncode == 172  # license not accepted
    client_rb.write_text(client_rb.read_text() + 'chef_license "accept"\n')
    done = run_tool(CLIENT_STANDIN, tmp_path, "-c", str(client_rb))
    assert done.returncode == 1 and "PrivateKeyMissing" in done.stderr
    assert run_tool(CLIENT_STANDIN, tmp_path, "--bogus").returncode == 2
    assert run_tool(CLIENT_STANDIN, tmp_path, "-c", str(tmp_path / "none.rb")).returncode == 1
