"""HCL2 plugin bodies evaluated into the plain mappings the typed plugin configs decode.

This is the seam between the HCL2 engine and the plugin configs, used by sources, provisioners
and post-processors (:mod:`.hcl2_bridge`) and by data sources (:mod:`.hcl2_datasources`):

* :func:`body_mapping` asks a body for every attribute and block it holds (``dynamic`` blocks
  expanded), evaluates the attributes and returns a :class:`JsonObject` whose keys carry their
  locations, blocks as lists of mappings, as a JSON template's would be;
* :func:`plain_value` turns a value into plain Python. A value not known yet (``build.*`` outside a
  build, a data source's output under ``validate``) becomes a placeholder of its type, as current
  Packer writes them (``"(known after build)"``, ``0``, ``false``, an empty list or map), so the
  typed config still checks everything around it;
* ``build.X`` evaluates to a marker that string functions keep (``upper(build.ID)`` works, as
  Packer's ``{{ .ID }}`` does); :func:`plain_value` turns the markers into the Go-template call the
  run-time render fills in.
"""

from __future__ import annotations

from typing import Any

from imagesmith.errors import Location
from imagesmith.hcl2.body import AttributeSchema, BlockSchema, BodySchema, HCLBody, NativeBody
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.dynblock import DynamicBody
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.source import Range
from imagesmith.hcl2.types import BOOL, NUMBER, ListType, MapType, ObjectType, SetType, TupleType
from imagesmith.hcl2.values import UNKNOWN, Value, to_python
from imagesmith.template.positions import JsonObject

__all__ = ["BUILD_KEYS", "UNKNOWN_TEXT", "body_mapping", "body_shape", "location_of", "plain_value", "sentinel"]

BUILD_KEYS = (
    "ID", "Host", "Port", "User", "Password", "ConnType", "PackerRunUUID", "PackerHTTPIP", "PackerHTTPPort",
    "PackerHTTPAddr", "SSHPublicKey", "SSHPrivateKey", "WinRMPassword",
)  # fmt: skip
#: what an unknown string (or a value of unknown type) becomes in a plugin's mapping
UNKNOWN_TEXT = "(known after build)"
_SENTINELS = {k: f"\ue000{i}\ue001" for i, k in enumerate(BUILD_KEYS)}
_ACCESSORS = {v: f"{{{{ build `{k}` }}}}" for k, v in _SENTINELS.items()}


def sentinel(key: str) -> str:
    """The marker ``build.<key>`` evaluates to inside a build."""
    return _SENTINELS[key]


def location_of(rng: Range) -> Location:
    pos = rng.start_pos
    return Location(rng.filename, pos.line, pos.column)


def body_mapping(body: HCLBody, ctx: EvalContext, diags: Diagnostics, skip: tuple[str, ...] = (),
                 ranges: dict[Location, Range] | None = None) -> JsonObject:  # fmt: skip
    """``body`` evaluated in ``ctx`` (attributes named in ``skip`` left out); ``ranges`` collects
    the range of every attribute by its location, to place a config's problems."""
    attrs, blocks = body_shape(body)
    schema = BodySchema(
        [AttributeSchema(a) for a in attrs], [BlockSchema(t, ("label",) * n) for t, n in blocks.items()]
    )
    content, cdiags = DynamicBody(body, ctx).content(schema)
    diags.extend(cdiags)
    out = JsonObject()
    out.loc = location_of(body.missing_item_range())
    for name, attr in content.attributes.items():
        if name in skip:
            continue
        out[name] = plain_value(evaluate(attr.expr, ctx, diags))
        out.locs[name] = out.key_locs[name] = location_of(attr.range)
        if ranges is not None:
            ranges[out.locs[name]] = attr.range
    for block in content.blocks:
        out.setdefault(block.type, []).append(body_mapping(block.body, ctx, diags, ranges=ranges))
        out.locs.setdefault(block.type, location_of(block.def_range))
    return out


def body_shape(body: HCLBody) -> tuple[list[str], dict[str, int]]:
    """The attribute names and block types (with label counts) a body holds, to ask for all of them."""
    inner: Any = body
    while hasattr(inner, "inner"):
        inner = inner.inner
    if not isinstance(inner, NativeBody):
        attrs, _ = inner.just_attributes()  # HCL JSON: nested objects are plain values
        return list(attrs), {}
    blocks: dict[str, int] = {}
    for block in inner.body.blocks:
        if block.type == "dynamic" and block.labels:
            blocks.setdefault(block.labels[0], 0)
        else:
            blocks.setdefault(block.type, len(block.labels))
    return [n for n in inner.body.attributes if n not in inner.hidden], blocks


def plain_value(val: Value) -> Any:
    """``val`` as plain Python, unknown parts as placeholders of their type, ``build.X`` as calls."""
    plain, _ = val.unmark()
    if plain.is_wholly_known():
        return _with_accessors(to_python(plain))
    return _with_accessors(_placeholders(plain))


def _placeholders(val: Value) -> Any:
    v, ty = val.v, val.type
    if v is UNKNOWN:
        if ty == NUMBER:
            return 0
        if ty == BOOL:
            return False
        if isinstance(ty, (ListType, SetType, TupleType)):
            return []
        if isinstance(ty, (MapType, ObjectType)):
            return {}
        return UNKNOWN_TEXT
    if isinstance(v, list):
        return [_placeholders(e) for e in v]
    if isinstance(v, dict):
        return {k: _placeholders(e) for k, e in v.items()}
    return to_python(val)


def _with_accessors(obj: Any) -> Any:
    if isinstance(obj, str):
        if "\ue000" in obj:
            for marker, accessor in _ACCESSORS.items():
                obj = obj.replace(marker, accessor)
        return obj
    if isinstance(obj, list):
        return [_with_accessors(v) for v in obj]
    if isinstance(obj, dict):
        return {_with_accessors(k): _with_accessors(v) for k, v in obj.items()}
    return obj
