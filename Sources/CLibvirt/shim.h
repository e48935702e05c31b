// The libvirt C API halab's libvirt backend uses (apt: libvirt-dev).
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
