#!/bin/sh
# Run by the shell provisioner (script form, with environment_vars): leave marks the test checks afterwards.
set -e
echo "script ran with MARK_VALUE=$MARK_VALUE as $(id -un) in $(pwd)" >/root/mark-script
sha256sum /root/payload.txt /root/tree/top.txt /root/tree/sub/nested.txt >/root/mark-sums
