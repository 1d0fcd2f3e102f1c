"""StepHTTPIPDiscover, StepConfigureVNC and the guest's address (Packer's ``CommHost``)."""

from __future__ import annotations

import asyncio
import secrets
import string

from imagesmith.builders.vmware.network import NetworkError, find_guest_ips, find_host_ip, network_devices
from imagesmith.builders.vmware.state import VmwareState
from imagesmith.builders.vmware.vmx import read_vmx, write_vmx
from imagesmith.builders.vmware.vmx_edit import configure_vnc
from imagesmith.core.ports import pick_port, release_port
from imagesmith.core.steps import Step, fail

# Packer's VNC password alphabet (it lacks the digit 7), 8 characters: VNC uses at most 8.
_VNC_ALPHABET = "012345689" + string.ascii_lowercase + string.ascii_uppercase
GUEST_IP_POLL = 0.5


def devices_of(state: VmwareState) -> list[str]:
    vnet = read_vmx(state.vmx_path).get("ethernet0.vnet", "") if state.vmx_path else ""
    return network_devices(state.network, vnet)


class DiscoverHttpIp(Step[VmwareState]):
    @property
    def name(self) -> str:
        return "StepHTTPIPDiscover"

    async def run(self, state: VmwareState) -> None:
        try:
            state.http_ip = find_host_ip(devices_of(state))
        except NetworkError as exc:
            raise fail(f"Error detecting host IP: {exc}") from exc


def make_vnc_password() -> str:
    return "".join(secrets.choice(_VNC_ALPHABET) for _ in range(8))


class ConfigureVnc(Step[VmwareState]):
    """Pick a VNC port and password and turn on VMware's VNC server in the ``.vmx``."""

    @property
    def name(self) -> str:
        return "StepConfigureVNC"

    async def run(self, state: VmwareState) -> None:
        cfg = state.config
        state.vnc_port = pick_port(cfg.vnc_bind_address, cfg.vnc_port_min, cfg.vnc_port_max, "VNC")
        state.vnc_password = "" if cfg.vnc_disable_password else make_vnc_password()
        data = configure_vnc(read_vmx(state.vmx_path), cfg.vnc_bind_address, state.vnc_port, state.vnc_password)
        write_vmx(state.vmx_path, data)

    async def cleanup(self, state: VmwareState) -> None:
        if state.vnc_port:
            release_port(state.config.vnc_bind_address, state.vnc_port)


async def wait_for_guest_ip(state: VmwareState, timeout: float) -> str:
    """The guest's address from the DHCP leases (polled until one appears), or ``ssh_host``."""
    if state.config.ssh_host:
        return state.config.ssh_host
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            mac = read_vmx(state.vmx_path).get("ethernet0.address") or read_vmx(state.vmx_path).get(
                "ethernet0.generatedaddress", ""
            )
            if mac:
                found = find_guest_ips(devices_of(state), mac)
                if found:
                    return found[0]
        except NetworkError as exc:
            raise fail(f"IP lookup failed: {exc}") from exc
        if loop.time() > deadline:
            raise fail("Timeout waiting for SSH: no DHCP lease for the VM's MAC address")
        await asyncio.sleep(GUEST_IP_POLL)


class FindGuestIp(Step[VmwareState]):
    @property
    def name(self) -> str:
        return "FindGuestIp"

    async def run(self, state: VmwareState) -> None:
        state.guest_ip = await wait_for_guest_ip(state, state.config.effective_ssh_timeout)


def ssh_address(state: VmwareState) -> tuple[str, int]:
    return state.guest_ip, state.config.effective_ssh_port
