"""The ``vagrant`` post-processor (Packer 1.6.6's ``post-processor/vagrant``): libvirt boxes from
qemu artifacts, docker boxes from docker images, gzipped on every core.

Modules: :mod:`.config` (options, builder id → provider), :mod:`.providers` (what each
provider puts in the box), :mod:`.box` (the tar.gz, written atomically), :mod:`.post_processor`
(the plugin).
"""

from imagesmith.post_processors.vagrant.post_processor import BUILDER_ID, Vagrant

__all__ = ["BUILDER_ID", "Vagrant"]
