"""The client's end-of-run output for farm builds: Packer's summary, plus where each artifact is."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from imagesmith.core.build import format_duration
from imagesmith.core.run_builds import summarize
from imagesmith.errors import EXIT_INTERRUPTED
from imagesmith.ui import ColoredUi, TargetedUi, Ui


@dataclass
class RemoteBuild:
    """One build sent to the farm, as the client follows it."""

    name: str
    build_id: str
    capability: str
    color: str = ""
    position: str = "0-0"  # last log stream entry seen
    worker: str = ""
    lease: float = 0.0
    result: dict[str, Any] | None = None
    lost_since: float | None = None
    queued_at: float = field(default_factory=time.monotonic)
    warned_waiting: bool = False

    @property
    def ui(self) -> TargetedUi:
        return TargetedUi(ColoredUi(self.base, self.color), self.name)

    base: Ui = field(default_factory=Ui)

    @property
    def error(self) -> str | None:
        return None if self.result is None else self.result.get("error")


def report_summary(builds: Sequence[RemoteBuild], ui: Ui, start: float) -> int:
    """Wait time, errors, then each artifact and where its files are (a store URL or worker:path)."""
    return summarize(builds, ui, start, lambda b: bool(b.result and b.result["artifacts"]), report_artifacts)


def report_artifacts(build: RemoteBuild, ui: Ui) -> None:
    assert build.result is not None
    artifacts = build.result["artifacts"]
    name = build.name
    ui.machine("artifact-count", str(len(artifacts)), target=name)
    for i, artifact in enumerate(artifacts):
        index = str(i)
        locations = artifact.get("locations") or artifact["files"]
        ui.machine("artifact", index, "builder-id", artifact["builder_id"], target=name)
        ui.machine("artifact", index, "id", artifact["id"], target=name)
        ui.machine("artifact", index, "string", artifact["string"], target=name)
        ui.machine("artifact", index, "files-count", str(len(locations)), target=name)
        for fi, location in enumerate(locations):
            ui.machine("artifact", index, "file", str(fi), location, target=name)
        ui.machine("artifact", index, "end", target=name)
        ui.say(f"--> {name}: {artifact['string']}")
        for location in locations:
            ui.say(f"--> {name}: stored at {location}")


def report_interrupted(builds: Sequence[RemoteBuild], ui: Ui, start: float, *, abandoned: bool) -> int:
    """After Ctrl-C: builds still cleaning up on their workers (when we stopped waiting), Packer's last line."""
    for build in builds:
        if build.result is None:
            where = f" on worker {build.worker}" if build.worker else ""
            build.ui.error(f"Still cleaning up{where} (build id {build.build_id})")
    ui.say(f"\n==> Wait completed after {format_duration(time.monotonic() - start)}")
    if abandoned:
        ui.say("Cancelled builds; cleanup was interrupted.")
    else:
        ui.say("Cleanly cancelled builds after being interrupted.")
    return EXIT_INTERRUPTED
