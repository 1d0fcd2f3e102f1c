"""The docker builder against the real daemon: options, communicator, provisioners, failures, Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagesmith.builders.docker.artifact import ExportArtifact, ImportArtifact
from imagesmith.core.plugin import BuildContext
from imagesmith.errors import BuildError

from .docker_support import RecordingUi, build, containers, docker, image_config, run_build

pytestmark = [pytest.mark.integration]


@pytest.fixture(autouse=True)
def base_image(need_docker: None) -> None:
    root = Path(__file__).resolve().parents[2]
    subprocess.run(["bash", str(root / "scripts/fixtures/docker-base-image.sh")], check=True)


@pytest.fixture
def no_leftovers() -> Iterator[None]:
    """The test must leave no container behind."""
    before = containers()
    yield
    assert containers() - before == set()


def remove_image(artifact: object) -> None:
    if isinstance(artifact, ImportArtifact):
        asyncio.run(artifact.destroy())


def test_commit_with_changes_and_shell(no_leftovers: None) -> None:
    ui = RecordingUi()
    artifact = run_build(
        {
            "commit": True,
            "changes": ["ENV FOO=bar", "WORKDIR /srv", "LABEL made.by=imagesmith", 'CMD ["/bin/sh", "-c", "id"]'],
            "author": "tester <t@example.com>",
            "message": "built by a test",
        },
        [{"type": "shell", "inline": ["echo to-stdout", "echo to-stderr >&2", "echo built > /built"]}],
        ui=ui,
    )
    try:
        assert isinstance(artifact, ImportArtifact)
        assert artifact.builder_id == "packer.post-processor.docker-import"
        assert artifact.id.startswith("sha256:")
        assert artifact.state("generated_data") == {"ImageSha256": artifact.id}
        config = image_config(artifact.id)
        assert "FOO=bar" in config["Env"] and config["WorkingDir"] == "/srv"
        assert config["Labels"] == {"made.by": "imagesmith"}
        assert config["Cmd"] == ["/bin/sh", "-c", "id"]
        assert docker("inspect", "--format", "{{.Author}}|{{.Comment}}", artifact.id).decode().strip() == (
            "tester <t@example.com>|built by a test"
        )
        assert docker("run", "--rm", "--network", "none", "--entrypoint", "cat", artifact.id, "/built") == b"built\n"
        assert ("message", "to-stdout") in ui.lines and ("error", "to-stderr") in ui.lines
        assert any(m.startswith("Run command: docker run -v ") and "--network none" in m for _, m in ui.lines)
    finally:
        remove_image(artifact)


def test_export_and_discard(tmp_path: Path, no_leftovers: None) -> None:
    out = tmp_path / "out.tar"
    artifact = run_build({"export_path": str(out)}, [{"type": "shell", "inline": ["echo x > /exported"]}])
    assert isinstance(artifact, ExportArtifact)
    assert artifact.builder_id == "packer.docker" and artifact.id == "Container" and artifact.files == [str(out)]
    listing = subprocess.run(["tar", "tf", str(out)], capture_output=True, text=True, check=True).stdout.split()
    assert "exported" in listing and "bin/busybox" in listing
    discarded = run_build({"discard": True})
    assert isinstance(discarded, ExportArtifact) and discarded.files == [""]
    assert str(discarded) == "Exported Docker file: "


def test_run_options_reach_the_container(tmp_path: Path, no_leftovers: None) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "in.txt").write_text("from host\n")
    ui = RecordingUi()
    run_build(
        {
            "discard": True,
            "volumes": {str(shared): "/mnt/shared"},
            "tmpfs": ["/scratch"],
            "cap_drop": ["CHOWN"],
            "cap_add": ["SYS_PTRACE"],
            "container_dir": "/work-files",
        },
        [
            {
                "type": "shell",
                "inline": [
                    "cat /mnt/shared/in.txt",
                    "grep -q ' /scratch tmpfs' /proc/mounts && echo tmpfs-ok",
                    "test -d /work-files && echo container-dir-ok",
                    "chown 1 /tmp 2>/dev/null || echo chown-denied",
                    "cat /proc/net/dev | grep -c : ",
                ],
            }
        ],
        ui=ui,
    )
    messages = [m for k, m in ui.lines if k == "message"]
    assert "from host" in messages and "tmpfs-ok" in messages and "container-dir-ok" in messages
    assert "chown-denied" in messages
    assert messages[-1] == "1"  # only the loopback interface: --network none


def test_file_provisioner_dirs_symlinks_and_owner(tmp_path: Path, no_leftovers: None) -> None:
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a\n")
    (src / "sub" / "b.sh").write_text("#!/bin/sh\n")
    os.chmod(src / "sub" / "b.sh", 0o750)
    os.symlink("a.txt", src / "link")
    os.chown(src / "a.txt", 1234, 1234)
    down = tmp_path / "down"
    ui = RecordingUi()
    run_build(
        {"discard": True},
        [
            {"type": "shell", "inline": ["mkdir /existing"]},
            {"type": "file", "source": str(src), "destination": "/fresh"},  # missing dst: gets the contents
            {"type": "file", "source": str(src), "destination": "/existing"},  # existing dst: gets tree/
            {"type": "file", "source": f"{src}/", "destination": "/contents/"},
            {"type": "file", "source": str(src / "a.txt"), "destination": "/etc/"},
            {
                "type": "shell",
                "inline": [
                    "stat -c '%n %a %u:%g %F' /fresh/a.txt /fresh/sub/b.sh /existing/tree/link",
                    "stat -c '%n %a %u:%g %F' /contents/link /etc/a.txt",
                    "readlink /fresh/link",
                ],
            },
            {"type": "file", "source": "/fresh/", "destination": f"{down}/", "direction": "download"},
            {"type": "file", "source": "/etc/a.txt", "destination": f"{down}/single.txt", "direction": "download"},
        ],
        ui=ui,
    )
    messages = [m for k, m in ui.lines if k == "message"]
    assert "/fresh/a.txt 644 0:1234 regular file" in messages  # chown -R root: the group stays
    assert "/fresh/sub/b.sh 750 0:0 regular file" in messages
    assert "/existing/tree/link 777 0:0 symbolic link" in messages
    assert "/contents/link 777 0:0 symbolic link" in messages
    assert "/etc/a.txt 644 0:1234 regular file" in messages  # chown -R root changes the user only
    assert "a.txt" in messages
    assert (down / "a.txt").read_text() == "a\n" and (down / "link").is_symlink()
    assert (down / "sub" / "b.sh").stat().st_mode & 0o777 == 0o750
    assert (down / "single.txt").read_text() == "a\n"


def test_exec_user_and_fix_upload_owner(tmp_path: Path, no_leftovers: None) -> None:
    payload = tmp_path / "p.txt"
    payload.write_text("p\n")
    ui = RecordingUi()
    run_build(
        {
            "discard": True,
            "exec_user": "0",
            "run_command": ["-d", "-i", "-t", "-u", "1", "--entrypoint=/bin/sh", "--", "{{.Image}}"],
        },
        [
            {"type": "shell", "inline": ["id -u"], "remote_folder": "/tmp"},
            {"type": "file", "source": str(payload), "destination": "/tmp/p.txt"},
            {"type": "shell", "inline": ["stat -c '%u' /tmp/p.txt"]},
        ],
        ui=ui,
    )
    messages = [m for k, m in ui.lines if k == "message"]
    assert messages.count("0") == 1  # exec_user runs the scripts
    assert "1" in messages  # the upload belongs to the container's user (-u 1), as Packer's chown does


def test_shell_options(tmp_path: Path, no_leftovers: None) -> None:
    script = tmp_path / "s.sh"
    script.write_bytes(b'#!/bin/sh\r\necho "V=$V Q=$Q B=$PACKER_BUILD_NAME"\r\nexit 3\r\n')
    ui = RecordingUi()
    run_build(
        {"discard": True},
        [
            {"type": "shell", "script": str(script), "environment_vars": ["V=1", "Q=it's"], "valid_exit_codes": [3]},
            {"type": "shell", "inline": ["echo file:$V"], "environment_vars": ["V=2"], "use_env_var_file": True},
            {"type": "shell", "inline": ["true"], "remote_path": "/tmp/kept.sh", "skip_clean": True},
            {"type": "shell", "inline": ["ls /tmp"], "inline_shebang": "/bin/sh -ex"},
            {"type": "shell", "inline": ["echo $0"], "execute_command": "sh -c 'sh {{.Path}}' && echo custom"},
        ],
        ui=ui,
    )
    messages = [m for k, m in ui.lines if k == "message"]
    assert "V=1 Q=it's B=docker" in messages  # CRLF converted, quoting survives
    assert "file:2" in messages
    assert "kept.sh" in messages  # skip_clean keeps the script
    assert not any(m.startswith("varfile_") for m in messages)  # env var file cleaned up
    assert ("error", "+ ls /tmp") in ui.lines  # inline_shebang -x
    assert "custom" in messages


def test_failing_provisioner_leaves_no_container(no_leftovers: None) -> None:
    ui = RecordingUi()
    with pytest.raises(BuildError, match=r"Script exited with non-zero exit status: 7\.Allowed exit codes are: \[0\]"):
        run_build({"commit": True}, [{"type": "shell", "inline": ["exit 7"]}], ui=ui)
    assert any(m.startswith("Killing the container: ") for _, m in ui.lines)


def test_on_error_abort_keeps_the_container_and_says_how_to_remove_it() -> None:
    before = containers()
    ui = RecordingUi()
    with pytest.raises(BuildError):
        run_build({"discard": True}, [{"type": "shell", "inline": ["exit 1"]}], on_error="abort", ui=ui)
    left = {c for c in containers() - before if c in ui.text("error")}  # not other users' containers
    try:
        assert len(left) == 1
        (container,) = left
        assert f"remove it with: docker rm -f {container}" in ui.text("error")
        assert "&& rm -rf " in ui.text("error")  # the mounted temp dir is named too
        assert 'aborted: skipping cleanup of step "RunContainer"' in ui.text("error")
    finally:
        for container in left:
            docker("rm", "-f", container)
        for left_dir in re.findall(r"&& rm -rf (\S+)", ui.text("error")):
            shutil.rmtree(left_dir, ignore_errors=True)


class TriggerUi(RecordingUi):
    """Sets ``seen`` when a line starting with ``trigger`` is written."""

    def __init__(self, trigger: str) -> None:
        super().__init__()
        self.trigger = trigger
        self.seen = asyncio.Event()

    def _write(self, kind: str, message: str) -> None:
        super()._write(kind, message)
        if message.startswith(self.trigger):
            self.seen.set()


async def cancel_after(
    trigger: str, raw: dict[str, object], provisioners: list[dict[str, object]], delay: float = 0.3
) -> TriggerUi:
    ui = TriggerUi(trigger)
    task = asyncio.ensure_future(build(raw, provisioners, ui=ui))
    await asyncio.wait_for(ui.seen.wait(), 300)
    await asyncio.sleep(delay)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return ui


def test_cancel_leaves_no_container_temp_dir_or_export(tmp_path: Path, no_leftovers: None) -> None:
    temp_root = tmp_path / "packer-tmp"
    out = tmp_path / "out.tar"
    os.environ["PACKER_TMP_DIR"] = str(temp_root)
    try:
        asyncio.run(
            cancel_after("Provisioning with shell", {"discard": True}, [{"type": "shell", "inline": ["sleep 30"]}])
        )
        big = {"type": "shell", "inline": ["dd if=/dev/urandom of=/big bs=1M count=400 2>/dev/null"]}
        asyncio.run(cancel_after("Exporting the container", {"export_path": str(out)}, [big]))
    finally:
        del os.environ["PACKER_TMP_DIR"]
    assert list(temp_root.iterdir()) == []
    assert not out.exists()


def test_cancel_during_commit_leaves_no_image(no_leftovers: None) -> None:
    big = {"type": "shell", "inline": ["dd if=/dev/urandom of=/big bs=1M count=300 2>/dev/null"]}
    ui = asyncio.run(cancel_after("Committing the container", {"commit": True}, [big], delay=0.05))
    container = next(m.split(": ", 1)[1] for _, m in ui.lines if m.startswith("Container ID: "))
    dangling = docker("images", "-q", "--no-trunc", "--filter", "dangling=true").decode().split()
    made = [i for i in dangling if docker("inspect", "--format", "{{.Container}}", i).decode().strip() == container]
    assert made == []


def test_the_commit_pauses_unless_only_the_idle_shell_runs(tmp_path: Path, no_leftovers: None) -> None:
    from imagesmith.builders.docker.driver import Driver
    from imagesmith.builders.docker.state import DockerState
    from imagesmith.builders.docker.steps.commit import needs_pause
    from imagesmith.builders.docker.steps.run_container import make_container_spec
    from imagesmith.communicator.docker import DockerCommunicator

    from .docker_support import make_builder

    async def scenario() -> list[bool]:
        builder = make_builder({"commit": True})
        ctx = BuildContext(ui=RecordingUi(), info=builder.info, provision=nothing, cleanup_provision=nothing)
        state = DockerState(config=builder.config, driver=Driver(), ctx=ctx, temp_dir=str(tmp_path))
        state.container_id = await state.driver.start_container(make_container_spec(state))
        comm = DockerCommunicator(state.container_id)
        try:
            answers = [await needs_pause(state)]  # Packer's run_command and only its shell: no pause
            default = state.config
            custom = {"commit": True, "run_command": ["-d", "-i", "-t", "--", "{{.Image}}"]}
            state.config = make_builder(custom).config
            answers.append(await needs_pause(state))  # the user's own run_command: always paused
            state.config = default
            await comm.execute("sleep 600 >/dev/null 2>&1 &")
            answers.append(await needs_pause(state))  # a provisioner left a process running
            return answers
        finally:
            await state.driver.kill_container(state.container_id)

    async def nothing(comm: object, data: object) -> None:
        return None

    assert asyncio.run(scenario()) == [False, True, True]
