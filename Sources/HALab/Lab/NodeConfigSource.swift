import Foundation
import HALabBackends
import HALabModel
import HALabSystem

extension KeepalivedConfig.Source {
    /// Files as a node sees them: its lab layers (first wins), then the host's own root —
    /// what keepalived inside the node reads, includes and their globs too.
    public static func layers(_ layers: [String]) -> Self {
        let roots = layers + [""]
        return Self(
            read: { path in
                for root in roots {
                    if let text = try? String(contentsOfFile: root + path, encoding: .utf8) { return text }
                }
                throw HALabError.badLabFile(file: path, line: nil, message: "no such file in the node")
            },
            expand: { pattern, includingFile in
                let absolute = pattern.hasPrefix("/") ? pattern
                    : String(includingFile[..<(includingFile.lastIndex(of: "/") ?? includingFile.startIndex)]) + "/" + pattern
                var found: [String] = []
                for root in roots {
                    for match in glob(root + absolute) {
                        let nodePath = String(match.dropFirst(root.count))
                        if !found.contains(nodePath) { found.append(nodePath) }
                    }
                }
                return found.sorted()
            })
    }

    private static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
    }
}
