import Foundation
import HALabModel
import HALabSystem

extension KeepalivedConfig.Source {
    /// An `include`'s pattern as keepalived resolves it: relative to the including file's folder.
    static func includePath(_ pattern: String, from includingFile: String) -> String {
        if pattern.hasPrefix("/") { return pattern }
        return String(includingFile[..<(includingFile.lastIndex(of: "/") ?? includingFile.startIndex)]) + "/" + pattern
    }

    /// Files as a namespace node sees them, read as bytes whatever their encoding: the first of
    /// its lab layers that has the path, else the machine's own file (the layers are overlays
    /// on the machine's folders), except under /run and /tmp, which are the node's own and
    /// empty. A file a layer has but cannot be read is an error: nothing else stands in for it.
    public static func layers(_ layers: [String], node: String) -> Self {
        Self(
            read: { path in
                guard let (root, _) = locate(path, in: layers) else {
                    throw HALabError.badLabFile(
                        file: path, line: nil,
                        message: "no such file in node \(node) (looked in "
                            + (layers + (nodeOwn(path) ? [] : ["the machine's own root"])).joined(separator: ", ") + ")"
                    )
                }
                guard let data = FileManager.default.contents(atPath: root + path) else {
                    throw HALabError.badLabFile(
                        file: root + path, line: nil, message: "cannot be read (node \(node) reads it as \(path))")
                }
                return Array(data)
            },
            expand: { pattern, includingFile in
                let absolute = includePath(pattern, from: includingFile)
                var found: [String] = []
                for root in layers + (nodeOwn(absolute) ? [] : [""]) {
                    for match in glob(root + absolute) {
                        let nodePath = String(match.dropFirst(root.count))
                        if !found.contains(nodePath) { found.append(nodePath) }
                    }
                }
                return found.sorted()
            },
            origin: { path in
                guard let (root, _) = locate(path, in: layers), root.isEmpty else { return nil }
                return
                    "\(path) is this machine's own file: no layer of the lab has it, so node \(node) sees the machine's"
            })
    }

    /// The root (a layer, or "" for the machine's) whose copy of `path` the node sees.
    static func locate(_ path: String, in layers: [String]) -> (root: String, path: String)? {
        var info = stat()
        for root in layers + (nodeOwn(path) ? [] : [""]) where lstat(root + path, &info) == 0 {
            return (root, root + path)
        }
        return nil
    }

    /// /run and /tmp are a node's own, empty when it boots.
    static func nodeOwn(_ path: String) -> Bool {
        path == "/run" || path == "/tmp" || path.hasPrefix("/run/") || path.hasPrefix("/tmp/")
    }

    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
    }
}
