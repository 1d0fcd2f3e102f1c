"""A build's generated data: what ``{{ build `ID` }}`` and ``{{ .Host }}`` read at run time.

Packer keeps it as ``map[string]interface{}`` under the state key ``generated_data``; here it is
one typed value, :class:`GeneratedData`, that builders fill in their state and hand to the
provision step and the artifact. It is also a read-only ``Mapping[str, str]``: its items are
exactly the template data Packer would expose (the keys a builder did not provide are absent,
so ``{{ .Host }}`` renders ``<no value>`` where Packer's does).

:meth:`GeneratedData.populated` is Packer's ``PopulateProvisionHookData``: it completes the
builder's values with the run UUID and the ``ERR_*_NOT_IMPLEMENTED_BY_BUILDER`` sentinels,
which are defined here and nowhere else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

ID_NOT_IMPLEMENTED = "ERR_ID_NOT_IMPLEMENTED_BY_BUILDER"
HTTP_IP_NOT_IMPLEMENTED = "ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER"
HTTP_PORT_NOT_IMPLEMENTED = "ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER"
HTTP_ADDR_NOT_IMPLEMENTED = "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER"
#: Every "not implemented" sentinel, by template key.
NOT_IMPLEMENTED = {
    "ID": ID_NOT_IMPLEMENTED,
    "PackerHTTPIP": HTTP_IP_NOT_IMPLEMENTED,
    "PackerHTTPPort": HTTP_PORT_NOT_IMPLEMENTED,
    "PackerHTTPAddr": HTTP_ADDR_NOT_IMPLEMENTED,
}


_HTTP_ENV = {
    "PackerHTTPAddr": "PACKER_HTTP_ADDR",
    "PackerHTTPIP": "PACKER_HTTP_IP",
    "PackerHTTPPort": "PACKER_HTTP_PORT",
}


def http_env(data: Mapping[str, str]) -> dict[str, str]:
    """``PACKER_HTTP_ADDR``/``_IP``/``_PORT`` for scripts: the values present and not a sentinel."""
    return {env: data[key] for key, env in _HTTP_ENV.items() if key in data and data[key] != NOT_IMPLEMENTED[key]}


@dataclass(frozen=True)
class CommData:
    """What Packer reads from a builder's ``communicator_config`` into the generated data."""

    conn_type: str = ""
    host: str = ""
    port: int = 0
    user: str = ""
    password: str = ""
    ssh_public_key: str = ""
    ssh_private_key: str = ""
    ssh_private_key_file: str = ""
    ssh_agent_auth: bool = False
    winrm_password: str = ""

    def to_template_data(self) -> dict[str, str]:
        return {
            "Host": self.host,
            "Port": str(self.port),
            "User": self.user,
            "Password": self.password,
            "ConnType": self.conn_type,
            "SSHPublicKey": self.ssh_public_key,
            "SSHPrivateKey": self.ssh_private_key,
            "SSHPrivateKeyFile": self.ssh_private_key_file,
            "SSHAgentAuth": "true" if self.ssh_agent_auth else "false",
            "WinRMPassword": self.winrm_password,
        }


@dataclass(frozen=True, eq=False)
class GeneratedData(Mapping[str, str]):
    """A build's generated data. ``None`` fields are absent from the template data.

    - ``id``: the machine's id (Packer's state ``instance_id``: container id, instance id).
    - ``http_ip`` / ``http_port``: the build's HTTP server, when it serves one.
    - ``comm``: the communicator's settings (``Host``, ``Port``, ``User``, ...); ``None`` when the
      builder has no communicator config (Packer's null builder with ``communicator: none``).
    - ``extra``: builder-specific keys (``ImageSha256``, ``SourceAMIName``, ...), by template name.
    - ``run_uuid``, ``http_addr``: set by :meth:`populated`.
    """

    id: str | None = None
    run_uuid: str | None = None
    http_ip: str | None = None
    http_port: int | None = None
    http_addr: str | None = None
    comm: CommData | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def populated(self, run_uuid: str) -> GeneratedData:
        """Packer's ``PopulateProvisionHookData``: the run UUID and sentinels for what is missing."""
        has_http = self.http_ip is not None and self.http_port is not None
        return dataclasses.replace(
            self,
            id=ID_NOT_IMPLEMENTED if self.id is None else self.id,
            run_uuid=run_uuid,
            http_addr=f"{self.http_ip}:{self.http_port}" if has_http else HTTP_ADDR_NOT_IMPLEMENTED,
        )

    def with_extra(self, **values: str) -> GeneratedData:
        """A copy with builder-specific keys added (or replaced)."""
        return dataclasses.replace(self, extra={**self.extra, **values})

    def to_template_data(self) -> dict[str, str]:
        """The keys and values templates see (``{{ .ID }}``, ``{{ build `Host` }}``)."""
        out: dict[str, str] = {}
        if self.id is not None:
            out["ID"] = self.id
        if self.run_uuid is not None:
            out["PackerRunUUID"] = self.run_uuid
            out["PackerHTTPIP"] = HTTP_IP_NOT_IMPLEMENTED if self.http_ip is None else self.http_ip
            out["PackerHTTPPort"] = HTTP_PORT_NOT_IMPLEMENTED if self.http_port is None else str(self.http_port)
            out["PackerHTTPAddr"] = self.http_addr or HTTP_ADDR_NOT_IMPLEMENTED
        if self.comm is not None:
            out |= self.comm.to_template_data()
        out |= self.extra
        return out

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> GeneratedData:
        """Template data back into a value (for artifacts that carry a plain mapping)."""
        if isinstance(data, GeneratedData):
            return data
        return cls(extra={str(k): str(v) for k, v in (data or {}).items()})

    def __getitem__(self, key: str) -> str:
        return self._data()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:
        return f"GeneratedData({self._data()!r})"

    def _data(self) -> dict[str, str]:
        cached: dict[str, str] | None = self.__dict__.get("_cache")
        if cached is None:
            cached = self.to_template_data()
            object.__setattr__(self, "_cache", cached)
        return cached
