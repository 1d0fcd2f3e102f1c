"""``imagesmith build -executor=celery+redis://...``: send each build to the farm and follow it.

The template is loaded and every build prepared here first (so a bad template fails before
anything is sent), the template directory goes to the broker once as a content-addressed bundle,
and each build is queued on the queue of the capability it needs. Output events come back through
the build's log stream and are printed exactly as a local run prints them; the summary lists
where each artifact's files are. Sensitive variables are never sent: each worker takes them from
its own ``PKR_VAR_<name>``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagesmith.errors import ImagesmithError, UsageError
from imagesmith.farm.board import Board, RedisError, mask_url, redis_url
from imagesmith.farm.bundle import make_bundle
from imagesmith.farm.follow import Follower
from imagesmith.farm.report import RemoteBuild
from imagesmith.farm.routing import queue_for, route_builds
from imagesmith.farm.store import check_store_url
from imagesmith.farm.varfiles import hcl2_var_files, read_json_var_files
from imagesmith.secrets import scrub
from imagesmith.ui import BUILD_COLORS, ColoredUi, MachineReadableUi, Ui


@dataclass(frozen=True)
class FarmOptions:
    executor: str
    store: str = ""
    routes: Mapping[str, str] | None = None


@dataclass(frozen=True)
class BuildSettings:
    vars: Mapping[str, str]
    var_files: Sequence[str]
    only: Sequence[str]
    except_: Sequence[str]
    on_error: str
    force: bool
    timestamps: bool
    color: bool


def build_on_farm(path: str, settings: BuildSettings, farm: FarmOptions, ui: Ui) -> int:
    """Run the template's builds on the farm; return the exit status (the summary is printed)."""
    from imagesmith.api import _prepare, load, run_scope
    from imagesmith.template.model import is_hcl2

    url = redis_url(farm.executor)
    store = check_store_url(farm.store) if farm.store else ""
    if path == "-":
        raise UsageError("-executor needs a template file (its directory is sent to the workers), not stdin")
    with run_scope():
        template = load(path, settings.vars, settings.var_files)
        builds = _prepare(template, settings.vars, settings.var_files, settings.only, settings.except_)
        table = route_builds([(b.name, b.builder_type) for b in builds], farm.routes or {})
        hcl2 = is_hcl2(path)
        variables = {**({} if hcl2 else read_json_var_files(settings.var_files)), **settings.vars}
        # declared sensitive, or a value this run masks: never sent
        masked = {name for name, value in variables.items() if value and scrub(value) != value}
        sensitive = sorted(set(template.sensitive_variables) | masked)
        sent = {k: v for k, v in variables.items() if k not in sensitive}
        var_files = hcl2_var_files(settings.var_files, sensitive) if hcl2 else []
        root, relative = bundle_root(path)
        bundle = make_bundle(root)
        board = Board(url)
        try:
            try:
                board.put_bundle(bundle.digest, bundle.data)
            except RedisError as exc:
                raise ImagesmithError(f"cannot reach the farm's broker at {mask_url(url)}: {exc}") from None
            spec = {
                "template": relative,
                "vars": sent,
                "var_files": var_files,
                "sensitive": sensitive,
                "on_error": settings.on_error,
                "force": settings.force,
                "timestamps": settings.timestamps,
            }
            remote = make_remote_builds(list(table.items()), ui, settings.color)
            follower = Follower(board, remote, ui)
            with follower.signals():  # a Ctrl-C while queueing cancels what was queued
                submit(url, remote, {"bundle": bundle.digest, "store": store}, spec)
                return follower.run()
        finally:
            board.close()


def bundle_root(path: str) -> tuple[Path, str]:
    """The directory sent to the workers, and the template's path inside it."""
    target = Path(path).absolute()
    if target.is_dir():
        return target, "."
    return target.parent, target.name


def make_remote_builds(table: list[tuple[str, str]], ui: Ui, color: bool) -> list[RemoteBuild]:
    """One followed build per (name, capability), coloured as a local run colours them."""
    run_id = str(uuid.uuid4())
    colored = color and not isinstance(ui, MachineReadableUi)
    remote: list[RemoteBuild] = []
    for i, (name, capability) in enumerate(table):
        shade = BUILD_COLORS[i % len(BUILD_COLORS)] if colored else ""
        remote.append(RemoteBuild(name, f"{run_id}-{i}", capability, color=shade, base=ui))
        if colored:
            ColoredUi(ui, shade).say(f"{name}: output will be in this color.")
    if colored and remote:
        ui.say("")
    return remote


def submit(url: str, remote: Sequence[RemoteBuild], common: Mapping[str, Any], spec: Mapping[str, Any]) -> None:
    """Queue every build (Celery is imported here, and only when a build goes to the farm)."""
    try:
        from imagesmith.farm.app import make_app, send_build
    except ImportError as exc:
        raise ImagesmithError(f"the farm needs Celery: {exc}", hint="pip install 'imagesmith[farm]'") from None
    app = make_app(url)
    try:
        for build in remote:
            request = {**common, "build_id": build.build_id, "name": build.name, "spec": {**spec, "name": build.name}}
            send_build(app, request, queue_for(build.capability))
    except Exception as exc:  # kombu's errors when the broker refuses the message
        raise ImagesmithError(f"cannot queue builds on {mask_url(url)}: {exc}") from None
    finally:
        app.close()
