"""Every template function in every field Packer renders at run time, as templates for both tools.

One case is one function in one group of fields. A case's template has one build per field
(``null`` or ``file`` builders, each with only its own provisioner or post-processor), so a single
run answers for every field; a field's answer is the value it rendered (echoed by shell-local,
written by manifest, or the name checksum/compress gave their file) or the build's error.

The ``docker`` group covers the docker builder's ``run_command`` (seen in its "Run command:"
message) and the shell provisioner's ``execute_command`` (through a container of the local test
image, ``--network none``, never pulled).

Fields rendered when the template is prepared *and* again at run time (shell-local ``inline`` and
``environment_vars``, manifest ``custom_data``) are in the ``prepared`` group: a function that
fails there fails the whole run before any build, so the fields rendered only at run time
(``execute_command``, checksum and compress ``output``) are in a group of their own, ``runtime``.

The recording (Packer 1.6.6's answers) is ``expected/runtime_render.json``; re-record with
``python tests/compat/record_runtime_render.py``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXPECTED = Path(__file__).parent / "expected" / "runtime_render.json"
USER_VARS = {"who": "alice"}
MARK = "VAL="
UUID_SHAPE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass(frozen=True)
class Function:
    name: str
    expr: str
    #: for time-dependent results: the regular expression the value must match (compared by shape)
    shape: str = ""


FUNCTIONS = [
    Function("build_name", "{{build_name}}"),
    Function("build_type", "{{build_type}}"),
    Function("template_dir", "{{template_dir}}"),
    Function("packer_version", "{{packer_version}}"),
    Function("user", "{{user `who`}}"),
    Function("user_unknown", "{{user `nobody`}}"),
    Function("pwd", "{{pwd}}"),
    Function("timestamp", "{{timestamp}}", r"\d{10}"),
    Function("isotime", "{{isotime}}", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"),
    Function("isotime_layout", '{{isotime "2006-01-02"}}', r"\d{4}-\d\d-\d\d"),
    Function("strftime", '{{strftime "%Y"}}', r"\d{4}"),
    Function("uuid", "{{uuid}}", UUID_SHAPE),
    Function("split", '{{split "a-b-c" "-" 1}}'),
    Function("replace", '{{replace "a" "b" 2 "aaa"}}'),
    Function("replace_all", '{{replace_all "a" "b" "aaa"}}'),
    Function("upper", '{{upper "abc"}}'),
    Function("lower", '{{lower "ABC"}}'),
    Function("build_ID", "{{build `ID`}}"),
    Function("build_PackerRunUUID", "{{build `PackerRunUUID`}}", UUID_SHAPE),
    Function("build_PackerHTTPAddr", "{{build `PackerHTTPAddr`}}"),
    Function("build_Host", "{{build `Host`}}"),
    Function("build_SSHPublicKey", "{{build `SSHPublicKey`}}"),
    Function("build_WinRMPassword", "{{build `WinRMPassword`}}"),
    Function("dot_ID", "{{.ID}}"),
    Function("env", '{{env "HOME"}}'),
    Function("consul_key", '{{consul_key "k"}}'),
    Function("vault", '{{vault "/secret/x" "k"}}'),
    Function("aws_secretsmanager", '{{aws_secretsmanager "n"}}'),
    Function("sed", '{{sed "s/a/b/" "a"}}'),
    Function("printf", '{{printf "%03d-%s" 7 "x"}}'),
    Function("len_and_index", '{{len "abcd"}}{{index "xyz" 1}}'),
    Function("html_js_urlquery", '{{html "<a>"}}{{js "it\'s"}}{{urlquery "a b"}}'),
]

FieldMaker = Callable[[str, str], dict[str, Any]]


def _shell_local(inline: list[str], **extra: Any) -> dict[str, Any]:
    return {"type": "shell-local", "inline": inline, **extra}


def _echo(expr: str) -> str:
    return f"echo '{MARK}{expr}'"


@dataclass(frozen=True)
class Field:
    """One build: its builder and the plugin block whose field renders ``expr``."""

    name: str
    group: str  # "prepared" or "runtime"
    builder: str  # "null", "file" or "docker"
    kind: str  # "provisioner" or "post-processor"
    make: FieldMaker  # (expr, build name) -> plugin block


FIELDS = [
    Field("sl-inline", "prepared", "null", "provisioner", lambda e, b: _shell_local([_echo(e)])),
    Field(
        "sl-env",
        "prepared",
        "null",
        "provisioner",
        lambda e, b: _shell_local([f'echo "{MARK}$V"'], environment_vars=[f"V={e}"]),
    ),
    Field("file-sl-inline", "prepared", "file", "provisioner", lambda e, b: _shell_local([_echo(e)])),
    Field("slpp-inline", "prepared", "null", "post-processor", lambda e, b: _shell_local([_echo(e)])),
    Field(
        "manifest",
        "prepared",
        "file",
        "post-processor",
        lambda e, b: {"type": "manifest", "output": f"manifest-{b}.json", "custom_data": {"val": e}},
    ),
    Field(
        "sl-exec",
        "runtime",
        "null",
        "provisioner",
        lambda e, b: _shell_local(["true"], execute_command=["/bin/sh", "-c", _echo(e)]),
    ),
    Field(
        "file-sl-exec",
        "runtime",
        "file",
        "provisioner",
        lambda e, b: _shell_local(["true"], execute_command=["/bin/sh", "-c", _echo(e)]),
    ),
    Field(
        "slpp-exec",
        "runtime",
        "null",
        "post-processor",
        lambda e, b: _shell_local(["true"], execute_command=["/bin/sh", "-c", _echo(e)]),
    ),
    Field(
        "checksum",
        "runtime",
        "file",
        "post-processor",
        lambda e, b: {"type": "checksum", "output": f"out-{b}/{MARK}{e}.sum"},
    ),
    Field(
        "compress",
        "runtime",
        "file",
        "post-processor",
        lambda e, b: {"type": "compress", "output": f"out-{b}/{MARK}{e}.gz"},
    ),
]
DOCKER_IMAGE = "imagesmith-test/busybox:latest"
DOCKER_RUN_TAIL = f" {DOCKER_IMAGE} /bin/sh"
FIELDS += [
    Field("docker-run", "docker", "docker", "builder", lambda e, b: {"run_command_label": f"{MARK}{e}"}),
    Field(
        "docker-sh-exec",
        "docker",
        "docker",
        "provisioner",
        lambda e, b: {"type": "shell", "inline": ["true"], "execute_command": _echo(e)},
    ),
]
GROUPS = ("prepared", "runtime", "docker")


@dataclass(frozen=True)
class Case:
    function: Function
    group: str

    @property
    def id(self) -> str:
        return f"{self.function.name}-{self.group}"

    @property
    def fields(self) -> list[Field]:
        return [f for f in FIELDS if f.group == self.group]


CASES = [Case(function, group) for function in FUNCTIONS for group in GROUPS]


def make_template(case: Case) -> dict[str, Any]:
    """The case's template: one build per field, each running only its own block."""
    builders: list[dict[str, Any]] = []
    provisioners: list[dict[str, Any]] = []
    chains: list[list[dict[str, Any]]] = []
    for field in case.fields:
        name = field.name
        block = {**field.make(case.function.expr, name), "only": [name]}
        if field.builder == "null":
            builders.append({"type": "null", "name": name, "communicator": "none"})
        elif field.builder == "docker":
            builders.append(_docker_builder(name, block.get("run_command_label")))
        else:
            builders.append({"type": "file", "name": name, "content": "x", "target": f"target-{name}.txt"})
        if field.kind == "builder":
            continue
        if field.kind == "provisioner":
            provisioners.append(block)
        else:
            chains.append([block])
    return {
        "variables": {"who": ""},
        "builders": builders,
        "provisioners": provisioners,
        "post-processors": chains,
    }


