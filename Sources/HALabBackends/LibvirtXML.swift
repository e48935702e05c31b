import HALabSystem

/// The libvirt XML of a lab: each segment an isolated network (a bridge with no host address,
/// no DHCP, no NAT: no `<forward>`, no `<ip>`), each node a domain booting halab's node image
/// directly (kernel + initramfs), with one NIC per interface and the guest agent's channel.
enum LibvirtXML {
    static func networkName(lab: String, segment: String) -> String { "halab-\(lab)-\(segment)" }
    static func domainName(lab: String, node: String) -> String { "halab-\(lab)-\(node)" }

    static func network(lab: String, segment: String) -> String {
        """
        <network>
          <name>\(escape(networkName(lab: lab, segment: segment)))</name>
          <bridge stp='off' delay='0'/>
        </network>
        """
    }

    struct Domain {
        var name: String
        /// `qemu` (TCG, software) or `kvm`.
        var type: String
        var memoryMiB: Int
        /// How it boots: halab's node image, or a disk (a cloud image's overlay) and its seed.
        var boot: Boot
        var console: String
        /// (network, MAC) per NIC, in the node's interface order.
        var interfaces: [(network: String, mac: String)]
    }

    enum Boot {
        case kernel(String, initramfs: String, commandLine: String)
        /// A qcow2 disk, and a cloud-init NoCloud seed as a CD-ROM.
        case disk(String, seed: String)
    }

    static func domain(_ domain: Domain) -> String {
        let interfaces = domain.interfaces.map { interface($0.network, mac: $0.mac, linkUp: true) }.joined(
            separator: "\n")
        let os: String
        var disks = ""
        switch domain.boot {
        case .kernel(let kernel, let initramfs, let commandLine):
            os = """
                    <kernel>\(escape(kernel))</kernel>
                    <initrd>\(escape(initramfs))</initrd>
                    <cmdline>\(escape(commandLine))</cmdline>
                """
        case .disk(let disk, let seed):
            os = "        <boot dev='hd'/>"
            disks = """
                    <disk type='file' device='disk'>
                      <driver name='qemu' type='qcow2'/>
                      <source file='\(escape(disk))'/>
                      <target dev='vda' bus='virtio'/>
                    </disk>
                    <disk type='file' device='cdrom'>
                      <driver name='qemu' type='raw'/>
                      <source file='\(escape(seed))'/>
                      <target dev='sda' bus='sata'/>
                      <readonly/>
                    </disk>

                """
        }
        return """
            <domain type='\(escape(domain.type))'>
              <name>\(escape(domain.name))</name>
              <memory unit='MiB'>\(domain.memoryMiB)</memory>
              <vcpu>1</vcpu>
              <os>
                <type arch='x86_64' machine='q35'>hvm</type>
            \(os)
              </os>
              <on_poweroff>destroy</on_poweroff>
              <on_reboot>destroy</on_reboot>
              <on_crash>destroy</on_crash>
              <devices>
            \(disks)\(interfaces)
                <serial type='file'>
                  <source path='\(escape(domain.console))'/>
                  <target port='0'/>
                </serial>
                <channel type='unix'>
                  <target type='virtio' name='org.qemu.guest_agent.0'/>
                </channel>
                <memballoon model='none'/>
              </devices>
            </domain>
            """
    }

    /// One NIC; with `linkUp` false, its cable is pulled (libvirt's link state).
    static func interface(_ network: String, mac: String, linkUp: Bool) -> String {
        """
            <interface type='network'>
              <source network='\(escape(network))'/>
              <mac address='\(mac)'/>
              <model type='virtio'/>
              <rom enabled='no'/>
              <link state='\(linkUp ? "up" : "down")'/>
            </interface>
        """
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "'", with: "&apos;")
    }
}
