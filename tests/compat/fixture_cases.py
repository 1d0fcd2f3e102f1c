"""The compatibility cases: every JSON template under the Packer 1.6.6 fixtures, and the verbs to run.

Shared by ``record_packer.py`` (which records Packer's outcome into ``expected/``) and
``test_fixtures_vs_packer.py`` (which compares imagesmith with it). HCL files, and ``*.pkr.json``
(which Packer 1.6.6 reads as HCL2), are out of scope and counted as not applicable.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).resolve().parent / "expected"
GROUPS = ("template", "core", "command")

#: Files that are var files, not templates (used through -var-file by other cases).
VAR_FILES = {
    "core/build-var-file-interpolate.json",
    "core/build-var-file-interpolate2.json",
    "command/var-arg/apple.json",
}
#: Extra cases that need variables, var files or environment.
EXTRA: list[dict[str, object]] = [
    {
        "file": "command/var-arg/fruit_builder.json",
        "args": ["-var-file=apple.json"],
        "verbs": ["validate", "console"],
        "stdin": "{{user `fruit`}}",
    },
    {
        "file": "command/var-arg/fruit_builder.json",
        "args": ["-var", "fruit=banana"],
        "verbs": ["validate", "console"],
        "stdin": "{{user `fruit`}}",
    },
    {
        "file": "command/var-arg/fruit_builder.json",
        "args": ["-var", "fruit=banana", "-var-file=apple.json"],
        "verbs": ["validate", "console"],
        "stdin": "{{user `fruit`}}",
    },
    {"file": "command/validate/null_var.json", "args": ["-var", "null_var=x"], "verbs": ["validate"]},
    {"file": "core/build-basic-interpolated-required.json", "args": ["-var", "name=x"], "verbs": ["validate"]},
    {
        "file": "core/build-env.json",
        "env": {"PACKER_TEST_ENV": "from-env"},
        "verbs": ["console"],
        "stdin": "{{user `var`}}",
    },
    {
        "file": "core/complex-recursed-env-user-var-file.json",
        "env": {f"INTERPOLATE_TEST_ENV_{i}": str(i * 11) for i in range(1, 5)},
        "verbs": ["console"],
        "stdin": "variables",
    },
    {
        "file": "core/build-variables-interpolate.json",
        "args": ["-var-file=build-var-file-interpolate.json", "-var-file=build-var-file-interpolate2.json"],
        "verbs": ["console"],
        "stdin": "variables",
    },
    {"file": "core/sensitive-variables.json", "verbs": ["console"], "stdin": "{{user `foo`}}"},
    {"file": "command/validate/validate_except.json", "args": ["-except=foo"], "verbs": ["validate"]},
    {"file": "command/build-only/template.json", "args": ["-only=chocolate,vanilla"], "verbs": ["validate"]},
    {"file": "command/build-only/template.json", "args": ["-except=chocolate"], "verbs": ["validate"]},
    {"file": "command/build-only/not-found.json", "args": ["-only=chocolate"], "verbs": ["validate"]},
]


@dataclass
class Case:
    """One command to run with Packer and with imagesmith."""

    id: str
    file: str  # relative to FIXTURES
    argv: list[str]  # after the program name
    stdin: str = ""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def cwd(self) -> Path:
        return FIXTURES / Path(self.file).parent

    @property
    def verb(self) -> str:
        return self.argv[0]


def template_files() -> tuple[list[str], list[str]]:
    """(JSON templates in scope, files not applicable), relative to FIXTURES."""
    in_scope, not_applicable = [], []
    for group in GROUPS:
        for path in sorted((FIXTURES / group).rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(FIXTURES).as_posix()
            if path.suffix == ".json" and not path.name.endswith(".pkr.json") and rel not in VAR_FILES:
                in_scope.append(rel)
            elif path.suffix in (".json", ".hcl") or path.name.endswith(".pkr.json"):
                not_applicable.append(rel)
    return in_scope, not_applicable


def _slug(rel: str, verb: str, extra: str = "") -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", rel.removesuffix(".json"))
    return f"{base}__{verb}{extra}"


def all_cases() -> list[Case]:
    cases: list[Case] = []
    files, _ = template_files()
    for rel in files:
        name = Path(rel).name
        cases.append(Case(_slug(rel, "validate"), rel, ["validate", name]))
        cases.append(Case(_slug(rel, "syntax-only"), rel, ["validate", "-syntax-only", name]))
        cases.append(Case(_slug(rel, "inspect"), rel, ["inspect", name]))
        cases.append(Case(_slug(rel, "inspect-machine"), rel, ["inspect", "-machine-readable", name]))
        cases.append(Case(_slug(rel, "console"), rel, ["console", name], stdin="variables\n"))
    for n, extra in enumerate(EXTRA):
        rel = str(extra["file"])
        name = Path(rel).name
        args = [str(a) for a in extra.get("args", [])]  # type: ignore[attr-defined]
        env = dict(extra.get("env", {}))  # type: ignore[call-overload]
        for verb in extra["verbs"]:  # type: ignore[attr-defined]
            stdin = str(extra.get("stdin", "")) + "\n" if verb == "console" else ""
            cases.append(Case(_slug(rel, verb, f"-extra{n}"), rel, [verb, *args, name], stdin=stdin, env=env))
    return cases


def expected_path(case: Case) -> Path:
    return EXPECTED / f"{case.id}.json"


def load_expected(case: Case) -> dict[str, object] | None:
    path = expected_path(case)
    if not path.exists():
        return None
    data: dict[str, object] = json.loads(path.read_text())
    return data


def save_expected(case: Case, result: dict[str, object]) -> None:
    EXPECTED.mkdir(parents=True, exist_ok=True)
    data = {**asdict(case), "packer": result}
    expected_path(case).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
