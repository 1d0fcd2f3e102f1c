"""The plugin registry: every built-in comes from the entry points declared in pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from imagesmith.core import registry
from imagesmith.core.entry_points import normalize, parse_group, read_group
from imagesmith.core.plugin import Builder, PostProcessor, Provisioner
from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
BASES = {"builder": Builder, "provisioner": Provisioner, "post-processor": PostProcessor}


@pytest.mark.parametrize("kind", list(BASES))
def test_installed_entry_points_match_pyproject(kind: registry.Kind) -> None:
    """A stale install (``pip install -e .`` not re-run) would fail here, not at a user's build."""
    declared = PYPROJECT[registry.GROUPS[kind]]
    assert registry.known(kind) == sorted(declared)


@pytest.mark.parametrize(
    ("kind", "name"),
    [(kind, name) for kind in BASES for name in PYPROJECT[registry.GROUPS[kind]]],
)
def test_every_declared_plugin_loads_and_names_itself(kind: registry.Kind, name: str) -> None:
    plugin = registry.lookup(kind, name)
    assert plugin is not None and issubclass(plugin, BASES[kind])
    assert plugin.type_name == name


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("provisioner", "shell_local"),
        ("post-processor", "docker_tag"),
        ("builder", "docker_tag"),
        ("builder", "qemu.builder"),
        ("provisioner", "shell_common"),
        ("provisioner", ""),
    ],
)
def test_module_names_are_not_type_names(kind: registry.Kind, name: str) -> None:
    assert registry.lookup(kind, name) is None
    assert registry.unknown_message(kind, name) == f"error initializing {kind} '{name}': Unknown {kind} {name}"


def test_datasources_group_declares_the_amazon_data_sources() -> None:
    assert registry.GROUPS["datasource"] == "imagesmith.datasources"
    assert {"amazon-ami", "amazon-secretsmanager"} <= set(registry.known_datasources())
    assert registry.lookup_datasource("amazon_ami") is None


def test_a_declaration_that_is_not_a_plugin_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = tmp_path / "broken_plugins-1.0.dist-info"
    info.mkdir()
    (info / "entry_points.txt").write_text(
        "[imagesmith.provisioners]\nnot-a-class = json:dumps\nmissing = no_such_module_xyz:Thing\nshell = json:dumps\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry._declared.cache_clear()
    registry.lookup.cache_clear()
    try:
        with pytest.raises(registry.PluginLoadError, match=r"json:dumps \(from broken-plugins\) is not a Provisioner"):
            registry.lookup("provisioner", "not-a-class")
        with pytest.raises(registry.PluginLoadError, match="cannot load missing = no_such_module_xyz:Thing"):
            registry.lookup("provisioner", "missing")
        # a third party cannot take over a built-in name
        from imagesmith.provisioners.shell import ShellProvisioner

        assert registry.lookup("provisioner", "shell") is ShellProvisioner
    finally:
        registry._declared.cache_clear()
        registry.lookup.cache_clear()


def test_parse_group_reads_only_its_section() -> None:
    text = "[console_scripts]\nx = a:b\n\n[imagesmith.provisioners]\n# comment\nhello = pkg.mod:Hello [extra]\n"
    assert parse_group(text, "imagesmith.provisioners") == [("hello", "pkg.mod:Hello [extra]")]
    assert parse_group(text, "imagesmith.builders") == []


def test_distribution_names_are_normalized() -> None:
    assert normalize("Imagesmith_Plugin.Hello") == "imagesmith-plugin-hello"
    assert {e.dist for e in read_group("imagesmith.builders")} >= {"imagesmith"}
