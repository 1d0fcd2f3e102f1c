"""The variables an expression refers to (hcl's ``Variables``), for evaluation order and checks."""

from __future__ import annotations

from imagesmith.hcl2 import ast


def traversals(expr: ast.Expr) -> list[list[ast.Traverser]]:
    """Every absolute traversal (``var.x``, ``local.y[0]``) in ``expr``, excluding names bound by
    ``for`` expressions and directives inside it."""
    out: list[list[ast.Traverser]] = []
    _collect(expr, frozenset(), out)
    return out


def _collect(e: ast.Expr, bound: frozenset[str], out: list[list[ast.Traverser]]) -> None:
    if isinstance(e, ast.ScopeTraversal):
        root = e.traversal[0]
        if isinstance(root, ast.TraverseRoot) and root.name not in bound:
            out.append(e.traversal)
        return
    if isinstance(e, ast.For):
        _collect(e.coll, bound, out)
        inner = bound | {n for n in (e.key_var, e.val_var) if n}
        for sub in (e.key_expr, e.val_expr, e.cond):
            if sub is not None:
                _collect(sub, inner, out)
        return
    for child in ast.children(e):
        _collect(child, bound, out)


def referenced_attrs(expr: ast.Expr, root: str) -> set[str]:
    """Names used as ``root.<name>`` in ``expr`` (e.g. the locals a local depends on)."""
    names: set[str] = set()
    for trav in traversals(expr):
        if trav[0].name == root and len(trav) > 1 and isinstance(trav[1], ast.TraverseAttr):  # type: ignore[union-attr]
            names.add(trav[1].name)
    return names
