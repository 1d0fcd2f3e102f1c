"""Packer's HCL2 configuration as typed objects: packer, variable, locals, source and build blocks.

Plugin bodies (a source's or provisioner's settings) stay as HCL bodies: they are decoded by the
plugin's own typed config later, with the evaluation context the build provides.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imagesmith.hcl2 import ast
from imagesmith.hcl2.body import HCLBody
from imagesmith.hcl2.source import Range
from imagesmith.hcl2.types import DYNAMIC, Type
from imagesmith.hcl2.values import Value


@dataclass
class Validation:
    condition: ast.Expr
    error_message: str
    range: Range


@dataclass
class Variable:
    """A declared input variable; ``value`` is its final value once assignments are applied."""

    name: str
    range: Range
    type: Type = DYNAMIC
    default: Value | None = None
    description: str = ""
    sensitive: bool = False
    validations: list[Validation] = field(default_factory=list)
    value: Value | None = None
    value_from: str = ""  # default, env, varfile or cmd (-var), as Packer names them
    value_range: Range | None = None


@dataclass
class Local:
    name: str
    expr: ast.Expr
    range: Range
    sensitive: bool = False


@dataclass
class Source:
    type: str
    name: str
    body: HCLBody
    range: Range

    @property
    def ref(self) -> str:
        return f"source.{self.type}.{self.name}"


@dataclass
class SourceUse:
    """A source a build uses: ``sources = [...]`` or a ``source "type.name" {}`` block with overrides."""

    type: str
    name: str
    range: Range
    local_name: str = ""
    overrides: HCLBody | None = None


@dataclass
class Provisioner:
    type: str
    range: Range
    body: HCLBody
    name: str = ""
    only: list[str] = field(default_factory=list)
    except_: list[str] = field(default_factory=list)
    pause_before: str = ""
    max_retries: int = 0
    timeout: str = ""
    override: Value | None = None


@dataclass
class PostProcessor:
    type: str
    range: Range
    body: HCLBody
    name: str = ""
    only: list[str] = field(default_factory=list)
    except_: list[str] = field(default_factory=list)
    keep_input_artifact: bool | None = None


@dataclass
class Build:
    range: Range
    name: str = ""
    description: str = ""
    sources: list[SourceUse] = field(default_factory=list)
    provisioners: list[Provisioner] = field(default_factory=list)
    error_cleanup_provisioner: Provisioner | None = None
    post_processors: list[list[PostProcessor]] = field(default_factory=list)


@dataclass
class RequiredPlugin:
    name: str
    source: str
    version: str
    range: Range


@dataclass
class Template:
    """Everything decoded from one directory (or file) of HCL2 configuration."""

    root: str
    required_version: str = ""
    required_plugins: dict[str, RequiredPlugin] = field(default_factory=dict)
    variables: dict[str, Variable] = field(default_factory=dict)
    locals: dict[str, Local] = field(default_factory=dict)
    local_values: dict[str, Value] = field(default_factory=dict)
    data_values: dict[str, Value] = field(default_factory=dict)  # "type.name" -> the source's outputs
    sources: dict[tuple[str, str], Source] = field(default_factory=dict)
    builds: list[Build] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
