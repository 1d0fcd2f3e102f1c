"""Run the template's provisioners through the communicator."""

from __future__ import annotations

from imagesmith.builders.docker.state import DockerState
from imagesmith.core.steps import Step

HTTP_NOT_IMPLEMENTED = {
    "PackerHTTPAddr": "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER",
    "PackerHTTPIP": "ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER",
    "PackerHTTPPort": "ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER",
}


def make_hook_data(state: DockerState) -> dict[str, str]:
    """The generated data Packer's StepProvision hands provisioners for a docker build."""
    return {
        "ID": state.container_id,
        "PackerRunUUID": state.ctx.info.run_uuid,
        **HTTP_NOT_IMPLEMENTED,
        "Host": "",
        "Port": "0",
        "User": "",
        "Password": "",
        "ConnType": state.config.communicator_type,
        "SSHPublicKey": "",
        "SSHPrivateKey": "",
        "SSHPrivateKeyFile": "",
        "SSHAgentAuth": "false",
        "WinRMPassword": "",
    }


class Provision(Step[DockerState]):
    """Packer's StepProvision: on failure, its cleanup runs the error-cleanup-provisioner."""

    is_provision_step = True

    def __init__(self) -> None:
        self.failed = False

    async def run(self, state: DockerState) -> None:
        data = make_hook_data(state)
        state.generated.update(data)
        try:
            await state.ctx.provision(state.communicator, data)
        except BaseException:
            self.failed = True
            raise

    async def cleanup(self, state: DockerState) -> None:
        if self.failed:
            await state.ctx.cleanup_provision(state.communicator, make_hook_data(state))
