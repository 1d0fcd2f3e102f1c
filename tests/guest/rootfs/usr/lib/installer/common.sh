# Shell functions shared by the test guest's /init, installer and rc scripts (busybox sh).

# say MESSAGE: print to the console (the serial port when console=ttyS0 is last) and to the screen.
# Each line starts with the seconds since the kernel started, e.g. `imagesmith-guest: [1.25] network up`.
say() {
    set -- "imagesmith-guest: [$(cut -d' ' -f1 /proc/uptime)] $*"
    echo "$1"
    [ -c /dev/tty0 ] && echo "$1" >/dev/tty0 2>/dev/null
    return 0
}

# fail MESSAGE: report a fatal error and keep the machine up (a builder will time out, a human can look).
fail() {
    say "FAILED: $*"
    exec setsid cttyhack sh
}

# load_modules [LIST]: insmod the modules listed, in dependency order, in /lib/modules/LIST.order: `load`
# (virtio disk, network and SCSI; the default) or `load-ide` (IDE disk and CD-ROM, ISO 9660).
# With imagesmith.debug on the kernel command line, each module's load is timed.
load_modules() {
    grep -q imagesmith.debug /proc/cmdline && debug=1
    while read -r ko; do
        insmod "/lib/modules/$ko" 2>/dev/null
        [ -n "$debug" ] && say "loaded $ko"
    done <"/lib/modules/${1:-load}.order"
    return 0
}

# wait_for_device PATH SECONDS: wait until a block device node exists (drivers probe asynchronously).
wait_for_device() {
    tries=$(($2 * 40))
    while [ ! -b "$1" ] && [ "$tries" -gt 0 ]; do
        usleep 25000
        tries=$((tries - 1))
    done
    [ -b "$1" ]
}

# wait_for_file PATH SECONDS: the same for any file (a network interface under /sys/class/net).
wait_for_file() {
    tries=$(($2 * 40))
    while [ ! -e "$1" ] && [ "$tries" -gt 0 ]; do
        usleep 25000
        tries=$((tries - 1))
    done
    [ -e "$1" ]
}

# network_up: bring up lo and eth0; eth0 takes its address from QEMU's user-mode DHCP server.
# udhcpc's first DISCOVER is lost if it goes out before the link is up, costing its 1 s retry: wait for carrier.
network_up() {
    ip link set lo up
    wait_for_file /sys/class/net/eth0 5 && ip link set eth0 up || return 1
    tries=40
    while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ "$tries" -gt 0 ]; do
        usleep 25000
        tries=$((tries - 1))
    done
    udhcpc -i eth0 -f -q -n -t 20 -T 1 -A 1 -s /usr/share/udhcpc/default.script >/dev/null 2>&1
}
