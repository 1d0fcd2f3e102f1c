"""The example third-party plugin, examples/plugin-hello, installed with pip into a fresh venv.

The venv sees this checkout's imagesmith and its dependencies through a ``.pth`` file (installing
imagesmith again would only repeat CI's own install) and gets the plugin by a real ``pip install``
of the example directory, so the plugin's entry points come from its installed metadata exactly
as a user's would. Creating the venv and installing takes about 30 s on a loaded 2-core machine,
most of it pip preparing the isolated build environment (setuptools, wheel: from pip's cache).
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import tarfile
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]
EXAMPLE = ROOT / "examples" / "plugin-hello"


@pytest.fixture(scope="module")
def plugin_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a new venv with imagesmith visible and the example plugin pip-installed."""
    venv = tmp_path_factory.mktemp("plugin-venv") / "venv"
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = [sysconfig.get_paths()["purelib"], str(ROOT / "src")]
    (Path(purelib) / "imagesmith-checkout.pth").write_text("\n".join(ours) + "\n")
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(EXAMPLE)]
    done = subprocess.run(install, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"pip install of the example plugin failed:\n{done.stdout}{done.stderr}"
    print(f"plugin venv ready in {time.monotonic() - start:.1f} s")
    return python


def run_in(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "imagesmith", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def write_template(tmp_path: Path) -> Path:
    template = {
        "variables": {"who": "reader"},
        "builders": [{"type": "file", "content": "payload", "target": str(tmp_path / "out.txt")}],
        "provisioners": [{"type": "hello", "name": "{{user `who`}} of {{build_name}}", "greeting": "Hi"}],
        "post-processors": [{"type": "hello-stamp", "suffix": ".stamp", "message": "from {{user `who`}}"}],
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template, indent=2))
    return path


def test_without_the_plugin_the_types_are_unknown(tmp_path: Path) -> None:
    done = run_cli("validate", str(write_template(tmp_path)))
    assert done.returncode == 1
    assert "error initializing provisioner 'hello': Unknown provisioner hello" in done.stderr
    assert "error initializing post-processor 'hello-stamp': Unknown post-processor hello-stamp" in done.stderr


def test_plugin_config_is_checked_by_validate(plugin_python: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    template = {
        "builders": [{"type": "file", "content": "x", "target": str(tmp_path / "x")}],
        "provisioners": [{"type": "hello", "greting": "Hi"}],
        "post-processors": [{"type": "hello-stamp", "suffix": "a/b"}],
    }
    path.write_text(json.dumps(template, indent=2))
    done = run_in(plugin_python, "validate", str(path), cwd=tmp_path)
    assert done.returncode == 1
    assert "provisioners[0]: unknown configuration key: \"greting\" (did you mean 'greeting'?)" in done.stderr
    assert "provisioners[0]: name must be specified" in done.stderr
    assert "post-processors[0]: suffix must be a non-empty file name ending, not 'a/b'" in done.stderr
    assert run_in(plugin_python, "validate", str(write_template(tmp_path)), cwd=tmp_path).returncode == 0


def test_plugin_builds_with_the_file_builder(plugin_python: Path, tmp_path: Path) -> None:
    done = run_in(plugin_python, "build", str(write_template(tmp_path)), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "==> file: Saying hello to reader of file (build file)" in done.stdout
    stamp = tmp_path / "out.txt.stamp"
    assert stamp.read_text() == "from reader\nbuild: file\nartifact: File\n"
    assert (tmp_path / "out.txt").read_text() == "payload"
    assert f"--> file: Stored file(s): {stamp}" in done.stdout


def test_plugin_runs_its_command_in_a_docker_build(plugin_python: Path, tmp_path: Path, need_docker: None) -> None:
    """The example's own template: hello's command really runs in the container (its file is in the export)."""
    template = tmp_path / "hello.json"
    template.write_text((EXAMPLE / "hello.json").read_text())
    done = run_in(plugin_python, "build", "-var", "who=CI", str(template), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "    docker: Hello, CI!" in done.stdout
    with tarfile.open(tmp_path / "hello.tar") as tar:
        member = tar.extractfile("hello.txt")
        assert member is not None and member.read() == b"Hello, CI!\n"
    assert (tmp_path / "hello.tar.hello").read_text().startswith("built by CI\nbuild: docker\n")
