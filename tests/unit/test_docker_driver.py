"""The docker builder's command lines, Engine API requests and config rules, as values (no daemon)."""

from __future__ import annotations

from typing import Any

import pytest

from imagesmith.builders.docker.builder import make_steps
from imagesmith.builders.docker.config import DockerConfig
from imagesmith.builders.docker.driver import (
    ContainerSpec,
    make_commit_request,
    make_create_request,
    make_import_request,
    make_login_request,
    make_pull_request,
    make_push_request,
    make_run_args,
    make_tag_request,
    render_run_command,
    sets_network,
    split_reference,
)
from imagesmith.builders.docker.registry_auth import encode_auth, registry_of
from imagesmith.builders.docker.run_flags import parse_run_command
from imagesmith.communicator.docker import make_chown_command, make_put_archive_request
from imagesmith.communicator.docker_exec import LineSplitter, make_exec_request
from imagesmith.core.plugin import BuildContext, BuildInfo
from imagesmith.docker_engine import EngineError, Request, progress_line
from imagesmith.errors import Problem
from imagesmith.template.decode import decode_config
from imagesmith.ui import Ui

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


def test_exec_request_matches_docker_exec_i() -> None:
    request = make_exec_request("c1", ["/bin/sh", "-c", "(echo hi)"])
    assert (request.method, request.path) == ("POST", "containers/c1/exec")
    assert request.body == {
        "User": "", "Privileged": False, "Tty": False, "AttachStdin": True, "AttachStderr": True,
        "AttachStdout": True, "Detach": False, "DetachKeys": "", "Env": None, "WorkingDir": "",
        "Cmd": ["/bin/sh", "-c", "(echo hi)"],
    }  # fmt: skip
    tty = make_exec_request("c1", ["id"], user="1000:1000", tty=True).body
    assert tty is not None and (tty["User"], tty["Tty"]) == ("1000:1000", True)
    assert make_chown_command("app", "/opt/x") == ["/bin/sh", "-c", "chown -R app /opt/x"]
    assert make_put_archive_request("c1", "/etc") == Request(
        "PUT", "containers/c1/archive", {"path": "/etc", "noOverwriteDirNonDir": "true"}
    )


def spec_of(command: list[str], **options: Any) -> tuple[ContainerSpec, Any]:
    spec = ContainerSpec(image="img:1", run_command=command, name="imagesmith-abc", **options)
    return spec, parse_run_command(render_run_command(command, "img:1"))


def test_create_request_for_packers_default_run_command() -> None:
    spec, flags = spec_of(DEFAULT_RUN, volumes={"/tmp/x": "/packer-files"})
    request = make_create_request(spec, flags)
    assert (request.method, request.path, request.params) == ("POST", "containers/create", {"name": "imagesmith-abc"})
    body = request.body
    assert body is not None
    assert (body["Image"], body["Entrypoint"], body["Cmd"]) == ("img:1", ["/bin/sh"], None)
    assert (body["Tty"], body["OpenStdin"], body["AttachStdin"], body["User"]) == (True, True, False, "")
    host = body["HostConfig"]
    assert host["NetworkMode"] == "none" and host["Binds"] == ["/tmp/x:/packer-files"]
    assert host["Privileged"] is False and host["AutoRemove"] is False


def test_create_request_reads_the_flags_templates_use() -> None:
    command = [
        "-dit", "-u", "1", "--user=app", "-e", "A=1", "--env=B=2", "-w", "/srv", "--name", "mine",
        "--network=host", "-v", "/a:/b:ro", "--cap-add", "SYS_ADMIN", "--tmpfs", "/run:size=1m",
        "--device", "/dev/fuse", "--privileged", "-l", "k=v", "--entrypoint", "", "--", "{{.Image}}", "sleep", "9",
    ]  # fmt: skip
    spec, flags = spec_of(command, cap_drop=["NET_RAW"], platform="linux/amd64")
    request = make_create_request(spec, flags)
    body = request.body
    assert body is not None and request.params == {"name": "mine", "platform": "linux/amd64"}
    assert (body["User"], body["Env"], body["WorkingDir"]) == ("app", ["A=1", "B=2"], "/srv")
    assert (body["Entrypoint"], body["Cmd"], body["Labels"]) == ([""], ["sleep", "9"], {"k": "v"})
    host = body["HostConfig"]
    assert (host["NetworkMode"], host["Binds"], host["Privileged"]) == ("host", ["/a:/b:ro"], True)
    assert (host["CapAdd"], host["CapDrop"], host["Tmpfs"]) == (["SYS_ADMIN"], ["NET_RAW"], {"/run": "size=1m"})
    assert host["Devices"] == [{"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"}]


@pytest.mark.parametrize(
    "command",
    [
        ["-d", "--memory", "1g", "img"],  # a flag imagesmith does not read: the CLI runs it
        ["-d", "--name"],  # a value is missing
        ["-d", "--"],  # no image
        ["--privileged=maybe", "img"],
    ],
)
def test_unknown_run_flags_fall_back_to_the_cli(command: list[str]) -> None:
    assert parse_run_command(command) is None


