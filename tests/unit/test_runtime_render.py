"""The one run-time render (core/render.py): the context every plugin renders with at run time.

The struct-data messages below are Packer 1.6.6's, recorded live (qemu builds whose boot_command
or qemuargs use ``{{.Nope}}`` / ``{{build `ID`}}``); the full table against Packer is
tests/compat/test_runtime_render_vs_packer.py.
"""

from __future__ import annotations

import os

import pytest

from imagesmith import PACKER_COMPAT_VERSION
from imagesmith.core.generated import GeneratedData
from imagesmith.core.plugin import BuildInfo
from imagesmith.core.render import go_struct, render_all, render_runtime
from imagesmith.errors import BuildError, RenderError

INFO = BuildInfo(
    build_name="web", builder_type="qemu", template_path="/srv/t/template.json", user_variables={"who": "alice"}
)


def test_the_context_has_what_packer_gives_every_plugin() -> None:
    text = "{{build_name}} {{build_type}} {{template_dir}} {{packer_version}} {{user `who`}}"
    assert render_runtime(text, INFO) == f"web qemu /srv/t {PACKER_COMPAT_VERSION} alice"


@pytest.mark.parametrize("expr", ['{{env "HOME"}}', '{{consul_key "k"}}', '{{vault "/p" "k"}}'])
def test_variables_only_functions_fail_at_run_time(expr: str) -> None:
    with pytest.raises(RenderError, match="allowed"):
        render_runtime(expr, INFO, {})


def test_generated_data_is_map_data() -> None:
    data = GeneratedData(id="c1").populated("uuid-1")
    assert render_runtime("{{build `ID`}} {{.PackerRunUUID}} {{.Host}}", INFO, data) == "c1 uuid-1 <no value>"


def test_struct_data_behaves_as_packers() -> None:
    boot = go_struct("*qemu.bootCommandTemplateData", HTTPIP="10.0.2.2", HTTPPort=8123, Name="vm")
    assert render_runtime("{{ .HTTPIP }}:{{ .HTTPPort }}/{{ .Name }}", INFO, boot) == "10.0.2.2:8123/vm"
    with pytest.raises(RenderError) as missing:
        render_runtime("{{.Nope}}", INFO, boot)
    assert str(missing.value) == (
        'template: root:1:2: executing "root" at <.Nope>: can\'t evaluate field Nope in type '
        "*qemu.bootCommandTemplateData"
    )
    args = go_struct("qemu.qemuArgsTemplateData", Name="vm")
    with pytest.raises(RenderError) as refused:
        render_all(["-name", "{{build `ID`}}"], INFO, args)
    assert str(refused.value) == (
        'template: root:1:2: executing "root" at <build `ID`>: error calling build: Error validating build '
        "variable: the given variable ID will not be passed into your plugin."
    )


def test_error_prefix_makes_a_build_error() -> None:
    with pytest.raises(BuildError, match=r"^Error processing command: template: root:1"):
        render_runtime("{{.Path", INFO, {}, error="Error processing command: ")
    assert render_all(["a", "{{pwd}}"], INFO) == ["a", os.getcwd()]
