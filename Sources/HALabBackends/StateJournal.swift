import HALabSystem

/// The lab's write-ahead journal, `/run/halab/LAB/journal`: every object is recorded here
/// *before* it is created, so `down` can remove exactly what a lab made, even after halab
/// itself was killed half-way.
struct StateJournal {
    enum Record: Equatable {
        /// The lab folder the lab was built from.
        case source(String)
        /// A named network namespace, `/run/netns/NAME`.
        case netns(String)
        /// The lab runs on libvirt, at this URI.
        case libvirt(String)
        /// A libvirt network (one per segment) or domain (one per node).
        case network(String)
        case domain(String)
    }

    let path: String

    func append(_ record: Record) throws {
        let line: String
        switch record {
        case .source(let folder): line = "source \(folder)"
        case .netns(let name): line = "netns \(name)"
        case .libvirt(let uri): line = "libvirt \(uri)"
        case .network(let name): line = "network \(name)"
        case .domain(let name): line = "domain \(name)"
        }
        try FileSystem.appendLine(line, to: path)
    }

    func records() -> [Record] {
        guard let text = try? FileSystem.read(path) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }  // a line cut short by a crash
            switch parts[0] {
            case "source": return .source(parts[1])
            case "netns": return .netns(parts[1])
            case "libvirt": return .libvirt(parts[1])
            case "network": return .network(parts[1])
            case "domain": return .domain(parts[1])
            default: return nil
            }
        }
    }
}
