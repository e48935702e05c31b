import Foundation
import HALabSystem

/// Faults on VMs: cables, commands in a guest, frozen VMs and programs.
extension LibvirtBackend {
    public var hasSwitches: Bool { false }

    /// A cable pulled or plugged back: the NIC's link state, set by libvirt in the domain's config
    /// too, so that a VM that is off (a switch lost meanwhile) or crashes boots with it as it is.
    func pullCable(_ lab: String, topology: LabTopology, node: String, interface: String, plugged: Bool) async throws {
        let (nodeIndex, index) = try topology.locate(node, interface: interface)
        try setCable(
            try domain(lab, node), topology: topology, nodeIndex: nodeIndex, interfaceIndex: index, plugged: plugged,
            staying: true)
    }

    /// `staying`: in the config as well; a crash pulls the cables of the running VM only.
    func setCable(
        _ domain: LibvirtDomain, topology: LabTopology, nodeIndex: Int, interfaceIndex: Int, plugged: Bool,
        staying: Bool = false
    ) throws {
        let network = LibvirtXML.networkName(
            lab: topology.name, segment: topology.nodes[nodeIndex].interfaces[interfaceIndex].segment)
        let mac = topology.macAddress(node: nodeIndex, interface: interfaceIndex)
        let xml = LibvirtXML.interface(network, mac: mac, linkUp: plugged)
        try staying ? domain.updateDevice(xml: xml) : domain.updateLiveDevice(xml: xml)
    }

    /// Commands run in the guest, as an operator on the machine would run them; no switch of
    /// libvirt's is halab's to filter (`hasSwitches` is false), so every place is a node.
    func runInNetwork(_ lab: String, _ place: FaultPlan.Place, _ command: [String], input: String?) async throws
        -> CommandResult
    {
        guard case .node(let node) = place else {
            throw HALabError.unsupported("libvirt's switches cannot be filtered by halab")
        }
        return try await runningDomain(lab, node).run(command, input: input)
    }

    /// A pause suspends the VM. A frozen machine's addresses cannot change: the ones it had when
    /// it froze are shown.
    func freeze(_ lab: String, node: String, frozen: Bool) async throws {
        let domain = try runningDomain(lab, node)
        if frozen {
            try FileSystem.write(
                try await addresses(lab, node: node).joined(separator: "\n"), to: pausedAddresses(lab, node))
            try domain.suspend()
        } else if domain.isPaused {
            try domain.resume()
        }
    }

    /// The program's processes in the VM, stopped or continued by the guest's own kill.
    func freeze(_ lab: String, node: String, program: String, frozen: Bool) async throws {
        let script = "for pid in $(pidof \"$1\"); do kill -\(frozen ? "STOP" : "CONT") \"$pid\"; done"
        let result = try await runningDomain(lab, node).run(["/bin/sh", "-c", script, "freeze", program])
        guard result.succeeded else {
            throw HALabError.commandFailed(
                command: "kill -\(frozen ? "STOP" : "CONT") \(program) on \(node)", status: "exit \(result.exitCode)",
                output: result.errorOutput + result.output)
        }
    }
}
