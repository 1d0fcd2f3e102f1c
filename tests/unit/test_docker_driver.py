"""The docker builder's command lines and config rules, as lists and messages (no daemon)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from imagesmith.builders.docker.builder import make_steps
from imagesmith.builders.docker.config import DockerConfig
from imagesmith.builders.docker.driver import (
    ContainerSpec,
    make_commit_args,
    make_import_args,
    make_login_args,
    make_pull_args,
    make_run_args,
    sets_network,
)
from imagesmith.communicator.docker import make_chown_args, make_exec_args
from imagesmith.core.plugin import BuildContext
from imagesmith.errors import Problem
from imagesmith.template.decode import decode_config

DEFAULT_RUN = ["-d", "-i", "-t", "--entrypoint=/bin/sh", "--", "{{.Image}}"]


def decode(raw: dict[str, Any]) -> tuple[DockerConfig, list[str]]:
    problems: list[Problem] = []
    config = decode_config(DockerConfig, raw, render=None, path="", problems=problems)
    return config, [p.message for p in problems]


def test_run_args_default_adds_network_none_and_renders_image() -> None:
    spec = ContainerSpec(image="img:1", run_command=DEFAULT_RUN, volumes={"/tmp/x": "/packer-files"})
    assert make_run_args(spec) == [
        "docker", "run", "-v", "/tmp/x:/packer-files", "--network", "none",
        "-d", "-i", "-t", "--entrypoint=/bin/sh", "--", "img:1",
    ]  # fmt: skip


def test_run_args_all_options_in_packers_order() -> None:
    spec = ContainerSpec(
        image="i",
        run_command=["-d", "{{ .Image }}"],
        volumes={"/a": "/b"},
        device=["/dev/fuse"],
        cap_add=["SYS_ADMIN"],
        cap_drop=["NET_RAW"],
        tmpfs=["/run"],
        privileged=True,
        platform="linux/amd64",
    )
    assert make_run_args(spec) == [
        "docker", "run", "--device", "/dev/fuse", "--cap-add", "SYS_ADMIN", "--cap-drop", "NET_RAW",
        "--privileged", "--tmpfs", "/run", "-v", "/a:/b", "--network", "none", "--platform", "linux/amd64",
        "-d", "i",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["--network=host", "-d", "i"], True),
        (["--net", "bridge", "-d", "i"], True),
        (["--network", "none", "i"], True),
        (["-d", "--", "i", "--network=host"], False),  # after --: the container's own argument
        (DEFAULT_RUN, False),
    ],
)
def test_user_network_choice_is_respected(command: list[str], expected: bool) -> None:
    assert sets_network(command) is expected
    args = make_run_args(ContainerSpec(image="i", run_command=command))
    rendered = [a.replace("{{.Image}}", "i") for a in command]
    assert args == ["docker", "run", *([] if expected else ["--network", "none"]), *rendered]


def test_exec_args_match_packer() -> None:
    assert make_exec_args("c1", "echo hi") == ["docker", "exec", "-i", "c1", "/bin/sh", "-c", "(echo hi)"]
    assert make_exec_args("c1", "id", user="1000:1000", tty=True) == [
        "docker", "exec", "-i", "-u", "1000:1000", "-t", "c1", "/bin/sh", "-c", "(id)",
    ]  # fmt: skip
    assert make_chown_args("c1", "app", "/opt/x") == [
        "docker", "exec", "--user", "root", "c1", "/bin/sh", "-c", "chown -R app /opt/x",
    ]  # fmt: skip


def test_commit_import_pull_login_args() -> None:
    assert make_commit_args("c", author="me", changes=["ENV A=1", "CMD x"], message="m") == [
        "docker", "commit", "--author", "me", "--change", "ENV A=1", "--change", "CMD x", "--message", "m", "c",
    ]  # fmt: skip
    assert make_commit_args("c") == ["docker", "commit", "c"]
    assert make_import_args("r:t", ["ENV A=1"]) == ["docker", "import", "--change", "ENV A=1", "-", "r:t"]
    assert make_pull_args("i") == ["docker", "pull", "i"]
    assert make_pull_args("i", "linux/arm64") == ["docker", "pull", "--platform", "linux/arm64", "i"]
    assert make_login_args("reg:5000", "u", "p") == ["docker", "login", "-u", "u", "--password-stdin", "reg:5000"]
    assert make_login_args("", "", "") == ["docker", "login"]


def test_config_defaults_follow_packer() -> None:
    config, problems = decode({"image": "i", "commit": True})
    assert problems == []
    assert config.pull is True and config.fix_upload_owner is True
    assert config.effective_run_command == DEFAULT_RUN
    assert config.effective_container_dir == "/packer-files"
    assert config.communicator_type == "docker"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"image": "i"}, "No instructions given for handling the artifact; expected commit, discard, or export_path"),
        ({"image": "i", "commit": True, "discard": True}, "Cannot specify more than one of commit, discard, and"),
        ({"image": "i", "commit": True, "export_path": "x.tar"}, "Cannot specify more than one of commit"),
        ({"commit": True}, "Image must be specified"),
        ({"image": "i", "discard": True, "communicator": "ssh"}, "communicator 'ssh' is not supported"),
        ({"image": "i", "discard": True, "ecr_login": True}, "ECR login requires login server to be provided."),
    ],
)
def test_config_errors(raw: dict[str, Any], message: str) -> None:
    _, problems = decode(raw)
    assert any(p.startswith(message) for p in problems), problems


def test_export_path_directory_is_rejected(tmp_path: Any) -> None:
    _, problems = decode({"image": "i", "export_path": str(tmp_path)})
    assert problems == ["export_path must be a file, not a directory"]


def test_run_command_is_not_rendered_at_prepare_time() -> None:
    def render(text: str) -> str:
        raise AssertionError(f"rendered {text}")

    problems: list[Problem] = []
    config = decode_config(
        DockerConfig, {"image": "i", "discard": True, "run_command": ["-d", "{{.Image}}"]},
        render=render, path="", problems=problems,
    )  # fmt: skip
    assert problems == [] and config.run_command == ["-d", "{{.Image}}"]


def test_steps_follow_the_artifact_choice() -> None:
    ctx = cast(BuildContext, None)  # make_steps only hands it to the provision step
    names = lambda raw: [type(s).__name__ for s in make_steps(decode(raw)[0], ctx) if s]  # noqa: E731
    base = ["MakeTempDir", "PullImage", "RunContainer", "ConnectDocker", "ProvisionStep"]
    assert names({"image": "i", "commit": True}) == [*base, "CommitContainer"]
    assert names({"image": "i", "export_path": "o.tar"}) == [*base, "ExportContainer"]
    assert names({"image": "i", "discard": True, "pull": False}) == [n for n in base if n != "PullImage"]
    assert "ConnectDocker" not in names({"image": "i", "discard": True, "communicator": "none"})
