"""Where the shared :class:`imagesmith.steps.connect.ConnectSsh` logs in to a qemu guest."""

from __future__ import annotations

from imagesmith.builders.qemu.state import QemuState
from imagesmith.builders.qemu.steps.keys import temporary_keys


def ssh_address(state: QemuState) -> tuple[str, int]:
    """Packer's qemu ``commHost``/``commPort``: ssh_host or 127.0.0.1, the forwarded port."""
    cfg = state.config
    host = cfg.ssh_host or "127.0.0.1"
    port = cfg.effective_ssh_port if (cfg.skip_nat_mapping or cfg.net_bridge) else state.ssh_host_port
    return host, port


async def private_keys(state: QemuState) -> tuple[str, ...]:
    """The temporary key pair's private key, when the build made one."""
    private, _ = await temporary_keys(state)
    return (private,) if private else ()
