import Foundation
import Testing
@testable import HALab
@testable import HALabBackends
@testable import HALabModel
@testable import HALabSystem

@Suite struct KeepalivedConfigTests {
    static let labs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../labs")
        .standardizedFileURL.path

    static func instances(_ text: String, file: String = "k.conf") -> [VRRPInstance] {
        KeepalivedNodeConfig.read(node: "n", file: file, source: .text(text)).instances
    }

    static func read(_ text: String, configID: String? = nil) -> KeepalivedNodeConfig {
        KeepalivedNodeConfig.read(node: "n", file: "k.conf", source: .text(text), configID: configID)
    }

    /// The lines keepalived's keywords would see, as `WORDS@LINE`, nested blocks in braces.
    static func shape(_ text: String, configID: String? = nil) -> String {
        func render(_ items: [ConfigItem]) -> String {
            items.map { item in
                item.words.joined(separator: " ") + "@\(item.line)" + (item.block.map { " {" + render($0) + "}" } ?? "")
            }
            .joined(separator: "; ")
        }
        return render(KeepalivedConfig.parse(text, file: "k.conf", configID: configID).items)
    }

    @Test func readsTheDocumentsMasterConfig() throws {
        let file = "\(Self.labs)/master-backup/nginx-1/etc/keepalived/keepalived.conf"
        let config = KeepalivedNodeConfig.read(
            node: "nginx-1", file: file, source: .text(try String(contentsOfFile: file, encoding: .utf8)))
        #expect(config.findings.isEmpty)
        #expect(config.instances.count == 1)
        let instance = try #require(config.instances.first)
        #expect(instance.name == "VI_1")
        #expect(instance.virtualRouterID == 51)
        #expect(instance.priority == 100)
        #expect(instance.initialState == .master)
        #expect(instance.advertInterval == 1)
        #expect(instance.virtualAddresses == ["10.33.1.100"])
        #expect(
            instance.trackedScripts == [
                VRRPScript(
                    name: "chk_nginx", command: "pidof nginx", interval: 2, weight: -20,
                    location: ConfigLocation(file: file, line: 5))
            ])
        #expect(instance.interface == "eth1")
        #expect(instance.authType == "PASS")
        #expect(instance.authPass == "mysecret")
        #expect(instance.location.line == 11)
    }

    @Test func commentsAndQuotedWords() {
        #expect(
            Self.shape(
                """
                ! a comment
                vrrp_script chk {   # trailing comment
                    script "/bin/sh -c 'pidof nginx'"   ! another
                    user "a # b" x\\#y
                }
                """) == "vrrp_script chk@2 {script /bin/sh -c 'pidof nginx'@3; user a # b x#y@4}")
        // keepalived splits a word before a quote, and a quoted word ends at the quote.
        #expect(BlockBuilder.words(#"a"b c"d e"#).words == ["a", "b c", "d", "e"])
    }

    @Test func bracesStandAloneWhereverTheyAre() {
        // keepalived splits off every { and } outside quotes: one-line blocks, v4{ and the like.
        #expect(Self.shape("global_defs\n{\n  router_id X\n}\n") == "global_defs@1 {router_id X@3}")
        #expect(
            Self.shape(
                "vrrp_instance v4{ state BACKUP\n virtual_ipaddress { 10.9.9.9/24 } }\nvrrp_script s { script \"a{b}\" "
                    + "}"
            )
                == "vrrp_instance v4@1 {state BACKUP@1; virtual_ipaddress@2 {10.9.9.9/24@2}}; vrrp_script s@3 {script "
                    + "a{b}@3}"
        )
        // A one-line authentication block: keepalived takes "auth_pass x" as auth_type's extra words.
        let config = Self.read(
            "vrrp_instance VI_1 {\n virtual_router_id 1\n authentication { auth_type PASS auth_pass x }\n}\n")
        #expect(config.instances.first?.authType == nil)
        #expect(config.findings.map(\.message).contains { $0.hasPrefix("authentication without auth_pass") })
    }

    @Test func blocksOnlyWhereKeepalivedHasThem() {
        // A { after a keyword that takes no block is ignored, and its } closes the enclosing block.
        let config = Self.read("global_defs {\n router_id x\n{\nNAME\n}\n vrrp_version 3\n}\n")
        #expect(config.routerID == "x")
        #expect(Set(config.findings.compactMap(\.location)) == ["k.conf:3", "k.conf:4", "k.conf:6", "k.conf:7"])
        #expect(
            config.findings.first { $0.location == "k.conf:6" }?.message.hasPrefix(
                "unknown keyword 'vrrp_version' in the top level") == true)
        // A keyword that takes a block reads it even without its {, as keepalived does (and says so).
        #expect(Self.shape("vrrp_instance V\n priority 7\n}\n") == "vrrp_instance V@1 {priority 7@2}")
        // Inside a value block a { is a value, not a block.
        #expect(
            Self.shape("vrrp_instance V {\n virtual_ipaddress {\n {\n 1.2.3.4\n }\n}\n")
                == "vrrp_instance V@1 {virtual_ipaddress@2 {{@3; 1.2.3.4@4}}")
    }

    @Test func unclosedAndStrayBracesAreFindingsWithTheirLine() {
        let unclosed = KeepalivedConfig.parse("global_defs {\n}\nvrrp_instance VI_1 {\n priority 1\n", file: "k.conf")
        #expect(unclosed.items.map(\.keyword) == ["global_defs", "vrrp_instance"])
        #expect(unclosed.findings.map(\.location) == ["k.conf:3"] && unclosed.findings[0].severity == .error)
        #expect(
            KeepalivedConfig.parse("global_defs {\n}\n}\n", file: "k.conf").findings.map(\.location) == ["k.conf:3"])
        let quote = KeepalivedConfig.parse("vrrp_script \"x {\n", file: "k.conf")
        // The quote, and the block its vrrp_script opens that nothing closes.
        #expect(
            quote.findings.map(\.location) == ["k.conf:1", "k.conf:1"]
                && quote.findings[0].message.hasPrefix("unterminated"))
    }

    @Test func parametersAreSubstitutedRecursivelyAtUse() {
        // keepalived.conf(5): substitution happens at use, so a later definition counts.
        #expect(
            Self.shape(
                """
                $ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}
                $ADDRESS_BASE_SUB=0
                a ${ADDRESS_BASE}.100/32
                $ADDRESS_BASE_SUB=10
                b ${ADDRESS_BASE}.100/32 $UNDEFINED ${UNDEFINED}x
                c $ADDRESS_BASE_SUB,$ADDRESS_BASE_SUB
                """) == "a 10.2.0.100/32@3; b 10.2.10.100/32 $UNDEFINED $@5; UNDEFINED@5; x@5; c 10,10@6")
        #expect(Self.shape("$X=1\n$Y =2\nk $X $Y\n") == "$Y =2@2; k 1 $Y@3")
        #expect(Self.shape("p ${_HASH}${_BANG} ${_INSTANCE} ${_RANDOM 3 9}\n", configID: "main") == "p #! main 3@1")
    }

    @Test func multiLineDefinitionsExpandAtALinesEnd() {
        // Used mid-line a multi-line definition stays as written; at a line's end it expands there.
        #expect(
            Self.shape(
                """
                $INSTANCE= \\
                vrrp_instance VI_${NUM} { \\
                    virtual_router_id ${NUM} \\
                    @high priority 130 \\
                    @low priority 120 \\
                }
                $NUM=1
                $INSTANCE
                $NUM=2
                $INSTANCE x
                y $INSTANCE
                """, configID: "low")
                == "vrrp_instance VI_1@8 {virtual_router_id 1@8; priority 120@8}; $INSTANCE x@10; y vrrp_instance "
                + "VI_2@11; virtual_router_id 2@11; priority 120@11")
    }

    @Test func conditionalLinesFollowTheConfigID() {
        let text = "@main router_id a\n@backup router_id b\n@^main p 1\n@main\n@main $P=9\nq $P\n"
        #expect(Self.shape(text, configID: "main") == "router_id a@1; q 9@6")
        #expect(Self.shape(text, configID: "backup") == "router_id b@2; p 1@3; q $P@6")
        #expect(Self.shape(text) == "p 1@3; q $P@6")
    }

    @Test func sequencesRepeatTheirLine() {
        #expect(
            Self.shape("~SEQ(S, 0, 3) ip 10.0.${S}.1\n") == "ip 10.0.0.1@1; ip 10.0.1.1@1; ip 10.0.2.1@1; ip 10.0.3.1@1"
        )
        #expect(
            Self.shape("~SEQx(S, 0x90, 0x10, 0xb0) ip fe80::${S}:1\n")
                == "ip fe80::90:1@1; ip fe80::a0:1@1; ip fe80::b0:1@1")
        #expect(Self.shape("~SEQ(S, 3) n ${S}\n~SEQ(T, 5, 1, 1) m\n") == "n 1@1; n 2@1; n 3@1")
        #expect(
            KeepalivedConfig.parse("~SEQ(T, 5, 1, 1) m\n", file: "k").findings.first?.message.hasPrefix("invalid ~SEQ")
                == true)
    }

    /// A config whose `@ID` lines match no config id: one finding naming the ids and the way to
    /// pick one; what keepalived leaves out for want of them is no error of its own.
    @Test func linesForOtherConfigIDsAreOneFinding() {
        let text =
            "vrrp_script chk {\n@low script \"/bin/true\"\n@high script \"/bin/false\"\n interval 1\n}\nvrrp_script "
            + "bare {\n interval 1\n}\nvrrp_instance V {\n virtual_router_id 1\n track_script {\n  chk\n  bare\n }\n}\n"
        let read = { (id: String) in
            KeepalivedNodeConfig.read(node: "n", file: "k.conf", source: .text(text), configID: id)
        }
        let plain = read("n")
        #expect(
            plain.findings.map { "\($0.severity) \($0.location ?? "")" } == [
                "warning k.conf:2", "info k.conf:1", "error k.conf:6",
                "info k.conf:12", "error k.conf:13", "warning k.conf:9"
            ])
        #expect(
            plain.findings[0].message
                == "lines here are only for config ids low, high (`@ID`), and this config id, 'n', matches none: "
                + "keepalived leaves them out. To check the config as one of them, pass --config-id ID (keepalived's "
                + "-i ID)"
        )
        #expect(plain.findings[2].message == "vrrp_script bare has no script: keepalived ignores it")
        // As one of them: its script, and no word of config ids.
        let low = read("low")
        #expect(
            low.scripts.map(\.command) == ["/bin/true"] && !low.findings.contains { $0.message.contains("config id") })
    }

    /// keepalived.conf(5)'s own examples of list blocks, expanded as keepalived 2.2.7 does.
    @Test func listsRepeatTheirLineForEachValue() {
        let lines = { (text: String) in
            KeepalivedConfig.parse(text + "\n", file: "k.conf").items.map { $0.words.joined(separator: " ") }
        }
        #expect(
            lines("~LST({IP, IP1}, {10,1},{20,4},{5,6},{12,8}) 192.168.${IP}.${IP1}")
                == ["192.168.10.1", "192.168.20.4", "192.168.5.6", "192.168.12.8"])
        #expect(
            lines("~LST(IP, 1, 2, 3, 4) ~LST(IP1, 5,6,7) 192.169.${IP}.${IP1}")
                == (1...4).flatMap { ip in (5...7).map { "192.169.\(ip).\($0)" } })
        #expect(
            lines("~LST({IP, IP1}, {10,1},{20,4},{5,6},{12,8}) ~SEQ(IP2,168,2,172) 192.${IP2}.${IP}.${IP1}")
                == ["10.1", "20.4", "5.6", "12.8"].flatMap { pair in [168, 170, 172].map { "192.\($0).\(pair)" } })
        // A missing value is blank; one too many, and the line is ignored with keepalived's error.
        #expect(lines("~LST({A, B}, {1}, {2, 3}) x${A}y${B}z") == ["x1yz", "x2y3z"])
        let tooMany = KeepalivedConfig.parse("~LST({A}, {1, 2}) x\n", file: "k.conf")
        #expect(
            tooMany.items.isEmpty
                && tooMany.findings.map(\.message) == [
                    "invalid ~LST: keepalived ignores the line (\"Invalid ~LST specification\") (\"~LST specification "
                        + "has too many values\")"
                ])
        #expect(
            KeepalivedConfig.parse("~LST(A 1) x\n", file: "k.conf").findings.first?.message.hasPrefix("invalid ~LST")
                == true)
        // In a block: the addresses an instance floats.
        let instances = Self.instances(
            "vrrp_instance V {\n virtual_router_id 9\n virtual_ipaddress {\n  ~LST({IP, IP1}, {10,1},{20,4}) "
                + "192.168.${IP}.${IP1}\n }\n}\n")
        #expect(instances.first?.virtualAddresses == ["192.168.10.1", "192.168.20.4"])
    }

    @Test func noFileCanMakeItLoopOrTrap() {
        // A definition that uses itself: one error naming the chain, where it is first used, and
        // the use left as written.
        let parsed = KeepalivedConfig.parse("$A=x $A\nk $A\nj $A\n", file: "k.conf")
        #expect(parsed.items.map { $0.words.joined(separator: " ") } == ["k $A", "j $A"])
        #expect(
            parsed.findings.map { "\($0.severity) \($0.location ?? "") \($0.message)" } == [
                "error k.conf:2 parameter $A → $A refers to itself: keepalived substitutes it until the line reaches "
                    + "1024 bytes; halab leaves $A unsubstituted"
            ])
        // A multi-line definition that uses itself.
        let nested = KeepalivedConfig.parse("$M= \\\na \\\n$M\n$M\n", file: "k.conf")
        #expect(
            nested.findings.filter { $0.severity == .error }.map(\.message) == [
                "parameter $M → $M refers to itself: keepalived substitutes it until the line reaches 1024 bytes; "
                    + "halab leaves $M unsubstituted"
            ])
        // Bytes that are not UTF-8, NULs and a line longer than keepalived's buffer.
        let bytes: [UInt8] =
            Array("router_id ".utf8) + [0xff, 0xfe, 0x00, 0x41] + Array(repeating: 0x61, count: 3000) + [10]
        let odd = KeepalivedConfig.parse(
            file: "k", source: KeepalivedConfig.Source(read: { _ in bytes }, expand: { _, _ in [] }))
        #expect(odd.items.count == 3)
    }

    /// `$IF=$IF`, from a real config: keepalived hangs on it. halab says so at once, naming the chain,
    /// however many lines use it; a chain through other parameters too; a parameter used twice
    /// on a line without any cycle is no cycle.
    @Test func aParameterDefinedAsItselfIsOneErrorFoundAtOnce() {
        let uses = String(repeating: "interface $IF\n", count: 2000)
        let direct = KeepalivedConfig.parse("$IF=$IF\n" + uses, file: "k.conf")
        #expect(
            direct.findings.map { "\($0.location ?? "") \($0.message)" } == [
                "k.conf:2 parameter $IF → $IF refers to itself: keepalived substitutes it forever and never starts; "
                    + "halab leaves $IF unsubstituted"
            ])
        let chain = KeepalivedConfig.parse("$A=${B}\n$B=$C\n$C=$A\nk $A\n", file: "k.conf")
        #expect(
            chain.findings.map(\.message) == [
                "parameter $A → $B → $C → $A refers to itself: keepalived substitutes it forever and never starts; "
                    + "halab leaves $A unsubstituted"
            ])
        let twice = KeepalivedConfig.parse("$X=1\n$Y=$X $X\nk $Y $Y\n", file: "k.conf")
        #expect(twice.findings.isEmpty && twice.items.first?.words == ["k", "1", "1", "1", "1"])
    }

    @Test func everyNumberIsCheckedAsKeepalivedChecksIt() {
        func finding(_ setting: String) -> String? {
            Self.read("vrrp_instance V {\n virtual_router_id 51\n \(setting)\n virtual_ipaddress {\n 10.1.1.1\n }\n}\n")
                .findings.first { $0.location == "k.conf:3" }?.message
        }
        // What keepalived 2.2.7 says of each (keepalived -t), and what it then does.
        #expect(finding("priority 256") == "priority 256 is outside [1, 255]: keepalived uses the default 100")
        #expect(
            finding("priority 99999999999999999999")
                == "priority 99999999999999999999 is far outside [1, 255]: keepalived uses the default 100")
        #expect(finding("priority 1e400") == "priority '1e400' is not a whole number: keepalived uses the default 100")
        #expect(finding("priority 10.5") == "priority '10.5' is not a whole number: keepalived uses the default 100")
        #expect(finding("state EQUAL") == "unknown state 'EQUAL' (MASTER or BACKUP): keepalived starts V as BACKUP")
        #expect(
            finding("advert_int 0.4") == "VRRPv2 adverts are whole seconds: keepalived rounds advert_int 0.4 to 1 s")
        #expect(finding("advert_int nan") == "advert_int 'nan' is not a number: keepalived keeps 1 s")
        #expect(finding("preempt_delay 2000") == "preempt_delay 2000 is outside [0, 1000]: keepalived ignores it")
        #expect(finding("priority 100") == nil)
        let read = Self.read(
            "vrrp_instance V {\n virtual_router_id 51\n advert_int 1.5\n priority 256\n virtual_ipaddress {\n /\n "
                + "10.1.1.1/24\n fe80::1\n }\n}\n"
        )
        #expect(read.instances.first?.advertInterval == 2)  // seen: keepalived rounds 1.5 to 2, 1.4 and 0.4 to 1
        #expect(read.instances.first?.priority == 100)
        #expect(read.instances.first?.virtualAddresses == ["10.1.1.1"])
        #expect(Self.read("vrrp_instance V {\n virtual_router_id 0\n}\n").instances.isEmpty)
    }

    @Test func aTypoIsAWarningThatSaysWhatWasMeantAndWhatRuns() {
        let config = Self.read(
            "vrrp_instance VI_1 {\n virtual_router_id 51\n priorty 150\n auth_typ PASS\n garp_master_delay 1\n}\n")
        #expect(config.instances.first?.priority == 100)
        let messages = config.findings.map(\.message)
        #expect(
            messages.contains(
                "unknown keyword 'priorty' in vrrp_instance VI_1 (did you mean 'priority'?): keepalived ignores the "
                    + "line (\"Unknown keyword\"); VI_1 runs with priority 100, in keepalived and in halab's model"))
        #expect(
            messages.contains { $0.hasPrefix("unknown keyword 'auth_typ' in vrrp_instance VI_1: keepalived ignores") })
        #expect(config.findings.allSatisfy { $0.severity == .warning || $0.severity == .info })
        #expect(config.notModelled.map(\.keyword) == ["garp_master_delay"])  // valid, not modelled: info in check
    }

    @Test func trackedScriptsAreThoseDefinedBefore() {
        let config = Self.read(
            """
            vrrp_instance V {
                virtual_router_id 7
                track_script {
                    later
                }
            }
            vrrp_script later {
                script "/bin/true"
            }
            """)
        #expect(config.instances.first?.trackedScripts == [])
        #expect(
            config.findings.first?.message
                == "track_script names 'later', which no vrrp_script before V defines: keepalived ignores it")
    }

    @Test func trackScriptWeightOverridesTheScripts() throws {
        let instances = Self.instances(
            """
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

    @Test func timersFollowTheRFCs() {
        var instance = VRRPInstance(
            name: "VI_1", node: "n", location: ConfigLocation(file: "k", line: 1), virtualRouterID: 51, priority: 90)
        #expect(instance.skewTime(priority: 90) == 166.0 / 256)
        #expect(instance.masterDownInterval(priority: 90) == 3 + 166.0 / 256)
        instance.version = 3
        instance.advertInterval = 0.1
        #expect(abs(instance.masterDownInterval(priority: 90) - (0.3 + 166 * 0.1 / 256)) < 1e-12)
    }
}
