"""``dynamic`` blocks expand into real blocks, with their iterator in scope, at any depth."""

from __future__ import annotations

from imagesmith.hcl2.body import AttributeSchema, BlockSchema, BodySchema, NativeBody
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.dynblock import DynamicBody
from imagesmith.hcl2.evaluator import EvalContext, evaluate
from imagesmith.hcl2.functions import standard_functions
from imagesmith.hcl2.parser import parse_config
from imagesmith.hcl2.values import from_python, to_python

SRC = """
provisioner "shell" {
  tag {
    key = "fixed"
  }
  dynamic "tag" {
    for_each = local.tags
    content {
      key   = tag.key
      value = upper(tag.value)
    }
  }
  dynamic "disk" {
    for_each = [10, 20]
    iterator = d
    labels   = ["disk${d.key}"]
    content {
      size = d.value * 2
      dynamic "part" {
        for_each = range(d.key + 1)
        content {
          n = "${d.key}.${part.value}"
        }
      }
    }
  }
}
"""

TAG = BodySchema([AttributeSchema("key"), AttributeSchema("value")])
PART = BodySchema([AttributeSchema("n")])
DISK = BodySchema([AttributeSchema("size")], [BlockSchema("part")])
PROV = BodySchema(blocks=[BlockSchema("tag"), BlockSchema("disk", ("name",))])


def _ctx() -> EvalContext:
    return EvalContext({"local": from_python({"tags": {"a": "x", "b": "y"}})}, standard_functions())


def _attrs(body: object, schema: BodySchema, ctx: EvalContext) -> dict[str, object]:
    content, diags = body.content(schema)  # type: ignore[attr-defined]
    assert not diags, [str(d) for d in diags]
    out = Diagnostics()
    vals = {n: to_python(evaluate(a.expr, ctx, out)) for n, a in content.attributes.items()}
    assert not out, [str(d) for d in out]
    return vals


def test_dynamic_blocks_expand_with_iterators_and_labels() -> None:
    body, diags = parse_config(SRC, "d.pkr.hcl")
    assert not diags
    ctx = _ctx()
    prov = NativeBody(body).content(BodySchema(blocks=[BlockSchema("provisioner", ("type",))]))[0].blocks[0]
    content, cdiags = DynamicBody(prov.body, ctx).content(PROV)
    assert not cdiags
    tags = [_attrs(b.body, TAG, ctx) for b in content.blocks if b.type == "tag"]
    assert tags == [{"key": "fixed"}, {"key": "a", "value": "X"}, {"key": "b", "value": "Y"}]
    disks = [b for b in content.blocks if b.type == "disk"]
    assert [b.labels for b in disks] == [["disk0"], ["disk1"]]
    assert _attrs(disks[1].body, DISK, ctx) == {"size": 40}
    parts, _ = disks[1].body.content(DISK)
    assert [_attrs(p.body, PART, ctx) for p in parts.blocks] == [{"n": "1.0"}, {"n": "1.1"}]


def test_dynamic_errors_name_the_element() -> None:
    src = 'p {\n  dynamic "tag" {\n    for_each = ["a", "b"]\n    content {\n      key = tag.value + 1\n    }\n  }\n}\n'
    body, _ = parse_config(src, "d.pkr.hcl")
    ctx = _ctx()
    p = NativeBody(body).content(BodySchema(blocks=[BlockSchema("p")]))[0].blocks[0]
    content, _ = DynamicBody(p.body, ctx).content(BodySchema(blocks=[BlockSchema("tag")]))
    tag_content, _ = content.blocks[1].body.content(BodySchema([AttributeSchema("key")]))
    out = Diagnostics()
    evaluate(tag_content.attributes["key"].expr, ctx, out)
    assert out[0].summary == "Invalid operand"
    assert 'dynamic "tag" element 1' in out[0].detail
    assert out[0].location() == "d.pkr.hcl:5:13"


def test_dynamic_for_each_must_be_a_collection() -> None:
    src = 'p {\n  dynamic "tag" {\n    for_each = "nope"\n    content {}\n  }\n}\n'
    body, _ = parse_config(src, "d.pkr.hcl")
    p = NativeBody(body).content(BodySchema(blocks=[BlockSchema("p")]))[0].blocks[0]
    _, diags = DynamicBody(p.body, _ctx()).content(BodySchema(blocks=[BlockSchema("tag")]))
    assert [(d.summary, d.location()) for d in diags] == [("Invalid dynamic for_each value", "d.pkr.hcl:3:16")]
