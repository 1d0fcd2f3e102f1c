"""What a template expression can see while it is rendered: :class:`RenderContext`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: The instant used outside any run (plain library use, tests): the time of import.
PROCESS_START: datetime = datetime.now(UTC)
_run_start: ContextVar[datetime] = ContextVar("imagesmith_run_start")


def run_start_time() -> datetime:
    """The current run's start (Packer's ``interpolate.InitTime``): isotime, strftime, timestamp
    all read it, so every expression of one run agrees on "now" and two runs in one process do not."""
    return _run_start.get(PROCESS_START)


@contextmanager
def run_clock(start: datetime | None = None) -> Iterator[datetime]:
    """Start a run's clock for the code inside (and the tasks and threads' contexts it starts)."""
    token = _run_start.set(start or datetime.now(UTC))
    try:
        yield _run_start.get()
    finally:
        _run_start.reset(token)


@dataclass(frozen=True)
class RenderContext:
    """Inputs of one rendering (Packer's ``interpolate.Context``).

    - ``user_vars``: values for ``{{user `name`}}`` (``None``: ``user`` fails with Packer's "test").
    - ``build_name`` / ``build_type`` / ``packer_version``: ``None`` makes the function fail
      with Packer's "... not available".
    - ``template_path``: absolute path of the template file; ``template_dir`` uses its directory.
    - ``enable_env``: True only while rendering variable defaults (env, consul_key, vault,
      aws_secretsmanager allowed).
    - ``in_variables``: an unknown ``user`` variable is an error (``variable not set: NAME``)
      instead of "" (this drives the variables retry loop).
    - ``data``: what ``.Field`` reads (a dict or an object); ``None`` = no data.
    - ``funcs``: extra functions, e.g. a builder's ``clean_resource_name``.
    - ``build_passthrough``: at prepare time ``{{build `ID`}}`` renders to ``{{.ID}}`` so that
      it can be filled in later; otherwise it is looked up in ``data``.
    - ``init_time``: the instant isotime/strftime/timestamp/uuid report; by default the current
      run's start (:func:`run_start_time`).
    """

    user_vars: Mapping[str, str] | None = field(default_factory=dict)
    build_name: str | None = None
    build_type: str | None = None
    template_path: str | None = None
    enable_env: bool = False
    in_variables: bool = False
    packer_version: str | None = None
    data: Any = None
    funcs: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    build_passthrough: bool = False
    init_time: datetime = field(default_factory=run_start_time)
