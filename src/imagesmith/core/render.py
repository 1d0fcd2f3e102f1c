"""The one run-time render: what Packer renders while a build runs, with the build's context.

Packer renders some fields only once the build knows its data: a provisioner's
``execute_command`` and ``inline`` (with ``.Path``, ``.Vars``, ``.ID``...), a post-processor's
``output`` (with ``.BuildName``, ``.ChecksumType``...), the qemu ``boot_command`` and
``qemuargs``, docker's ``run_command``. Every plugin's interpolation context there carries the
same things (``interpolate.Context`` filled by ``config.Decode`` from the core's
``packer_build_name``, ``packer_builder_type``, ``packer_template_path``,
``packer_user_variables`` and ``packer_core_version``): ``build_name``, ``build_type``,
``template_dir``, ``packer_version`` and ``user`` all work; ``env``, ``consul_key``, ``vault`` and
``aws_secretsmanager`` fail ("not allowed here"); ``{{ build `K` }}`` reads the data; the
time functions report the run's start.

Plugins call :func:`render_runtime` (or :func:`render_all`) with their :class:`BuildInfo` and the
data; nothing outside ``template/`` and ``core/`` builds a :class:`RenderContext` itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from imagesmith import PACKER_COMPAT_VERSION
from imagesmith.core.plugin import BuildInfo
from imagesmith.errors import BuildError, RenderError
from imagesmith.template.context import RenderContext


def go_struct(go_type: str, **fields: Any) -> object:
    """Template data that Packer passes as a pointer to a Go struct, e.g. docker's ``run_command``
    sees ``*docker.startContainerTemplate{Image}``: an unknown ``.Field`` is an error naming that
    type and ``{{ build `K` }}`` is refused, where map data gives ``<no value>`` and looks ``K`` up.
    """
    return type(go_type, (), dict(fields))()


def runtime_context(info: BuildInfo, data: Mapping[str, Any] | object | None = None) -> RenderContext:
    """Packer's run-time ``interpolate.Context`` for one plugin of the build ``info``.

    ``data`` is what ``.Field`` and ``{{ build `Field` }}`` read: a mapping (Packer's
    ``map[string]interface{}``, e.g. the generated data), a :func:`go_struct`, or None (no data).
    """
    return RenderContext(
        user_vars=dict(info.user_variables),
        build_name=info.build_name or None,
        build_type=info.builder_type or None,
        template_path=info.template_path or None,
        packer_version=PACKER_COMPAT_VERSION,
        data=dict(data) if isinstance(data, Mapping) else data,
    )


def render_runtime(
    text: str, info: BuildInfo, data: Mapping[str, Any] | object | None = None, *, error: str | None = None
) -> str:
    """Render ``text`` as Packer renders a field at run time (``interpolate.Render``).

    Raises :class:`RenderError`, or, with ``error``, a :class:`BuildError` whose message is
    ``error`` followed by the engine's (``"Error processing command: "`` + ``template: root:1:2: ...``).
    """
    if "{{" not in text:
        return text
    from imagesmith.template.engine import render

    try:
        return render(text, runtime_context(info, data))
    except RenderError as exc:
        if error is None:
            raise
        raise BuildError(f"{error}{exc}") from exc


def render_all(
    texts: Iterable[str], info: BuildInfo, data: Mapping[str, Any] | object | None = None, *, error: str | None = None
) -> list[str]:
    """:func:`render_runtime` for each string of a list field (one context for all of them)."""
    items = list(texts)
    if not any("{{" in text for text in items):
        return items
    from imagesmith.template.engine import render

    context = runtime_context(info, data)
    out = []
    for text in items:
        try:
            out.append(render(text, context) if "{{" in text else text)
        except RenderError as exc:
            if error is None:
                raise
            raise BuildError(f"{error}{exc}") from exc
    return out
