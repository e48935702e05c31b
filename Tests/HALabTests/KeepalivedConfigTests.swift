import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

@Suite struct KeepalivedConfigTests {
    static let labs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../labs").standardizedFileURL.path

    static func instances(_ text: String, file: String = "k.conf") throws -> [VRRPInstance] {
        try KeepalivedNodeConfig.read(node: "n", file: file, source: .text(text)).instances
    }

    @Test func readsTheDocumentsMasterConfig() throws {
        let file = "\(Self.labs)/master-backup/nginx-1/etc/keepalived/keepalived.conf"
        let instances = try Self.instances(try String(contentsOfFile: file, encoding: .utf8), file: file)
        #expect(instances.count == 1)
        let instance = try #require(instances.first)
        #expect(instance.name == "VI_1")
        #expect(instance.virtualRouterID == 51)
        #expect(instance.priority == 100)
        #expect(instance.initialState == "MASTER")
        #expect(instance.advertInterval == 1)
        #expect(instance.virtualAddresses == ["10.33.1.100"])
        #expect(instance.trackedScripts == [VRRPScript(name: "chk_nginx", command: "pidof nginx", interval: 2, weight: -20,
                                                       location: ConfigLocation(file: file, line: 5))])
        #expect(instance.interface == "eth1")
        #expect(instance.authType == "PASS")
        #expect(instance.authPass == "mysecret")
        #expect(instance.location.line == 11)
    }

    @Test func commentsAndQuotedWords() throws {
        let items = try KeepalivedConfig.parse("""
            ! a comment
            vrrp_script chk {   # trailing comment
                script "/bin/sh -c 'pidof nginx'"
            }
            """, file: "k.conf")
        #expect(items.count == 1)
        #expect(items[0].words == ["vrrp_script", "chk"])
        #expect(items[0].line == 2)
        #expect(items[0].block?.first?.words == ["script", "/bin/sh -c 'pidof nginx'"])
    }

    @Test func braceOnItsOwnLineOpensTheBlock() throws {
        let items = try KeepalivedConfig.parse("global_defs\n{\n  router_id X\n}\n", file: "k.conf")
        #expect(items[0].block?.first?.words == ["router_id", "X"])
    }

    @Test func oneLineBlockIsRejectedWithItsLine() {
        // keepalived itself misreads this ("Authentication specified but no password given").
        #expect(throws: ConfigError(file: "k.conf", line: 2,
            message: "keepalived reads '{' only at the end of a line and '}' only on a line of its own")) {
            try KeepalivedConfig.parse("vrrp_instance VI_1 {\n authentication { auth_type PASS auth_pass x }\n}\n", file: "k.conf")
        }
    }

    @Test func unclosedAndStrayBracesNameTheLine() {
        #expect(throws: ConfigError(file: "k.conf", line: 3, message: "block opened here is never closed with '}'")) {
            try KeepalivedConfig.parse("global_defs {\n}\nvrrp_instance VI_1 {\n priority 1\n", file: "k.conf")
        }
        #expect(throws: ConfigError(file: "k.conf", line: 3, message: "'}' closes no block")) {
            try KeepalivedConfig.parse("global_defs {\n}\n}\n", file: "k.conf")
        }
        #expect(throws: ConfigError(file: "k.conf", line: 1, message: "unterminated '\"'")) {
            try KeepalivedConfig.parse("vrrp_script \"x {\n", file: "k.conf")
        }
    }

    @Test func trackScriptWeightOverridesTheScripts() throws {
        let instances = try Self.instances("""
            vrrp_script chk {
                script "pidof nginx"
                weight -20
                fall 3
            }
            vrrp_instance VI_1 {
                virtual_router_id 7
                track_script {
                    chk weight -40
                }
            }
            """, file: "k.conf")
        #expect(instances[0].trackedScripts.first?.weight == -40)
        #expect(instances[0].trackedScripts.first?.fall == 3)
    }

    @Test func badValuesNameFileAndLine() {
        #expect(throws: ConfigError(file: "k.conf", line: 3, message: "track_script names 'nope', which no vrrp_script defines")) {
            try Self.instances("vrrp_instance VI_1 {\n track_script {\n  nope\n }\n}\n", file: "k.conf")
        }
        #expect(throws: ConfigError(file: "k.conf", line: 2, message: "'priority' needs a number, not 'high'")) {
            try Self.instances("vrrp_instance VI_1 {\n priority high\n}\n", file: "k.conf")
        }
        #expect(throws: ConfigError(file: "k.conf", line: 1, message: "vrrp_instance VI_1 has no virtual_router_id")) {
            try Self.instances("vrrp_instance VI_1 {\n priority 1\n}\n", file: "k.conf")
        }
    }

    @Test func timersFollowTheRFCs() {
        var instance = VRRPInstance(name: "VI_1", node: "n", location: ConfigLocation(file: "k", line: 1), virtualRouterID: 51, priority: 90)
        #expect(instance.skewTime(priority: 90) == 166.0 / 256)
        #expect(instance.masterDownInterval(priority: 90) == 3 + 166.0 / 256)
        instance.version = 3
        instance.advertInterval = 0.1
        #expect(abs(instance.masterDownInterval(priority: 90) - (0.3 + 166 * 0.1 / 256)) < 1e-12)
    }
}
