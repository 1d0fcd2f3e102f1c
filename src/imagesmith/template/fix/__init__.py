"""``packer fix``'s fixers: rewrite legacy keys of a decoded JSON template, in Packer 1.6.6's order.

Each fixer has a pure form, :meth:`Fixer.apply` (decoded template in, new template out), and an
in-place form used by :func:`fix_template`, which copies the template once and runs them all in
Packer's order; names and synopses are those ``packer fix -h`` lists. Like
Packer's, most fixers touch only what they recognise, but the result always has a ``builders``
key (``null`` when the template had none), and odd shapes are handled as Go's mapstructure does
(see :mod:`imagesmith.template.fix.mapdecode`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from imagesmith.template.fix import cloud_builders as cloud
from imagesmith.template.fix import iso, local_builders, post_processors, provisioners, ssh
from imagesmith.template.fix.mapdecode import DecodeError, FixError, Template

__all__ = ["FIXERS", "DecodeError", "FixError", "Fixer", "Template", "fix_template"]


@dataclass(frozen=True)
class Fixer:
    """One named fix. ``fix_in_place`` may modify its argument; :meth:`apply` never does."""

    name: str
    synopsis: str
    fix_in_place: Callable[[Template], Template]

    def apply(self, template: Template) -> Template:
        """The fixed template, as a new object (the input is left unchanged)."""
        return self.fix_in_place(copy.deepcopy(template))


FIXERS: tuple[Fixer, ...] = (
    Fixer("iso-md5", 'Replaces "iso_md5" in builders with "iso_checksum"', iso.fix_iso_md5),
    Fixer("createtime", 'Replaces ".CreateTime" in builder configs with "{{timestamp}}"', cloud.fix_create_time),
    Fixer(
        "virtualbox-gaattach",
        'Updates VirtualBox builders using "guest_additions_attach" to use "guest_additions_mode"',
        local_builders.fix_virtualbox_ga_attach,
    ),
    Fixer(
        "pp-vagrant-override",
        "Fixes provider-specific overrides for Vagrant post-processor",
        post_processors.fix_vagrant_override,
    ),
    Fixer(
        "virtualbox-rename", 'Updates "virtualbox" builders to "virtualbox-iso"', local_builders.fix_virtualbox_rename
    ),
    Fixer("vmware-rename", 'Updates "vmware" builders to "vmware-iso"', local_builders.fix_vmware_rename),
    Fixer(
        "parallels-headless", 'Removes unused "headless" from Parallels builders', local_builders.fix_parallels_headless
    ),
    Fixer(
        "parallels-deprecations",
        'Removes deprecated "parallels_tools_host_path" from Parallels builders and changes "guest_os_distribution"'
        ' to "guest_os_type".',
        local_builders.fix_parallels_deprecations,
    ),
    Fixer("sshkeypath", 'Updates builders using "ssh_key_path" to use "ssh_private_key_file"', ssh.fix_ssh_key_path),
    Fixer(
        "sshdisableagent",
        'Updates builders using "ssh_disable_agent" to use "ssh_disable_agent_forwarding"',
        ssh.fix_ssh_disable_agent,
    ),
    Fixer(
        "scaleway-access-key",
        'Updates builders using "access_key" to use "organization_id"',
        cloud.fix_scaleway_access_key,
    ),
    Fixer(
        "manifest-filename",
        'Updates "manifest" post-processor so any "filename" field is renamed to "output".',
        post_processors.fix_manifest_filename,
    ),
    Fixer(
        "amazon-shutdown_behavior",
        'Changes "shutdown_behaviour" to "shutdown_behavior" in Amazon builders.',
        cloud.fix_amazon_shutdown_behavior,
    ),
    Fixer(
        "amazon-enhanced-networking",
        'Replaces "enhanced_networking" in builders with "ena_support"',
        cloud.fix_amazon_enhanced_networking,
    ),
    Fixer(
        "amazon-private-ip",
        'Replaces `"ssh_private_ip": true` in amazon builders with `"ssh_interface": "private_ip"`',
        cloud.fix_amazon_private_ip,
    ),
    Fixer(
        "amazon-temp-sec-cidrs",
        'Replaces "temporary_security_group_source_cidr" (string) with "temporary_security_group_source_cidrs"'
        " (list of strings)",
        cloud.fix_amazon_temp_sec_cidrs,
    ),
    Fixer("docker-email", 'Removes "login_email" from the Docker builder.', post_processors.fix_docker_email),
    Fixer(
        "docker-tag-tags",
        'Updates "docker" post-processor so any "tag" field is renamed to "tags".',
        post_processors.fix_docker_tag_tags,
    ),
    Fixer(
        "powershell-escapes",
        "Removes PowerShell escapes from user env vars and elevated username and password strings",
        provisioners.fix_powershell_escapes,
    ),
    Fixer(
        "vmware-compaction",
        'Adds "skip_compaction = true" to "vmware-iso" builders with incompatible disk_type_id',
        local_builders.fix_vmware_compaction,
    ),
    Fixer(
        "hyperv-deprecations",
        'Removes the deprecated "vhd_temp_path" setting from Hyper-V ISO builder templates',
        local_builders.fix_hyperv_deprecations,
    ),
    Fixer(
        "hyperv-vmxc-typo",
        'Fixes a typo replacing "clone_from_vmxc_path" with "clone_from_vmcx_path" in Hyper-V VMCX builder templates',
        local_builders.fix_hyperv_vmxc_typo,
    ),
    Fixer(
        "hyperv-cpu-and-ram",
        'Replaces "cpu" with "cpus" and "ram_size" with "memory"in Hyper-V VMCX builder templates',
        local_builders.fix_hyperv_cpu_and_ram,
    ),
    Fixer(
        "clean-image-name",
        'Replaces /clean_(image|ami)_name/ in builder configs with "clean_resource_name"',
        cloud.fix_clean_image_name,
    ),
    Fixer(
        "spot-price-auto-product",
        'Removes the deprecated "spot_price_auto_product" setting from Amazon builder templates',
        cloud.fix_spot_price_auto_product,
    ),
    Fixer(
        "qemu-disk-size", 'Updates "disk_size" from int to string in QEMU builders.', local_builders.fix_qemu_disk_size
    ),
    Fixer(
        "galaxy-command",
        'Replaces "galaxycommand" in ansible-local provisioner configs with "galaxy_command"',
        provisioners.fix_galaxy_command,
    ),
    Fixer(
        "comm-config",
        "Remove ssh prefixes from communicator port forwarding configuration (host_port_min, host_port_max,"
        " skip_nat_mapping)",
        ssh.fix_comm_config,
    ),
    Fixer("ssh-wait-timeout", 'Replaces "ssh_wait_timeout" with "ssh_timeout"', ssh.fix_ssh_wait_timeout),
    Fixer(
        "vsphere-iso-net-disk",
        'Removes deprecated network and disk fields from "vsphere-iso" builder',
        cloud.fix_vsphere_network_disk,
    ),
    Fixer(
        "iso-checksum-type-and-url",
        'Puts content of potential "iso_checksum_url" and "iso_checksum_url" in "iso_checksum"',
        iso.fix_iso_checksum_type_and_url,
    ),
    Fixer(
        "qemu-host-port",
        "Updates ssh_host_port_min and ssh_host_port_max to host_port_min and host_port_max",
        local_builders.fix_qemu_host_port,
    ),
    Fixer(
        "azure-exclude_from_latest",
        'Changes "exlude_from_latest" to "exclude_from_latest" in Azure builders.',
        cloud.fix_azure_exclude_from_latest,
    ),
    Fixer("proxmox-type", "Updates the builder type proxmox to proxmox-iso", local_builders.fix_proxmox_type),
)

FIXERS_BY_NAME: dict[str, Fixer] = {fixer.name: fixer for fixer in FIXERS}


def fix_template(template: Template) -> Template:
    """Run every fixer in Packer's order on a copy. Raises :class:`FixError` naming the fixer that failed."""
    template = copy.deepcopy(template)
    for fixer in FIXERS:
        try:
            template = fixer.fix_in_place(template)
        except FixError as exc:
            where = f"raised by the '{fixer.name}' fixer"
            raise FixError(exc.message, hint=f"{exc.hint} ({where})" if exc.hint else where) from None
    return template
