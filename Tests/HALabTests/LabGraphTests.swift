import Foundation
import Testing
@testable import HALab

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// `halab graph`: every lab drawn names every switch, node and VIP; live, the holder, a cut
/// cable and a node that is down show.
@Suite struct LabGraphTests {
    static let labs = ((try? FileManager.default.contentsOfDirectory(atPath: KeepalivedConfigTests.labs)) ?? [])
        .sorted()

    static func names(_ lab: Lab) -> [String] {
        lab.topology.segments + lab.topology.nodes.map(\.name) + lab.virtualAddresses.map(\.address)
    }

    @Test(arguments: labs) func dotAndMermaidNameEverything(lab name: String) throws {
        let lab = try VRRPModelTests.lab(name)
        let graph = LabGraph(lab: lab)
        for name in Self.names(lab) {
            #expect(graph.dot().contains(name) && graph.mermaid().contains(name), "\(name)")
        }
        #expect(graph.dot().hasPrefix("graph \"\(name)\" {") && graph.mermaid().contains("flowchart TB"))
    }

    @Test func theLiveStateShows() throws {
        let lab = try VRRPModelTests.lab("master-backup")
        let live = LabGraph.Live(
            holders: ["10.33.1.100": ["nginx-2"]], down: [], frozen: [], cut: ["nginx-1:eth1"], switchesDown: [],
            faults: ["link down nginx-1:eth1 (at the switch)"])
        let graph = LabGraph(lab: lab, live: live)
        #expect(graph.dot().contains("\"vip:10.33.1.100\" -- \"node:nginx-2\" [label=\"holds\""))
        #expect(graph.dot().contains("\"vip:10.33.1.100\" -- \"node:nginx-1\" [style=dotted]"))
        #expect(graph.dot().contains("eth1 10.33.1.11/24 (cut)\", style=dashed, color=red"))
        #expect(
            graph.mermaid().contains("vip_10_33_1_100 ==>|holds| node_nginx_2")
                && graph.mermaid().contains("linkStyle 0 stroke:red"))
        let down = LabGraph(lab: lab, live: LabGraph.Live(down: ["nginx-1"]))
        #expect(down.dot().contains("nginx-1\\nnginx, keepalived\\nDOWN"))
    }

    /// The SVG Graphviz draws parses as XML and names every switch, node and VIP of every lab.
    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/bin/dot"),
            "needs Graphviz's dot: apt-get install -y graphviz"),
        arguments: labs)
    func theSVGParsesAndNamesEverything(lab name: String) async throws {
        let lab = try VRRPModelTests.lab(name)
        let svg = try await LabGraph(lab: lab).svg()
        let parser = XMLParser(data: Data(svg.utf8))
        let texts = SVGTexts()
        parser.delegate = texts
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        let all = texts.strings.joined(separator: " ")
        for name in Self.names(lab) { #expect(all.contains(name), "\(name) not in the SVG's text") }
    }
}

/// The text of an SVG's <text> elements.
final class SVGTexts: NSObject, XMLParserDelegate, @unchecked Sendable {
    var strings: [String] = []
    var inText = false
    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if name == "text" { inText = true; strings.append("") }
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { inText = false }
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { strings[strings.count - 1] += string }
    }
}
