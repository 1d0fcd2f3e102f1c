"""StepStopEBSBackedInstance and StepModifyEBSBackedInstance."""

from __future__ import annotations

from imagesmith.builders.amazon.state import EbsState
from imagesmith.builders.amazon.steps.run_instance import instance_state
from imagesmith.builders.amazon.wait import wait_limits, wait_until
from imagesmith.core.steps import Step


class StopInstance(Step[EbsState]):
    @property
    def name(self) -> str:
        return "StepStopEBSBackedInstance"

    async def run(self, state: EbsState) -> None:
        ui = state.ctx.ui
        if state.config.disable_stop_instance:
            ui.say("Automatic instance stop disabled. Please stop instance manually.")
        else:
            ui.say("Stopping the source instance...")
            await state.aws.call("ec2", "StopInstances", InstanceIds=[state.instance_id])
        ui.say("Waiting for the instance to stop...")
        what = f"instance {state.instance_id} to be stopped"
        await wait_until(
            what,
            lambda: instance_state(state),
            {"stopped"},
            failed=frozenset({"terminated"}),
            limits=wait_limits(state.config.aws_polling),
        )


class ModifyInstance(Step[EbsState]):
    """``sriov_support`` and ``ena_support`` on the stopped instance."""

    @property
    def name(self) -> str:
        return "StepModifyEBSBackedInstance"

    async def run(self, state: EbsState) -> None:
        cfg = state.config
        ui = state.ctx.ui
        if cfg.sriov_support:
            ui.say("Enabling Enhanced Networking (SR-IOV)...")
            await state.aws.call("ec2", "ModifyInstanceAttribute", InstanceId=state.instance_id,
                                 SriovNetSupport={"Value": "simple"})  # fmt: skip
        if cfg.ena_support is not None:
            ui.say(f"{'Enabling' if cfg.ena_support else 'Disabling'} Enhanced Networking (ENA)...")
            await state.aws.call("ec2", "ModifyInstanceAttribute", InstanceId=state.instance_id,
                                 EnaSupport={"Value": cfg.ena_support})  # fmt: skip
