"""VirtualBox builders (virtualbox-iso) driven through VBoxManage."""
