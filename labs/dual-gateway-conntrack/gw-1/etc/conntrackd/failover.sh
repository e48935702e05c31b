#!/bin/sh
# keepalived's notify for the gateway sync group, as conntrack-tools' manual pairs them.
# master: put the peer's connections (the external cache) into the kernel's table, start afresh
# from the kernel's table, and send it all to the peer. backup or fault: age out what this
# gateway no longer forwards and ask the peer for its table.
conntrackd() { /usr/sbin/conntrackd -C /etc/conntrackd/conntrackd.conf "$@"; }
case "$1" in
    master) conntrackd -c && conntrackd -f && conntrackd -R && conntrackd -B ;;
    backup|fault) conntrackd -t && conntrackd -n ;;
esac
