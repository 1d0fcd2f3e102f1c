"""Schema-driven access to bodies, the same for native syntax and JSON (``hcl.Body.Content``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from imagesmith.hcl2 import ast
from imagesmith.hcl2.diagnostics import Diagnostics
from imagesmith.hcl2.didyoumean import suggest
from imagesmith.hcl2.source import Range


@dataclass(frozen=True)
class AttributeSchema:
    name: str
    required: bool = False


@dataclass(frozen=True)
class BlockSchema:
    type: str
    labels: tuple[str, ...] = ()


@dataclass
class BodySchema:
    attributes: list[AttributeSchema] = field(default_factory=list)
    blocks: list[BlockSchema] = field(default_factory=list)


@dataclass
class ContentAttribute:
    name: str
    expr: ast.Expr
    range: Range
    name_range: Range


@dataclass
class ContentBlock:
    type: str
    labels: list[str]
    body: HCLBody
    def_range: Range
    type_range: Range
    label_ranges: list[Range]


@dataclass
class BodyContent:
    attributes: dict[str, ContentAttribute] = field(default_factory=dict)
    blocks: list[ContentBlock] = field(default_factory=list)
    missing_item_range: Range | None = None


class HCLBody(Protocol):
    def content(self, schema: BodySchema, partial: bool = False) -> tuple[BodyContent, Diagnostics]: ...

    def just_attributes(self) -> tuple[dict[str, ContentAttribute], Diagnostics]: ...

    def missing_item_range(self) -> Range: ...


class NativeBody:
    """A native-syntax body seen through a schema."""

    def __init__(self, body: ast.Body, hidden: frozenset[str] = frozenset()) -> None:
        self.body = body
        self.hidden = hidden

    def missing_item_range(self) -> Range:
        return self.body.end_range

    def content(self, schema: BodySchema, partial: bool = False) -> tuple[BodyContent, Diagnostics]:
        diags = Diagnostics()
        out = BodyContent(missing_item_range=self.missing_item_range())
        attr_names = {a.name for a in schema.attributes}
        block_types = {b.type: b for b in schema.blocks}
        for a in schema.attributes:
            attr = self.body.attributes.get(a.name)
            if attr is None or a.name in self.hidden:
                if a.required:
                    diags.add("Missing required argument",
                              f'The argument "{a.name}" is required, but no definition was found.',
                              self.missing_item_range())
                continue
            out.attributes[a.name] = ContentAttribute(a.name, attr.expr, attr.range, attr.name_range)
        if not partial:
            for name, attr in self.body.attributes.items():
                if name in attr_names or name in self.hidden:
                    continue
                hint = suggest(name, sorted(attr_names))
                detail = f'An argument named "{name}" is not expected here.'
                if name in block_types:
                    detail += f' Did you mean to define a block of type "{name}"?'
                elif hint:
                    detail += f' Did you mean "{hint}"?'
                diags.add("Unsupported argument", detail, attr.name_range)
        for block in self.body.blocks:
            bs = block_types.get(block.type)
            if bs is None:
                if not partial:
                    self._unsupported_block(block, attr_names, sorted(block_types), diags)
                continue
            if not _labels_ok(block, bs, diags):
                continue
            out.blocks.append(ContentBlock(block.type, list(block.labels), NativeBody(block.body), block.def_range,
                                           block.type_range, list(block.label_ranges)))
        return out, diags

    @staticmethod
    def _unsupported_block(block: ast.Block, attr_names: set[str], types: list[str], diags: Diagnostics) -> None:
        if block.type in attr_names:
            diags.add("Unsupported block type", f'Blocks of type "{block.type}" are not expected here. Did you mean '
                      f'to define argument "{block.type}"? If so, use the equals sign to assign it a value.',
                      block.type_range)
            return
        hint = suggest(block.type, types)
        hint = f' Did you mean "{hint}"?' if hint else ""
        diags.add("Unsupported block type", f'Blocks of type "{block.type}" are not expected here.{hint}',
                  block.type_range)

    def just_attributes(self) -> tuple[dict[str, ContentAttribute], Diagnostics]:
        diags = Diagnostics()
        for block in self.body.blocks:
            diags.add("Unexpected block", f'Blocks are not allowed here. Did you mean to define argument '
                      f'"{block.type}"? If so, use the equals sign to assign it a value.', block.type_range)
        attrs = {n: ContentAttribute(n, a.expr, a.range, a.name_range) for n, a in self.body.attributes.items()
                 if n not in self.hidden}
        return attrs, diags


def _labels_ok(block: ast.Block, bs: BlockSchema, diags: Diagnostics) -> bool:
    want, got = len(bs.labels), len(block.labels)
    if got > want:
        rng = block.label_ranges[want]
        if want == 0:
            detail = f'No labels are expected for {block.type} blocks.'
        else:
            names = ", ".join(bs.labels)
            detail = f'Only {want} labels ({names}) are expected for {block.type} blocks.'
        diags.add(f"Extraneous label for {block.type}", detail, rng, block.def_range)
        return False
    if got < want:
        missing = bs.labels[got]
        names = ", ".join(bs.labels)
        rng = block.open_brace_range or block.type_range
        diags.add(f"Missing {missing} for {block.type}",
                  f"All {block.type} blocks must have {want} labels ({names}).", rng, block.def_range)
        return False
    return True