def test_commit_import_tag_pull_push_login_requests() -> None:
    commit = make_commit_request("c", author="me", changes=["ENV A=1", "CMD x"], message="m")
    assert commit == Request(
        "POST", "commit",
        {"container": "c", "repo": "", "tag": "", "comment": "m", "author": "me", "pause": "1",
         "changes": "ENV A=1\nCMD x"},
    )  # fmt: skip
    assert make_commit_request("c").params == {
        "container": "c", "repo": "", "tag": "", "comment": "", "author": "", "pause": "1",
    }  # fmt: skip
    assert make_commit_request("c", pause=False).params["pause"] == "0"  # docker commit --pause=false
    assert make_import_request("r:t", ["ENV A=1"]).params == {
        "fromSrc": "-", "repo": "r:t", "tag": "", "message": "", "changes": "ENV A=1",
    }  # fmt: skip
    assert make_tag_request("sha256:1", "127.0.0.1:5000/a/b") == Request(
        "POST", "images/sha256:1/tag", {"repo": "127.0.0.1:5000/a/b", "tag": "latest"}
    )
    assert make_tag_request("i", "repo:v2").params == {"repo": "repo", "tag": "v2"}
    assert make_pull_request("i").params == {"fromImage": "i", "tag": "latest"}
    assert make_pull_request("h:5000/i:1", "linux/arm64").params == {
        "fromImage": "h:5000/i", "tag": "1", "platform": "linux/arm64",
    }  # fmt: skip
    assert make_push_request("h:5000/i:1") == Request("POST", "images/h:5000/i/push", {"tag": "1"})
    login = make_login_request("reg:5000", "u", "p")
    assert login.body == {"username": "u", "password": "p", "serveraddress": "reg:5000"}


def test_references_and_registries() -> None:
    assert split_reference("a/b@sha256:00") == ("a/b", "sha256:00")
    assert split_reference("localhost:5000/x") == ("localhost:5000/x", "")
    assert registry_of("127.0.0.1:5000/x") == "127.0.0.1:5000"
    assert registry_of("library/busybox") == "https://index.docker.io/v1/"
    assert encode_auth({}) == "e30="


def test_errors_name_the_operation_status_and_message() -> None:
    error = EngineError("docker commit", 404, "No such container: x\n")
    assert str(error) == "docker commit failed (HTTP 404): No such container: x"
    assert "could not reach the Docker daemon" in str(EngineError("docker run", 900, "connection refused"))
    assert str(EngineError("docker push", 0, "denied")) == "docker push failed: denied"


def test_output_is_split_into_lines_across_chunks() -> None:
    lines: list[str] = []
    splitter = LineSplitter(lines.append)
    for chunk in [b"one\r\ntw", b"o\n\xc3", b"\xa9t\xc3\xa9", b"\nlast"]:
        splitter.feed(chunk)
    splitter.close()
    assert lines == ["one", "two", "été", "last"]
    assert progress_line({"status": "Pushing", "id": "abc"}) == "abc: Pushing"
    assert progress_line({"status": "Pushing", "progressDetail": {"current": 1}}) == ""


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
    async def never(*args: Any) -> Any:
        raise AssertionError("make_steps only hands the context to the steps")

    ctx = BuildContext(Ui(), BuildInfo("docker", "docker"), provision=never, cleanup_provision=never)
    names = lambda raw: [type(s).__name__ for s in make_steps(decode(raw)[0], ctx) if s]  # noqa: E731
    base = ["MakeTempDir", "PullImage", "RunContainer", "ConnectDocker", "ProvisionStep"]
    assert names({"image": "i", "commit": True}) == [*base, "CommitContainer"]
    assert names({"image": "i", "export_path": "o.tar"}) == [*base, "ExportContainer"]
    assert names({"image": "i", "discard": True, "pull": False}) == [n for n in base if n != "PullImage"]
    assert "ConnectDocker" not in names({"image": "i", "discard": True, "communicator": "none"})
    ctx.find_layer = never  # the layer cache is on: the container may start from a cached layer
    assert names({"image": "i", "commit": True})[:3] == ["MakeTempDir", "PullImage", "FindCachedLayer"]


def test_registry_credentials_come_from_docker_config(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import base64
    import json

    from imagesmith.builders.docker.registry_auth import stored_auth

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    auth = base64.b64encode(b"alice:pa:ss").decode()
    config = {"auths": {"https://reg.example:5000": {"auth": auth}}, "credHelpers": {"helped.example": "standin"}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert asyncio.run(stored_auth("reg.example:5000")) == {
        "username": "alice", "password": "pa:ss", "serveraddress": "reg.example:5000",
    }  # fmt: skip
    assert asyncio.run(stored_auth("other.example")) == {}
    helper = tmp_path / "docker-credential-standin"  # a stand-in credential helper: answers one server
    helper.write_text('#!/bin/sh\nread s\n[ "$s" = helped.example ] && echo \'{"Username":"bob","Secret":"t"}\'\n')
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{__import__('os').environ['PATH']}")
    assert asyncio.run(stored_auth("helped.example")) == {
        "username": "bob", "password": "t", "serveraddress": "helped.example",
    }  # fmt: skip
