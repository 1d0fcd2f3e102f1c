"""stepHTTPIPDiscover, stepPortForward, stepConfigureVNC: addresses and ports for the VM."""

from __future__ import annotations

from imagesmith.builders.qemu.state import QemuState
from imagesmith.builders.qemu.steps.ports import pick_port, release_port
from imagesmith.core.steps import Step, fail

USER_NET_HOST_IP = "10.0.2.2"  # how QEMU's user-mode network shows the host to the guest


class DiscoverHttpIp(Step[QemuState]):
    @property
    def name(self) -> str:
        return "stepHTTPIPDiscover"

    async def run(self, state: QemuState) -> None:
        if state.config.net_bridge:
            state.http_ip = _bridge_ip(state.config.net_bridge)
        else:
            state.http_ip = USER_NET_HOST_IP


def _bridge_ip(bridge: str) -> str:
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", bridge.encode()[:15]))  # SIOCGIFADDR
        except OSError as exc:
            raise fail(f"Error getting the IP address of bridge {bridge}: {exc}") from exc
    return socket.inet_ntoa(packed[20:24])


class ForwardPort(Step[QemuState]):
    """Pick the host port that QEMU forwards to the guest's SSH port (on 127.0.0.1)."""

    @property
    def name(self) -> str:
        return "stepPortForward"

    async def run(self, state: QemuState) -> None:
        cfg = state.config
        state.ctx.ui.say("Looking for available communicator (SSH, WinRM, etc) port between "
                         f"{cfg.host_port_min} and {cfg.host_port_max}")  # fmt: skip
        state.ssh_host_port = pick_port("127.0.0.1", cfg.host_port_min, cfg.host_port_max, "communicator")

    async def cleanup(self, state: QemuState) -> None:
        if state.ssh_host_port:
            release_port("127.0.0.1", state.ssh_host_port)


class ConfigureVnc(Step[QemuState]):
    @property
    def name(self) -> str:
        return "stepConfigureVNC"

    async def run(self, state: QemuState) -> None:
        cfg = state.config
        span = f"{cfg.vnc_port_min} and {cfg.vnc_port_max}"
        state.ctx.ui.say(f"Looking for available port between {span} on {cfg.vnc_bind_address}")
        state.vnc_port = pick_port(cfg.vnc_bind_address, cfg.vnc_port_min, cfg.vnc_port_max, "VNC")
        state.ctx.ui.say(f"Found available VNC port: {state.vnc_port} on IP: {cfg.vnc_bind_address}")

    async def cleanup(self, state: QemuState) -> None:
        if state.vnc_port:
            release_port(state.config.vnc_bind_address, state.vnc_port)
