"""Packer's template engine: Go ``text/template`` with Packer's function map.

- :func:`render_once` is Packer's ``interpolate.RenderOnce`` (what config decoding uses, so
  ``{{build `ID`}}`` at prepare time stays ``{{.ID}}`` for the step that knows it).
- :func:`render` is ``interpolate.Render``: re-render until the text stops changing.
- :func:`parse` checks syntax only.

Every failure is an :class:`imagesmith.errors.RenderError` whose message says where
(``template: root:1:3: executing "root" at <env "HOME">: error calling env: ...``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from imagesmith.errors import RenderError
from imagesmith.template.engine.executor import Executor
from imagesmith.template.engine.functions import BUILTINS, GoFunc, as_gofunc
from imagesmith.template.engine.gofmt import NO_VALUE
from imagesmith.template.engine.parser import Template, parse_template

if TYPE_CHECKING:
    from imagesmith.template.context import RenderContext

__all__ = ["MAX_RENDER_PASSES", "RenderError", "Template", "parse", "render", "render_once"]

#: Packer's Render loops without a bound; a template that keeps producing new ``{{`` (a quine)
#: would hang it. We stop with an error instead.
MAX_RENDER_PASSES = 100
#: A template whose output doubles on every pass would exhaust memory long before 100 passes.
MAX_OUTPUT_CHARS = 16 * 1024 * 1024


def _known_names(extra: tuple[str, ...]) -> frozenset[str]:
    from imagesmith.template.funcs import PACKER_FUNC_NAMES

    return frozenset(BUILTINS) | PACKER_FUNC_NAMES | frozenset(extra)


@functools.lru_cache(maxsize=8192)
def _parse_cached(text: str, extra: tuple[str, ...]) -> Template:
    try:
        return parse_template(text, _known_names(extra))
    except RecursionError:
        raise RenderError("template: root: expression nested too deeply") from None


def parse(text: str, extra_funcs: Iterable[str] = ()) -> Template:
    """Parse ``text`` (syntax and function names only). Raises RenderError on bad syntax.

    ``extra_funcs`` names functions beyond Go's builtins and Packer's (e.g. ``clean_resource_name``).
    """
    return _parse_cached(text, tuple(sorted(extra_funcs)))


# Function maps of recently used contexts, keyed by identity (contexts hold dicts, so they are
# not hashable). The entry keeps the context alive, so an id is never reused while cached.
_FUNC_MAPS: dict[int, tuple[RenderContext, dict[str, GoFunc]]] = {}
_FUNC_MAPS_MAX = 64


def _func_map(ctx: RenderContext) -> dict[str, GoFunc]:
    cached = _FUNC_MAPS.get(id(ctx))
    if cached is not None and cached[0] is ctx:
        return cached[1]
    from imagesmith.template.funcs import make_packer_funcs

    funcs: dict[str, GoFunc] = dict(BUILTINS)
    funcs.update(make_packer_funcs(ctx))
    for name, fn in ctx.funcs.items():
        funcs[name] = as_gofunc(fn)
    if len(_FUNC_MAPS) >= _FUNC_MAPS_MAX:
        _FUNC_MAPS.clear()
    _FUNC_MAPS[id(ctx)] = (ctx, funcs)
    return funcs


def render_once(text: str, ctx: RenderContext) -> str:
    """One pass of the template ``text`` with ``ctx`` (Packer's ``RenderOnce``)."""
    if "{{" not in text:
        return text
    tmpl = _parse_cached(text, tuple(sorted(ctx.funcs)) if ctx.funcs else ())
    data: Any = NO_VALUE if ctx.data is None else ctx.data
    try:
        return Executor(tmpl, _func_map(ctx)).execute(tmpl.root, data)
    except RecursionError:
        raise RenderError("template: root: expression nested too deeply") from None


def render(text: str, ctx: RenderContext) -> str:
    """Render ``text`` repeatedly until the output stops changing (Packer's ``Render``)."""
    for _ in range(MAX_RENDER_PASSES):
        if "{{" not in text:
            return text
        rendered = render_once(text, ctx)
        if rendered == text:
            return rendered
        if len(rendered) > MAX_OUTPUT_CHARS:
            raise RenderError(f"template: root: output grew beyond {MAX_OUTPUT_CHARS} characters while re-rendering")
        text = rendered
    raise RenderError(f"template: root: output still changing after {MAX_RENDER_PASSES} rendering passes")
