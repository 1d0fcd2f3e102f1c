"""The VBoxManage stand-in's argument checks: ``--opt value`` pairs against the options VirtualBox
accepts for a verb (anything else is a syntax error, exit 2, as VBoxManage does)."""

from __future__ import annotations

from vboxstate import syntax

ON_OFF = ("on", "off")

# modifyvm options (each takes one value) Packer emits or templates commonly pass through `vboxmanage`.
MODIFYVM = {
    "--boot1",
    "--boot2",
    "--boot3",
    "--boot4",
    "--cpus",
    "--memory",
    "--usb",
    "--usbehci",
    "--usbxhci",
    "--audio",
    "--audioin",
    "--audioout",
    "--audiocontroller",
    "--vrde",
    "--vrdeaddress",
    "--vrdeport",
    "--vrdeauthtype",
    "--nic1",
    "--nictype1",
    "--cableconnected1",
    "--macaddress1",
    "--chipset",
    "--firmware",
    "--nested-hw-virt",
    "--rtcuseutc",
    "--vram",
    "--graphicscontroller",
    "--ioapic",
    "--acpi",
    "--pae",
    "--hwvirtex",
    "--nestedpaging",
    "--largepages",
    "--vtxvpid",
    "--paravirtprovider",
    "--clipboard",
    "--draganddrop",
    "--accelerate3d",
    "--hpet",
    "--mouse",
    "--keyboard",
    "--longmode",
    "--description",
    "--natdnshostresolver1",
    "--natdnsproxy1",
    "--uart1",
    "--uartmode1",
    "--cpuexecutioncap",
    "--cpuhotplug",
    "--groups",
    "--nic2",
    "--nictype2",
    "--hostonlyadapter2",
    "--x2apic",
    "--biosbootmenu",
    "--bioslogodisplaytime",
}
NIC_TYPES = ("Am79C970A", "Am79C973", "82540EM", "82543GC", "82545EM", "virtio")
EXPORT_FLAGS = {"--manifest", "--iso", "-I", "--ovf09", "--ovf10", "--ovf20", "--opc10"}
EXPORT_VALUES = {
    "--vsys",
    "--product",
    "--producturl",
    "--vendor",
    "--vendorurl",
    "--version",
    "--description",
    "--eula",
    "--eulafile",
    "--options",
    "--vmname",
    "--cloud",
}
IMPORT_VALUES = {
    "--vsys",
    "--vmname",
    "--options",
    "--eula",
    "--ostype",
    "--cpus",
    "--memory",
    "--unit",
    "--basefolder",
    "--settingsfile",
    "--group",
    "--description",
}
IMPORT_FLAGS = {"--ignore", "--dry-run", "-n"}


def pairs(args: list[str], allowed: set[str], flags: frozenset[str] = frozenset()) -> dict[str, str]:
    """``--opt value`` pairs (and bare ``flags``); unknown options are a syntax error."""
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        opt = args[i]
        if opt in flags:
            out[opt] = ""
            i += 1
            continue
        if opt not in allowed:
            raise syntax(f"Invalid parameter '{opt}'")
        if i + 1 >= len(args):
            raise syntax(f"Missing argument to '{opt}'")
        out[opt] = args[i + 1]
        i += 2
    return out


def require(opts: dict[str, str], *names: str) -> None:
    for name in names:
        if name not in opts:
            raise syntax(f"Missing required option {name}")
