# Shell functions shared by the test guest's /init, installer and rc scripts (busybox sh).

# say MESSAGE: print to the console (the serial port when console=ttyS0 is last) and to the screen.
say() {
    echo "imagesmith-guest: $*"
    [ -c /dev/tty0 ] && echo "imagesmith-guest: $*" >/dev/tty0 2>/dev/null
    return 0
}

# fail MESSAGE: report a fatal error and keep the machine up (a builder will time out, a human can look).
fail() {
    say "FAILED: $*"
    exec setsid cttyhack sh
}

# load_modules: insmod the modules listed, in dependency order, in /lib/modules/load.order.
load_modules() {
    while read -r ko; do
        insmod "/lib/modules/$ko" 2>/dev/null
    done </lib/modules/load.order
}

# wait_for_device PATH SECONDS: wait until a block device node exists (drivers probe asynchronously).
wait_for_device() {
    tries=$(($2 * 20))
    while [ ! -b "$1" ] && [ "$tries" -gt 0 ]; do
        usleep 50000
        tries=$((tries - 1))
    done
    [ -b "$1" ]
}

# network_up: bring up lo and eth0; eth0 takes its address from QEMU's user-mode DHCP server.
network_up() {
    ip link set lo up
    ip link set eth0 up || return 1
    udhcpc -i eth0 -f -q -n -t 20 -T 1 -A 1 -s /usr/share/udhcpc/default.script >/dev/null 2>&1
}
