"""StepHTTPIPDiscover, StepConfigureVRDP and StepPortForwarding: the VM's addresses and ports."""

from __future__ import annotations

from imagesmith.builders.virtualbox import commands
from imagesmith.builders.virtualbox.state import VBoxState
from imagesmith.core.ports import pick_port, release_port
from imagesmith.core.steps import Step, fail
from imagesmith.errors import ToolError

NAT_HOST_IP = "10.0.2.2"  # how VirtualBox's NAT shows the host to the guest
LOOPBACK = "127.0.0.1"


class DiscoverHttpIp(Step[VBoxState]):
    @property
    def name(self) -> str:
        return "StepHTTPIPDiscover"

    async def run(self, state: VBoxState) -> None:
        state.http_ip = NAT_HOST_IP


class ConfigureVrdp(Step[VBoxState]):
    """VRDP on a free port of ``vrdp_bind_address`` (where a headless VM's screen can be watched)."""

    @property
    def name(self) -> str:
        return "StepConfigureVRDP"

    async def run(self, state: VBoxState) -> None:
        cfg = state.config
        state.vrdp_port = pick_port(cfg.vrdp_bind_address, cfg.vrdp_port_min, cfg.vrdp_port_max, "VRDP")
        argv = commands.make_vrdp_command(cfg.vm_name, cfg.vrdp_bind_address, state.vrdp_port)
        try:
            await state.driver.vboxmanage(argv)
        except ToolError as exc:
            raise fail(f"Error enabling VRDP: {exc}") from exc

    async def cleanup(self, state: VBoxState) -> None:
        if state.vrdp_port:
            release_port(state.config.vrdp_bind_address, state.vrdp_port)


class ForwardPort(Step[VBoxState]):
    """A NAT rule from a free loopback port to the guest's SSH port (replacing a stale rule once)."""

    @property
    def name(self) -> str:
        return "StepPortForwarding"

    async def run(self, state: VBoxState) -> None:
        cfg = state.config
        vm = cfg.vm_name
        ui = state.ctx.ui
        ui.say(f"Looking for available communicator (SSH, WinRM, etc) port between {cfg.host_port_min} "
               f"and {cfg.host_port_max}")  # fmt: skip
        state.ssh_host_port = pick_port(LOOPBACK, cfg.host_port_min, cfg.host_port_max, "communicator")
        ui.say(f"Creating forwarded port mapping for communicator (SSH, WinRM, etc) (host port {state.ssh_host_port})")
        try:
            await state.driver.vboxmanage(commands.make_nic_nat_command(vm))
            rule = commands.make_nat_rule_command(vm, state.ssh_host_port, cfg.effective_ssh_port)
            try:
                await state.driver.vboxmanage(rule)
            except ToolError as exc:
                if "A NAT rule of this name already exists" not in exc.stderr:
                    raise
                ui.message("A packercomm rule already exists, trying to delete it")
                await state.driver.vboxmanage(commands.make_delete_nat_rule_command(vm))
                await state.driver.vboxmanage(rule)
        except ToolError as exc:
            raise fail(f"Error creating port forwarding rule: {exc}") from exc

    async def cleanup(self, state: VBoxState) -> None:
        if state.ssh_host_port:
            release_port(LOOPBACK, state.ssh_host_port)


def ssh_address(state: VBoxState) -> tuple[str, int]:
    """Packer's virtualbox CommHost/CommPort: ``ssh_host`` or 127.0.0.1, the forwarded port."""
    cfg = state.config
    port = cfg.effective_ssh_port if cfg.skip_nat_mapping else state.ssh_host_port
    return cfg.ssh_host or LOOPBACK, port
