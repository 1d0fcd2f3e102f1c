"""VMware builders: vmware-iso and vmware-vmx on the local desktop drivers (Player, Workstation)."""
