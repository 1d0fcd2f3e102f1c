"""Property tests: random and mutated templates never crash ``fix``; output is valid JSON of the result."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagesmith.cli import main
from imagesmith.template.fix import FixError, fix_template
from imagesmith.template.fix.gojson import format_fixed, parse_template

LEGACY_KEYS = [
    "builders", "Builders", "provisioners", "post-processors", "type", "iso_md5", "iso_checksum_type",
    "iso_checksum_url", "ssh_private_ip", "elevated_user", "environment_vars", "tag", "tags", "network",
    "network_adapters", "storage", "disk_size", "override", "virtualbox", "image_labels", "ssh_wait_timeout",
    "guest_additions_attach", "shared_image_destination", "exlude_from_latest", "remote_type", "skip_compaction",
]  # fmt: skip
TYPES = ["virtualbox", "vmware-iso", "qemu", "amazon-ebs", "powershell", "docker-tag", "vagrant", "manifest",
         "vsphere-iso", "azure-chroot", "ansible-local", "esx5"]  # fmt: skip

# No backslashes: Packer's blind "\u003c" -> "<" replacement makes "\\u003c" in a string invalid JSON (kept as is).
texts = st.one_of(st.sampled_from(TYPES), st.text(alphabet=st.characters(blacklist_characters="\\"), max_size=8))
scalars = st.one_of(
    st.none(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**53), 2**53), texts
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(LEGACY_KEYS), texts), inner, max_size=5),
    ),
    max_leaves=25,
)
templates = st.dictionaries(st.sampled_from(LEGACY_KEYS), values, max_size=5)


def _as_go(value: Any) -> Any:
    """What the printed output decodes back to: numbers as floats, -0 as 0 (json.loads reads -0 as int)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value) + 0.0
    if isinstance(value, list):
        return [_as_go(item) for item in value]
    return {key: _as_go(item) for key, item in value.items()}


@settings(max_examples=300, deadline=None)
@given(templates)
def test_fixers_return_or_raise_fix_error_and_never_mutate(template: dict[str, Any]) -> None:
    original = copy.deepcopy(template)
    try:
        fixed = fix_template(template)
    except FixError as exc:
        assert exc.message
        return
    finally:
        assert template == original
    text = format_fixed(fixed)
    assert text.endswith("}\n\n")
    decoded = json.loads(text, parse_int=float)
    assert _as_go(decoded) == _as_go(fixed)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64) | st.text(max_size=64).map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_any_bytes_parse_or_raise_template_error(data: bytes) -> None:
    from imagesmith.errors import TemplateError

    try:
        template, _ = parse_template(data, "t.json")
    except TemplateError as exc:
        assert "t.json" in str(exc)
        return
    assert isinstance(template, dict)
    format_fixed(template)


def _mutate(text: str, position: int, insert: str, delete: int) -> str:
    position = position % (len(text) + 1)
    return text[:position] + insert + text[position + delete :]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    templates,
    st.integers(0, 10_000),
    st.sampled_from(["", "{", "}", '"', ",", "[", "]", ":", "\\", "1e999", "\x00"]),
    st.integers(0, 3),
)
def test_cli_never_shows_a_traceback(
    tmp_path: Path, template: dict[str, Any], position: int, insert: str, delete: int
) -> None:
    source = json.dumps(template, allow_nan=False)
    if not all(math.isfinite(x) for x in _floats(template)):
        return
    path = tmp_path / "template.json"
    path.write_text(_mutate(source, position, insert, delete), encoding="utf-8", errors="surrogatepass")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["fix", "-validate=false", str(path)])
    assert code in (0, 1)
    assert "Traceback" not in err.getvalue()
    if code == 1:
        # A warning (e.g. text after the JSON) may come first; the error line must be there.
        assert any(line.startswith("Error: ") for line in err.getvalue().splitlines())


def _floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, list):
        return [f for item in value for f in _floats(item)]
    if isinstance(value, dict):
        return [f for item in value.values() for f in _floats(item)]
    return []
