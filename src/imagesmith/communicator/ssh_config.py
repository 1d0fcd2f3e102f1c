"""The communicator options every builder accepts (Packer's ``communicator.Config``), as a mixin.

A builder's frozen config dataclass inherits :class:`CommunicatorConfig`; the template keys are
the field names. :meth:`CommunicatorConfig.check_communicator` holds Packer's prepare-time rules
(``An ssh_username must be specified``, bastion/proxy exclusivity, ...); builders call it from
their ``check``. ``ssh_wait_timeout`` is the legacy alias of ``ssh_timeout``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from imagesmith.communicator.ssh_connect import SshSettings
from imagesmith.template.decode import option
from imagesmith.template.values import Duration

SSH_USERNAME_MISSING = (
    'An ssh_username must be specified\n  Note: some builders used to default ssh_username to "root".'
)
KEY_PAIR_TYPES = ("rsa", "dsa", "ecdsa", "ed25519")


@dataclass(frozen=True)
class CommunicatorConfig:
    """Communicator fields of Packer 1.6.6 (SSH, WinRM, none)."""

    #: communicator types this builder accepts besides ssh/winrm/none
    extra_communicators: ClassVar[tuple[str, ...]] = ()
    #: the port the builder's guest listens on when ssh_port is unset
    default_ssh_port: ClassVar[int] = 22

    communicator: str = option("ssh")
    pause_before_connecting: Duration = option(Duration(0))
    ssh_host: str = option("")
    ssh_port: int = option(0)
    ssh_username: str = option("")
    ssh_password: str = option("")
    ssh_private_key_file: str = option("")
    ssh_certificate_file: str = option("")
    ssh_keypair_name: str = option("")
    temporary_key_pair_name: str = option("")
    temporary_key_pair_type: str = option("")
    temporary_key_pair_bits: int = option(0)
    ssh_clear_authorized_keys: bool = option(False)
    ssh_ciphers: list[str] = option(factory=list)
    ssh_key_exchange_algorithms: list[str] = option(factory=list)
    ssh_pty: bool = option(False)
    ssh_timeout: Duration = option(Duration(0))
    ssh_wait_timeout: Duration = option(Duration(0))
    ssh_agent_auth: bool = option(False)
    ssh_disable_agent_forwarding: bool = option(False)
    ssh_handshake_attempts: int = option(0)
    ssh_bastion_host: str = option("")
    ssh_bastion_port: int = option(0)
    ssh_bastion_agent_auth: bool = option(False)
    ssh_bastion_username: str = option("")
    ssh_bastion_password: str = option("")
    ssh_bastion_interactive: bool = option(False)
    ssh_bastion_private_key_file: str = option("")
    ssh_bastion_certificate_file: str = option("")
    ssh_file_transfer_method: str = option("")
    ssh_proxy_host: str = option("")
    ssh_proxy_port: int = option(0)
    ssh_proxy_username: str = option("")
    ssh_proxy_password: str = option("")
    ssh_keep_alive_interval: Duration = option(Duration(5))
    ssh_read_write_timeout: Duration = option(Duration(0))
    ssh_local_tunnels: list[str] = option(factory=list)
    ssh_remote_tunnels: list[str] = option(factory=list)
    winrm_username: str = option("")
    winrm_password: str = option("")
    winrm_host: str = option("")
    winrm_port: int = option(0)
    winrm_timeout: Duration = option(Duration(0))
    winrm_use_ssl: bool = option(False)
    winrm_insecure: bool = option(False)
    winrm_use_ntlm: bool = option(False)
    winrm_no_proxy: bool = option(False)

    @property
    def effective_ssh_timeout(self) -> float:
        """``ssh_timeout``, else the legacy ``ssh_wait_timeout``, else Packer's 5 minutes."""
        return float(self.ssh_timeout or self.ssh_wait_timeout or 300.0)

    @property
    def effective_ssh_port(self) -> int:
        return self.ssh_port or self.default_ssh_port

    @property
    def effective_handshake_attempts(self) -> int:
        return self.ssh_handshake_attempts or 10

    @property
    def effective_bastion_key_file(self) -> str:
        return self.ssh_bastion_private_key_file or self.ssh_private_key_file

    def ssh_settings(self, host: str, port: int, private_keys: tuple[str, ...] = ()) -> SshSettings:
        """Connection settings for ``host:port`` (the builder's resolved address) from these options.

        ``private_keys`` are key texts, e.g. a temporary key pair's private half.
        """
        bastion = None
        if self.ssh_bastion_host:
            bastion_key = self.effective_bastion_key_file
            bastion = SshSettings(
                host=self.ssh_bastion_host,
                port=self.ssh_bastion_port or 22,
                username=self.ssh_bastion_username,
                password=self.ssh_bastion_password,
                private_key_files=(bastion_key,) if bastion_key else (),
                agent_auth=self.ssh_bastion_agent_auth,
                timeout=self.effective_ssh_timeout,
                handshake_attempts=self.effective_handshake_attempts,
                keepalive=float(self.ssh_keep_alive_interval),
            )
        proxy = None
        if self.ssh_proxy_host:
            proxy = (self.ssh_proxy_host, self.ssh_proxy_port or 1080, self.ssh_proxy_username, self.ssh_proxy_password)
        return SshSettings(
            host=host,
            port=port,
            username=self.ssh_username,
            password=self.ssh_password,
            private_key_files=(self.ssh_private_key_file,) if self.ssh_private_key_file else (),
            private_keys=private_keys,
            certificate_file=self.ssh_certificate_file,
            local_tunnels=tuple(self.ssh_local_tunnels),
            remote_tunnels=tuple(self.ssh_remote_tunnels),
            agent_auth=self.ssh_agent_auth,
            agent_forwarding=not self.ssh_disable_agent_forwarding,
            pty=self.ssh_pty,
            timeout=self.effective_ssh_timeout,
            handshake_attempts=self.effective_handshake_attempts,
            keepalive=float(self.ssh_keep_alive_interval),
            file_transfer=self.ssh_file_transfer_method or "scp",
            ciphers=tuple(self.ssh_ciphers),
            kex=tuple(self.ssh_key_exchange_algorithms),
            bastion=bastion,
            proxy=proxy,
        )

    def check_communicator(self) -> Iterator[str]:
        """Packer's ``communicator.Config.Prepare`` errors."""
        kind = self.communicator or "ssh"
        if kind not in ("ssh", "winrm", "none", *self.extra_communicators):
            yield f"Communicator type {kind} is invalid"
            return
        if kind == "ssh":
            yield from self._check_ssh()
        elif kind == "winrm" and not self.winrm_username:
            yield "winrm_username must be specified."

    def _check_ssh(self) -> Iterator[str]:
        if not self.ssh_username:
            yield SSH_USERNAME_MISSING
        for key in ("ssh_private_key_file", "ssh_bastion_private_key_file", "ssh_certificate_file"):
            path = getattr(self, key)
            if path and not os.path.isfile(os.path.expanduser(path)):
                yield f"{key} is invalid: stat {path}: no such file or directory"
        if self.temporary_key_pair_type and self.temporary_key_pair_type not in KEY_PAIR_TYPES:
            yield (
                f"temporary_key_pair_type {self.temporary_key_pair_type!r} is invalid, "
                f"valid types: {', '.join(KEY_PAIR_TYPES)}"
            )
        if self.ssh_file_transfer_method not in ("", "scp", "sftp"):
            yield f"ssh_file_transfer_method ('{self.ssh_file_transfer_method}') is invalid, valid methods: sftp, scp"
        if self.ssh_bastion_host:
            if not (self.ssh_bastion_password or self.effective_bastion_key_file or self.ssh_bastion_agent_auth):
                yield "ssh_bastion_password or ssh_bastion_private_key_file must be specified"
            if self.ssh_proxy_host:
                yield "please specify either ssh_bastion_host or ssh_proxy_host, not both"
        if self.ssh_handshake_attempts < 0:
            yield "ssh_handshake_attempts must be positive"
        for key in ("ssh_local_tunnels", "ssh_remote_tunnels"):
            for spec in getattr(self, key):
                if len(spec.split(":")) not in (3, 4):
                    yield f"{key}: {spec!r} is not in the form [bind:]port:host:hostport"
