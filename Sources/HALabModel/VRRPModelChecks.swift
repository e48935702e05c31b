/// What a node's health checks see: the services a `vrrp_script` looks at, and the nodes it
/// pings. The VRRP model asks these to know which checks fail after an event.
extension VRRPModel {
    func failingScripts(_ index: Int) -> Set<String> {
        let instance = instances[index]
        let stopped = states[instance.node]?.stopped ?? []
        return Set(instance.trackedScripts.filter { script in
            servicesChecked(by: script, on: instance.node).contains { stopped.contains($0) }
                || nodesPinged(by: script, from: instance.node).contains { !reachable($0, from: instance.node) }
        }.map(\.name))
    }

    /// The other nodes a check pings (`ping … ADDRESS`): it fails while they cannot answer.
    func nodesPinged(by script: VRRPScript, from node: String) -> [String] {
        let words = script.command.split(separator: " ").map(String.init)
        guard words.contains(where: { $0.hasSuffix("ping") }) else { return [] }
        return words.compactMap { word in nodes.values.first { $0.name != node && $0.addresses.contains(word) }?.name }
    }

    /// The services of `node` a health check looks at: the one the lab names for it, else a
    /// word of its command that names one (`pidof nginx`, `killall -0 haproxy`, `pgrep -x nginx`,
    /// `rc-service nginx status`), or a local port one serves (`curl http://127.0.0.1:8080/`,
    /// `nc -z localhost 80`).
    public func servicesChecked(by script: VRRPScript, on node: String) -> [String] {
        guard let spec = nodes[node] else { return [] }
        if let named = spec.checks[script.name] { return [named] }
        let words = script.command.split(whereSeparator: { $0 == " " || $0 == "'" || $0 == "\"" }).map(String.init)
        let named = words.map { String($0.split(separator: "/").last ?? "") }.filter(spec.services.contains)
        return (named + Self.localPorts(in: words).compactMap { spec.ports[$0] }).uniqueInOrder()
    }

    /// The local TCP ports a check's words probe: a URL to localhost or 127.0.0.1 (port 80 when
    /// none is given), or `nc … localhost PORT`.
    static func localPorts(in words: [String]) -> [Int] {
        let hosts = ["localhost", "127.0.0.1", "[::1]"]
        var ports: [Int] = []
        for (index, word) in words.enumerated() {
            let rest = word.drop { $0 != ":" }.dropFirst(3)  // after "scheme://"
            if word.hasPrefix("http://") || word.hasPrefix("https://") {
                let authority = rest.prefix { $0 != "/" }
                let parts = authority.split(separator: ":")
                guard let host = parts.first, hosts.contains(String(host)) else { continue }
                ports.append(parts.count > 1 ? Int(parts[1]) ?? 0 : (word.hasPrefix("https") ? 443 : 80))
            } else if hosts.contains(word), index + 1 < words.count, let port = Int(words[index + 1]), words.contains(where: { $0.hasSuffix("nc") }) {
                ports.append(port)
            }
        }
        return ports
    }
}

extension Array {
    /// Every ordering of the elements.
    func permutations() -> [[Element]] {
        guard count > 1 else { return [self] }
        return indices.flatMap { index in
            var rest = self
            let first = rest.remove(at: index)
            return rest.permutations().map { [first] + $0 }
        }
    }
}