def _docker_builder(name: str, label: str | None) -> dict[str, Any]:
    run = ["-d", "-i", "-t", "--network", "none"]
    if label is not None:
        run += ["--label", label]
    return {
        "type": "docker",
        "name": name,
        "image": DOCKER_IMAGE,
        "pull": False,
        "discard": True,
        "run_command": [*run, "{{.Image}}", "/bin/sh"],
    }


def write_case(case: Case, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "template.json"
    path.write_text(json.dumps(make_template(case), indent=2))
    return path


def build_argv(template: Path) -> list[str]:
    args = ["build", "-machine-readable"]
    for key, value in USER_VARS.items():
        args += ["-var", f"{key}={value}"]
    return [*args, template.name]


def _unescape(text: str) -> str:
    return text.replace("%!(PACKER_COMMA)", ",").replace("\\n", "\n").replace("\\r", "\r")


def extract(stdout: str, directory: Path, case: Case) -> dict[str, str]:
    """Each field's answer: ``value: <rendered>`` or ``error: <message>`` (or ``prepare: <first line>``)."""
    answers: dict[str, str] = {}
    errors: dict[str, str] = {}
    for line in stdout.splitlines():
        parts = line.split(",", 3)
        if len(parts) < 4:
            continue
        _, target, kind, rest = parts
        if kind == "ui" and rest.startswith("message,"):
            text = _unescape(rest[len("message,") :])
            match = re.match(r"\s*([\w-]+)(?: \([\w-]+\))?: " + MARK + r"(.*)$", text)
            if match:
                answers[match.group(1)] = match.group(2)
            run = re.match(r"\s*([\w-]+): Run command: .* --label " + MARK + r"(.*)$", text)
            if run and run.group(2).endswith(DOCKER_RUN_TAIL):
                answers[run.group(1)] = run.group(2).removesuffix(DOCKER_RUN_TAIL)
        elif kind == "error" and target:
            errors[target] = _unescape(rest)
    _read_files(directory, case, answers)
    out: dict[str, str] = {}
    for field in case.fields:
        if field.name in errors:
            out[field.name] = "error: " + errors[field.name]
        elif field.name in answers:
            out[field.name] = "value: " + answers[field.name]
        else:
            out[field.name] = "nothing"
    return out


def _read_files(directory: Path, case: Case, answers: dict[str, str]) -> None:
    for field in case.fields:
        manifest = directory / f"manifest-{field.name}.json"
        if manifest.exists():
            builds = json.loads(manifest.read_text())["builds"]
            answers[field.name] = builds[0].get("custom_data", {}).get("val", "<missing>")
        out = directory / f"out-{field.name}"
        for root, _, names in os.walk(out):
            for name in names:
                path = os.path.relpath(os.path.join(root, name), out)
                answers[field.name] = path.removeprefix(MARK).rsplit(".", 1)[0]


def prepare_error(stdout: str, stderr: str) -> str | None:
    """The problems of a run that failed before any build started (None if builds ran).

    Both tools report every build's problem; the answer is the sorted set of the engine's
    ``error calling <function>: <reason>`` phrases (the framing around them differs by design:
    imagesmith names file:line:col, Packer its build).
    """
    if any(len(parts) > 2 and parts[1] for parts in (line.split(",", 3) for line in stdout.splitlines())):
        return None  # some build reported (an artifact or its error): the builds ran
    text = _unescape(stdout + "\n" + stderr)
    if "Failed to prepare build" in text:
        text = re.sub(r"(?<!\n)\n(?!\n)", " ", text)  # Packer wraps its messages at 80 columns
    found = sorted(set(re.findall(r"error calling \w+: .+?(?= in:|\n|$)", text, re.M)))
    if found:
        return " | ".join(found)
    lines = [line for line in text.splitlines() if line.strip()]
    return "other: " + (lines[-1] if lines else "no output")


def normalize(answers: dict[str, str], directory: Path) -> dict[str, str]:
    """Replace the run's directory with ``<DIR>`` (template_dir, pwd and paths depend on it)."""
    real = os.path.realpath(directory)
    out = {}
    for key, value in answers.items():
        value = value.replace(real, "<DIR>").replace(str(directory), "<DIR>")
        out[key] = re.sub(r"/tmp/packer-shell\w+", "/tmp/packer-shell<N>", value)
    return out


def run_case(case: Case, directory: Path, runner: Callable[..., Any]) -> dict[str, str]:
    """Run one case with ``runner`` (conftest's run_cli or run_packer); return the normalized answers."""
    template = write_case(case, directory)
    proc = runner(*build_argv(template), cwd=directory, timeout=300)
    failed_early = prepare_error(proc.stdout, proc.stderr)
    if failed_early is not None:
        return {"prepare": failed_early}
    return normalize(extract(proc.stdout, directory, case), directory)


def load_expected() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(EXPECTED.read_text())
    return data


CONTAINER_ID = re.compile(r"value: [0-9a-f]{64}")


def same_answer(ours: str, packers: str, function: Function) -> bool:
    """Equal, or both of the same shape: a time-dependent function's, or a container id (per run)."""
    if ours == packers:
        return True
    if CONTAINER_ID.fullmatch(ours) and CONTAINER_ID.fullmatch(packers):
        return True
    if not function.shape:
        return False
    value = re.compile(r"value: " + function.shape)
    return bool(value.fullmatch(ours) and value.fullmatch(packers))
