"""StepSshKeyPair and StepCleanupTempKeys of the VirtualBox builders (Packer 1.6.6's
``vboxcommon.StepSshKeyPair``): which key the communicator gets, what reaches ``{{ .SSHPublicKey }}``,
and the commands that remove an ephemeral key from the guest."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from imagesmith.builders.virtualbox.config import VirtualBoxIsoConfig
from imagesmith.builders.virtualbox.driver import Driver
from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.builders.virtualbox.steps.ssh_key import CleanupTempKeys, SshKeyPair, ssh_keys
from imagesmith.core.plugin import BuildContext, BuildInfo, Communicator
from imagesmith.errors import Problem
from imagesmith.template.decode import decode_config
from imagesmith.ui import Ui

BASE = {"iso_url": "x.iso", "iso_checksum": "none", "ssh_username": "root"}


class QuietUi(Ui):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def _write(self, kind: str, message: str) -> None:
        self.lines.append(message)


class RecordingComm(Communicator):
    def __init__(self) -> None:
        self.commands: list[str] = []

    async def execute(self, command: str, **_: Any) -> int:
        self.commands.append(command)
        return 0

    async def upload(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    async def download(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    async def upload_dir(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    async def download_dir(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError


def make_state(debug: bool = False, **overrides: Any) -> tuple[VBoxState, QuietUi]:
    problems: list[Problem] = []
    cfg = decode_config(VirtualBoxIsoConfig, {**BASE, **overrides}, render=None, path="builders[0]", problems=problems)
    assert problems == []
    ui = QuietUi()

    async def nothing(*_: Any) -> None:
        return None

    info = BuildInfo(build_name="virtualbox-iso", builder_type="virtualbox-iso", debug=debug)
    ctx = BuildContext(ui=ui, info=info, provision=nothing, cleanup_provision=nothing)
    return VBoxState(config=cfg.resolved("virtualbox-iso", 0), driver=Driver("VBoxManage"), ctx=ctx), ui


def test_password_means_no_key() -> None:
    state, ui = make_state(ssh_password="x")
    asyncio.run(SshKeyPair().run(state))
    assert (state.ssh_public_key, state.ssh_private_key, ui.lines) == ("", "", [])


def test_ephemeral_key_is_ecdsa_521_named_packer_uuid_and_logs_in() -> None:
    state, ui = make_state()
    asyncio.run(SshKeyPair().run(state))
    assert ui.lines == ["Creating ephemeral key pair for SSH communicator...",
                        "Created ephemeral SSH key pair for communicator"]  # fmt: skip
    kind, _, name = state.ssh_public_key.split(" ")
    assert kind == "ecdsa-sha2-nistp521" and name == state.ssh_key_name and name.startswith("packer_")
    private = asyncssh.import_private_key(state.ssh_private_key)
    assert private.export_public_key("openssh").decode().split()[1] == state.ssh_public_key.split()[1]
    assert asyncio.run(ssh_keys(state)) == (state.ssh_private_key,)
    assert state.clear_authorized_keys


def test_private_key_file_gives_its_public_key(tmp_path: Path) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    (tmp_path / "id").write_bytes(key.export_private_key("openssh"))
    state, ui = make_state(ssh_private_key_file=str(tmp_path / "id"))
    asyncio.run(SshKeyPair().run(state))
    assert ui.lines == ["Using existing SSH private key for the communicator..."]
    assert state.ssh_public_key.split()[:2] == key.export_public_key("openssh").decode().split()[:2]
    assert state.ssh_public_key.split()[2] == state.ssh_key_name
    assert state.ssh_private_key == "" and not state.clear_authorized_keys


def test_unreadable_private_key_file_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "id").write_text("not a key\n")
    state, _ = make_state(ssh_private_key_file=str(tmp_path / "id"))
    with pytest.raises(Exception, match="Error reading ssh_private_key_file"):
        asyncio.run(SshKeyPair().run(state))


def test_agent_auth_makes_no_key() -> None:
    state, ui = make_state(ssh_agent_auth=True)
    asyncio.run(SshKeyPair().run(state))
    assert ui.lines == ["Using local SSH Agent to authenticate connections for the communicator..."]
    assert state.ssh_public_key == ""


def test_debug_saves_the_key_until_cleanup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    state, _ = make_state(debug=True)
    step = SshKeyPair()
    asyncio.run(step.run(state))
    saved = tmp_path / "virtualbox-iso.pem"
    assert saved.read_text() == state.ssh_private_key and oct(os.stat(saved).st_mode & 0o777) == "0o600"
    asyncio.run(step.cleanup(state))
    assert not saved.exists()


def test_cleanup_removes_the_ephemeral_key_as_packer() -> None:
    state, ui = make_state()
    asyncio.run(SshKeyPair().run(state))
    comm = RecordingComm()
    state.communicator = comm
    asyncio.run(CleanupTempKeys().run(state))
    name = state.ssh_key_name
    assert comm.commands == [
        f"sed -i.bak '/ {name}$/d' ~/.ssh/authorized_keys; rm ~/.ssh/authorized_keys.bak",
        f"sudo sed -i.bak '/ {name}$/d' /root/.ssh/authorized_keys; sudo rm /root/.ssh/authorized_keys.bak",
    ]
    assert "Trying to remove ephemeral keys from authorized_keys files" in ui.lines


def test_cleanup_leaves_a_password_build_alone() -> None:
    state, _ = make_state(ssh_password="x", ssh_clear_authorized_keys=True)
    asyncio.run(SshKeyPair().run(state))
    comm = RecordingComm()
    state.communicator = comm
    asyncio.run(CleanupTempKeys().run(state))
    assert comm.commands == []
