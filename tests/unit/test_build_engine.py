"""The build engine without templates: PreparedBuild objects built by hand, real asyncio."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping
from typing import Any

import pytest

from imagesmith.core.build import BuildRunner, format_duration, format_errors
from imagesmith.core.chain import decide_keep, run_chains
from imagesmith.core.generated import CommData, GeneratedData
from imagesmith.core.plugin import (
    Artifact,
    BuildContext,
    Builder,
    BuildInfo,
    Communicator,
    PostProcessor,
    PostProcessResult,
    Provisioner,
)
from imagesmith.core.prepared import PreparedBuild, PreparedPostProcessor, PreparedProvisioner
from imagesmith.core.run_builds import RunOptions, run_builds
from imagesmith.core.steps import CleanupLedger, Step, current_ledger, run_steps
from imagesmith.errors import BuildError
from imagesmith.ui import ConsoleUi, MachineReadableUi, Ui


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []


class FakeArtifact(Artifact):
    def __init__(self, name: str, rec: Recorder) -> None:
        self.name = name
        self.rec = rec
        self.builder_id = "test.fake"

    @property
    def id(self) -> str:
        return self.name

    async def destroy(self) -> None:
        self.rec.events.append(f"destroy {self.name}")


class FakePP(PostProcessor):
    type_name = "fake"
    config_class = object

    def __init__(self, name: str, rec: Recorder, keep: bool, force: bool, fail: bool = False) -> None:
        super().__init__(None, BuildInfo("b", "fake"))
        self.name, self.rec, self.keep, self.force, self.fail = name, rec, keep, force, fail

    async def post_process(self, ui: Ui, artifact: Artifact) -> PostProcessResult:
        self.rec.events.append(f"{self.name}({artifact.id})")
        if self.fail:
            raise BuildError(f"{self.name} broke")
        return PostProcessResult(FakeArtifact(self.name, self.rec), self.keep, self.force)


def pp(name: str, rec: Recorder, keep: bool, force: bool, user: bool | None = None, fail: bool = False) -> Any:
    return PreparedPostProcessor("fake", name, FakePP(name, rec, keep, force, fail), user)


def quiet_ui() -> ConsoleUi:
    return ConsoleUi(io.StringIO(), io.StringIO(), color=False)


@pytest.mark.parametrize(
    ("default", "force", "user", "expected"),
    [
        (True, True, None, True),
        (True, True, False, True),  # forced keep wins over the user's false
        (True, False, False, False),
        (False, False, True, True),
        (False, False, None, False),
        (False, True, True, True),
    ],
)
def test_keep_rule_is_packers(default: bool, force: bool, user: bool | None, expected: bool) -> None:
    assert decide_keep(pp("x", Recorder(), default, force, user), default, force) is expected


def test_chains_keep_and_destroy_like_packer() -> None:
    rec = Recorder()
    builder = FakeArtifact("builder", rec)
    chains = [
        [pp("compress", rec, False, False), pp("upload", rec, False, False)],  # destroys compress output
        [pp("checksum", rec, True, True, user=False)],  # forced keep: builder artifact kept
    ]
    result = asyncio.run(run_chains(chains, builder, quiet_ui(), quiet_ui(), "b"))
    assert [a.id for a in result.artifacts] == ["builder", "upload", "checksum"]
    assert "destroy compress" in rec.events
    assert "destroy builder" not in rec.events
    assert result.errors == []


def test_builder_artifact_destroyed_when_no_first_pp_keeps_it() -> None:
    rec = Recorder()
    builder = FakeArtifact("builder", rec)
    chains = [[pp("compress", rec, False, False)]]
    result = asyncio.run(run_chains(chains, builder, quiet_ui(), quiet_ui(), "b"))
    assert [a.id for a in result.artifacts] == ["compress"]
    assert rec.events[-1] == "destroy builder"


def test_failing_pp_abandons_only_its_chain() -> None:
    rec = Recorder()
    builder = FakeArtifact("builder", rec)
    chains = [
        [pp("a", rec, True, False), pp("bad", rec, True, False, fail=True), pp("never", rec, True, False)],
        [pp("c", rec, True, False)],
    ]
    result = asyncio.run(run_chains(chains, builder, quiet_ui(), quiet_ui(), "b"))
    assert "never(a)" not in rec.events and "c(builder)" in rec.events
    assert result.errors == ["Post-processor failed: bad broke"]
    assert [a.id for a in result.artifacts] == ["builder", "c"]


def test_no_chains_keeps_builder_artifact() -> None:
    rec = Recorder()
    result = asyncio.run(run_chains([], FakeArtifact("builder", rec), quiet_ui(), quiet_ui(), "b"))
    assert [a.id for a in result.artifacts] == ["builder"] and rec.events == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.005726, "5 milliseconds 726 microseconds"),
        (1.000001, "1 second 1 microsecond"),
        (63.5, "1 minute 3 seconds"),
        (3600 * 25, "1 day 1 hour"),
        (0.0000001, "0 microseconds"),
    ],
)
def test_durations_like_durafmt(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_multi_error_text() -> None:
    assert format_errors(["a"]) == "1 error(s) occurred:\n\n* a"


def test_hook_data_sentinels() -> None:
    data = GeneratedData(http_ip="10.0.2.2", http_port=8080).populated("uuid")
    assert data["ID"] == "ERR_ID_NOT_IMPLEMENTED_BY_BUILDER"
    assert data["PackerHTTPAddr"] == "10.0.2.2:8080"
    assert data["PackerHTTPPort"] == "8080"
    assert data["PackerRunUUID"] == "uuid"
    assert "Host" not in data  # no communicator config: Packer leaves the keys out
    assert GeneratedData(id="x").populated("u")["PackerHTTPPort"] == "ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER"
    assert GeneratedData() == {}  # a builder without generated data (file)


def test_generated_data_is_the_template_data() -> None:
    data = GeneratedData(id="c1", comm=CommData(conn_type="docker")).with_extra(ImageSha256="sha")
    assert data == {
        "ID": "c1", "Host": "", "Port": "0", "User": "", "Password": "", "ConnType": "docker",
        "SSHPublicKey": "", "SSHPrivateKey": "", "SSHPrivateKeyFile": "", "SSHAgentAuth": "false",
        "WinRMPassword": "", "ImageSha256": "sha",
    }  # fmt: skip
    assert GeneratedData.from_mapping({"ID": "Null"}) == {"ID": "Null"}
    assert GeneratedData.from_mapping(None) == {}


# --- provisioners with meta-options -------------------------------------------------------


class ScriptedProv(Provisioner):
    type_name = "scripted"
    config_class = object

    def __init__(self, rec: Recorder, outcomes: list[str], sleep: float = 0.0) -> None:
        super().__init__(None, BuildInfo("b", "fake"))
        self.rec, self.outcomes, self.sleep = rec, outcomes, sleep

    async def provision(self, ui: Ui, comm: Communicator | None, data: Mapping[str, str]) -> None:
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        self.rec.events.append(f"prov:{outcome}:{data.get('ID')}")
        await asyncio.sleep(self.sleep)
        if outcome != "ok":
            raise BuildError(outcome)


class HookBuilder(Builder):
    type_name = "hook"
    config_class = object

    def __init__(self, rec: Recorder) -> None:
        super().__init__(None, BuildInfo("b", "hook"))
        self.rec = rec

    async def run(self, ctx: BuildContext) -> Artifact | None:
        failed = False
        try:
            await ctx.provision(object(), GeneratedData(id="abc"))  # type: ignore[arg-type]
        except BuildError:
            failed = True
            raise
        finally:
            if failed:
                await ctx.cleanup_provision(object(), GeneratedData(id="abc"))  # type: ignore[arg-type]
        return FakeArtifact("hooked", self.rec)


def make_build(rec: Recorder, provs: list[PreparedProvisioner], cleanup: PreparedProvisioner | None = None) -> Any:
    return PreparedBuild(
        name="b",
        raw_name="b",
        builder_type="hook",
        info=BuildInfo("b", "hook", run_uuid="run-1"),
        builder=HookBuilder(rec),
        provisioners=provs,
        error_cleanup=cleanup,
    )


def prepared(rec: Recorder, outcomes: list[str], **meta: Any) -> PreparedProvisioner:
    sleep = meta.pop("sleep", 0.0)
    prov = ScriptedProv(rec, outcomes, sleep)
    return PreparedProvisioner("scripted", make=lambda data: prov, **meta)


def run_one(build: Any) -> tuple[Any, str]:
    out = io.StringIO()
    ui = ConsoleUi(out, out, color=False)
    outcome = asyncio.run(BuildRunner(build, ui).run())
    return outcome, out.getvalue()


def test_retries_then_success_with_packer_messages() -> None:
    rec = Recorder()
    outcome, text = run_one(make_build(rec, [prepared(rec, ["boom", "boom", "ok"], max_retries=3)]))
    assert outcome.error is None
    assert 'Provisioner failed with "boom", retrying with 3 trie(s) left' in text
    assert "retrying with 2 trie(s) left" in text
    assert rec.events == ["prov:boom:abc", "prov:boom:abc", "prov:ok:abc"]


def test_retries_exhausted_report_last_error() -> None:
    rec = Recorder()
    outcome, text = run_one(make_build(rec, [prepared(rec, ["first", "second"], max_retries=1)]))
    assert "retry limit reached." in text
    assert outcome.error == "second (after 2 attempts)"


def test_timeout_applies_even_with_pause_before() -> None:
    rec = Recorder()
    build = make_build(rec, [prepared(rec, ["ok"], pause_before=0.01, timeout=0.05, sleep=5)])
    outcome, text = run_one(build)
    assert "Pausing 10ms before the next provisioner..." in text
    assert "Setting a 50ms timeout for the next provisioner..." in text
    assert "Cancelling provisioner after a timeout..." in text
    assert outcome.error == "context canceled"


def test_error_cleanup_provisioner_runs_and_combines_errors() -> None:
    rec = Recorder()
    build = make_build(rec, [prepared(rec, ["bad"])], cleanup=prepared(rec, ["worse"]))
    outcome, text = run_one(build)
    assert "Provisioning step had errors: Running the cleanup provisioner, if present..." in text
    assert rec.events == ["prov:bad:abc", "prov:worse:abc"]
    assert outcome.error == "Cleanup failed: worse. Original Provisioning error: bad"


def test_first_error_stops_provisioning() -> None:
    rec = Recorder()
    outcome, _ = run_one(make_build(rec, [prepared(rec, ["bad"]), prepared(rec, ["ok"])]))
    assert rec.events == ["prov:bad:abc"] and outcome.error == "bad"


# --- steps, ledger, cancellation ----------------------------------------------------------------


class NoteStep(Step[Recorder]):
    def __init__(self, label: str, fail: bool = False, block: bool = False) -> None:
        self.label, self.fail, self.block = label, fail, block

    @property
    def name(self) -> str:
        return self.label

    async def run(self, state: Recorder) -> None:
        state.events.append(f"run {self.label}")
        if self.block:
            await asyncio.sleep(60)
        if self.fail:
            raise BuildError("step failed")

    async def cleanup(self, state: Recorder) -> None:
        await asyncio.sleep(0)
        state.events.append(f"cleanup {self.label}")


def test_cancellation_runs_every_cleanup_and_fills_the_ledger() -> None:
    rec = Recorder()
    ledger = CleanupLedger("b")

    async def main() -> None:
        async def build() -> None:
            current_ledger.set(ledger)
            await run_steps([NoteStep("a"), NoteStep("b", block=True)], rec, quiet_ui())

        task = asyncio.create_task(build())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert rec.events == ["run a", "run b", "cleanup b", "cleanup a"]
    assert ledger.cleaned == ["step 'b'", "step 'a'"] and not ledger.pending


def test_abort_skips_cleanups_and_leaves_them_pending() -> None:
    rec = Recorder()
    ledger = CleanupLedger("b")
    out = io.StringIO()

    async def build() -> None:
        current_ledger.set(ledger)
        await run_steps([NoteStep("a"), NoteStep("b", fail=True)], rec, ConsoleUi(out, out), on_error="abort")

    with pytest.raises(BuildError):
        asyncio.run(build())
    assert rec.events == ["run a", "run b"]
    assert 'aborted: skipping cleanup of step "a"' in out.getvalue()
    assert not ledger.cleaned


# --- run_builds: parallelism and summary --------------------------------------------------------


class GateBuilder(Builder):
    """Counts how many builds run at once."""

    type_name = "gate"
    config_class = object
    running = 0
    peak = 0

    async def run(self, ctx: BuildContext) -> Artifact | None:
        GateBuilder.running += 1
        GateBuilder.peak = max(GateBuilder.peak, GateBuilder.running)
        await asyncio.sleep(0.05)
        GateBuilder.running -= 1
        return None


def gate_builds(n: int) -> list[PreparedBuild]:
    return [
        PreparedBuild(f"g{i}", f"g{i}", "gate", BuildInfo(f"g{i}", "gate"), GateBuilder(None, BuildInfo("g", "gate")))
        for i in range(n)
    ]


@pytest.mark.parametrize(("limit", "peak"), [(0, 5), (2, 2), (1, 1)])
def test_parallel_builds_limit(limit: int, peak: int) -> None:
    GateBuilder.peak = 0
    out = io.StringIO()
    code = asyncio.run(run_builds(gate_builds(5), ConsoleUi(out, out), RunOptions(parallel_builds=limit)))
    assert code == 0 and GateBuilder.peak == peak
    assert "==> Builds finished but no artifacts were created." in out.getvalue()


def test_machine_readable_summary_masks_and_escapes() -> None:
    from imagesmith.secrets import secrets

    rec = Recorder()
    secrets.add("hunter2")
    try:
        build = make_build(rec, [prepared(rec, ["bad, very hunter2"])])
        out = io.StringIO()
        code = asyncio.run(run_builds([build], MachineReadableUi(out), RunOptions()))
    finally:
        secrets.clear()
    text = out.getvalue()
    assert code == 1
    assert ",,error-count,1" in text
    assert ",b,error,bad%!(PACKER_COMMA) very <sensitive>" in text
    assert "hunter2" not in text


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colours_per_build_and_plain_summary() -> None:
    out = Terminal()
    builds = gate_builds(2)
    code = asyncio.run(run_builds(builds, ConsoleUi(out, out, color=True), RunOptions(color=True)))
    text = out.getvalue()
    assert code == 0
    assert "\033[1m\033[32mg0: output will be in this color.\033[0m" in text
    assert "\033[1m\033[36mg1: output will be in this color.\033[0m" in text
    assert "\033[1m\033[32mBuild 'g0' finished after" in text
    assert "\n==> Builds finished but no artifacts were created.\n" in text  # the summary is not coloured
