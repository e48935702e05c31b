extension KeepalivedNodeConfig {
    /// Reads one node's config as keepalived 2.2.7 reads it (`configID`: the node's name, as
    /// keepalived inside the node takes it from its hostname). Never throws: every value keepalived
    /// would refuse is a finding that says what keepalived does instead, and the model gets what
    /// keepalived would run.
    public static func read(node: String, file: String, source: KeepalivedConfig.Source, configID: String? = nil)
        -> KeepalivedNodeConfig
    {
        let parsed = KeepalivedConfig.parse(file: file, source: source, configID: configID ?? node)
        var reader = ConfigReader(node: node)
        reader.config.file = file
        reader.config.findings = parsed.findings
        reader.otherIDLines = parsed.otherIDLines
        reader.read(parsed.items)
        return reader.config
    }
}

/// keepalived's keywords over the parsed items: what each sets, checked as keepalived checks it.
struct ConfigReader {
    var config: KeepalivedNodeConfig
    /// The vrrp_scripts defined so far: keepalived finds a tracked script only among those
    /// defined before the instance that tracks it.
    var scripts: [String: VRRPScript] = [:]
    /// The track files defined so far, likewise.
    var trackFiles: [String: TrackedFile] = [:]
    var defaultVersion = 2
    /// Whether global_defs sets vrrp_version: else an IPv6 instance runs VRRPv3.
    var versionGiven = false
    /// global_defs' `vrrp_skip_check_adv_addr`: the instances' default.
    var skipsAddressCheck = false
    /// global_defs' `vrrp_down_timer_adverts`, the default of the instances after it, and
    /// `vrrp_startup_delay`, for every instance.
    var downTimerAdverts = 3
    var startupDelay: Double = 0
    /// global_defs' `vrrp_strict`: every instance in strict mode.
    var strict = false
    /// Lines left out for other config ids (`KeepalivedConfig.Parsed.otherIDLines`), and the
    /// scripts keepalived removes for want of them: what follows from the config id alone.
    var otherIDLines: [(keyword: String, location: ConfigLocation)] = []
    var scriptsForOtherIDs: Set<String> = []

    init(node: String) { config = KeepalivedNodeConfig(node: node) }

    var values: Values { Values() }

    mutating func note(_ severity: Severity, _ item: ConfigItem, _ message: String) {
        config.findings.append(Finding(severity, at: item.location, message))
    }

    mutating func read(_ items: [ConfigItem]) {
        for (index, item) in items.enumerated() {
            switch item.keyword {
            case "global_defs": globalDefs(item.block ?? [])
            case "vrrp_script":
                script(item, before: items.dropFirst(index + 1).first { $0.file == item.file }?.line ?? .max)
            case "vrrp_instance": instance(item)
            case "vrrp_sync_group": syncGroup(item)
            case "track_file", "vrrp_track_file": trackFile(item)
            default: other(item, known: KeepalivedKeywords.topLevel, in: "the top level")
            }
        }
        for group in config.syncGroups { join(group) }
        // vrrp_startup_delay holds every instance, wherever global_defs is.
        for index in config.instances.indices { config.instances[index].startupDelay = startupDelay }
    }

    /// A keyword halab does not read: kept and reported as not modelled when keepalived knows
    /// it there, a warning (with the keyword meant, if one is close) when keepalived does not.
    mutating func other(_ item: ConfigItem, known: Set<String>, in place: String, consequence: String = "") {
        if known.contains(item.keyword) {
            config.notModelled.append((item.keyword, item.location))
            return
        }
        let guess = Spelling.closest(to: item.keyword, among: known).map { " (did you mean '\($0)'?)" } ?? ""
        note(
            .warning, item,
            "unknown keyword '\(item.keyword)' in \(place)\(guess): keepalived ignores the line (\"Unknown "
                + "keyword\")\(consequence)"
        )
    }

    mutating func globalDefs(_ settings: [ConfigItem]) {
        for setting in settings {
            switch setting.keyword {
            case "router_id":
                guard let value = values.word(setting, &config.findings) else { continue }
                config.routerID = value
                config.routerIDLocation = setting.location
            case "vrrp_version":
                if let version = values.integer(
                    setting, in: 2...3, &config.findings, otherwise: "keepalived keeps VRRPv\(defaultVersion)")
                {
                    defaultVersion = version
                    versionGiven = true
                }
            case "vrrp_skip_check_adv_addr": skipsAddressCheck = true
            case "vrrp_down_timer_adverts":
                downTimerAdverts =
                    values.integer(setting, in: 1...100, &config.findings, otherwise: "keepalived keeps 3")
                    ?? downTimerAdverts
            case "vrrp_strict":
                strict = true
                other(setting, known: KeepalivedKeywords.globalDefs, in: "global_defs")
            case "vrrp_startup_delay":
                startupDelay =
                    values.decimal(
                        setting, in: 0.001...Values.largestSeconds, &config.findings,
                        otherwise: "keepalived starts at once")
                    ?? startupDelay
            default: other(setting, known: KeepalivedKeywords.globalDefs, in: "global_defs")
            }
        }
    }

    /// A `vrrp_script` block; `next`: the line where the file's next item starts.
    mutating func script(_ item: ConfigItem, before next: Int) {
        guard let name = item.arguments.first else {
            return note(.error, item, "vrrp_script has no name: keepalived ignores it")
        }
        var script = VRRPScript(name: name, command: "", location: item.location)
        for setting in item.block ?? [] {
            switch setting.keyword {
            case "script": script.command = setting.arguments.joined(separator: " ")
            case "interval":
                if let seconds = values.decimal(
                    setting, in: 0...Values.largestSeconds, &config.findings, otherwise: "keepalived uses 1 s")
                {
                    if seconds > 0 {
                        script.interval = seconds
                    } else {
                        note(
                            .error, setting,
                            "vrrp_script \(name): interval must be more than 0: keepalived sets it to 1 s")
                    }
                }
            case "timeout":
                let otherwise = "keepalived uses the interval"
                if let seconds = values.decimal(
                    setting, in: 0...Values.largestSeconds, &config.findings, otherwise: otherwise),
                    seconds > 0
                {
                    script.timeoutGiven = seconds
                }
            case "weight":
                script.weight =
                    values.integer(
                        setting, in: -253...253, &config.findings,
                        otherwise: "keepalived ignores it: a failing \(name) then puts its instances in FAULT") ?? 0
            case "rise":
                script.rise =
                    values.integer(setting, in: 1...Int(Int32.max), &config.findings, otherwise: "keepalived uses 1")
                    ?? 1
            case "fall":
                script.fall =
                    values.integer(setting, in: 1...Int(Int32.max), &config.findings, otherwise: "keepalived uses 1")
                    ?? 1
            default: other(setting, known: KeepalivedKeywords.vrrpScript, in: "vrrp_script \(name)")
            }
        }
        let scriptForOtherIDs = otherIDLines.contains {
            $0.keyword == "script" && $0.location.file == item.file && (item.line..<next).contains($0.location.line)
        }
        if script.command.isEmpty && scriptForOtherIDs {
            scriptsForOtherIDs.insert(name)
            note(
                .info, item,
                "vrrp_script \(name) has its script only on lines for other config ids: keepalived removes it (\"No "
                    + "script set\")"
            )
        } else if script.command.isEmpty {
            note(.error, item, "vrrp_script \(name) has no script: keepalived ignores it")
        } else {
            scripts[name] = script
            config.scripts.append(script)
        }
    }

    /// `track_file NAME { file PATH; weight W [reverse]; init_file [VALUE] [overwrite] }`.
    mutating func trackFile(_ item: ConfigItem) {
        guard let name = item.arguments.first else {
            return note(.error, item, "track_file has no name: keepalived ignores it")
        }
        var file = TrackedFile(name: name, path: "", weight: 1)
        for setting in item.block ?? [] {
            switch setting.keyword {
            case "file": file.path = setting.arguments.first ?? ""
            case "weight":
                let words = Array(setting.words.prefix(2))
                guard
                    let weight = values.integer(
                        ConfigItem(words: words, file: setting.file, line: setting.line),
                        in: -2_147_483_647...2_147_483_647,
                        &config.findings, otherwise: "keepalived keeps weight 1")
                else { continue }
                file.weight = setting.arguments.contains("reverse") ? -weight : weight
            case "init_file":
                file.initValue = setting.arguments.first.flatMap { Int($0) } ?? 0
                file.overwrite = setting.arguments.contains("overwrite")
            default: other(setting, known: ["file", "weight", "init_file"], in: "track_file \(name)")
            }
        }
        guard !file.path.isEmpty else {
            return note(.error, item, "track_file \(name) names no file: keepalived ignores it")
        }
        trackFiles[name] = file
    }

    mutating func syncGroup(_ item: ConfigItem) {
        guard let name = item.arguments.first else {
            return note(.error, item, "vrrp_sync_group has no name: keepalived ignores it")
        }
        var group = VRRPSyncGroup(name: name, instances: [], location: item.location)
        for setting in item.block ?? [] {
            switch setting.keyword {
            case "group": group.instances += (setting.block ?? []).flatMap(\.words)
            case "track_script": group.trackedScripts = trackedScripts(setting.block ?? [], of: "sync group \(name)")
            case "sync_group_tracking_weight": group.trackingWeight = true
            default: other(setting, known: KeepalivedKeywords.vrrpSyncGroup, in: "vrrp_sync_group \(name)")
            }
        }
        config.syncGroups.append(group)
    }

    /// Makes the instances of `group` its members, as keepalived 2.2.7 sets a group up
    /// (vrrp_sync.c, vrrp.c): the group's tracked scripts are tracked by every member, and,
    /// unless the group has sync_group_tracking_weight, a tracked script with a weight is
    /// dropped (it then changes nothing) and a tracked interface's weight is ignored (its
    /// going down puts the member in FAULT).
    mutating func join(_ group: VRRPSyncGroup) {
        let location = { (instance: VRRPInstance) in
            instance.settings["track_script"].map { ConfigItem(words: [], file: $0.file, line: $0.line) }
        }
        for index in config.instances.indices where group.instances.contains(config.instances[index].name) {
            var instance = config.instances[index]
            instance.syncGroup = group.name
            instance.trackedScripts += group.trackedScripts.filter { script in
                !instance.trackedScripts.contains { $0.name == script.name }
            }
            if !group.trackingWeight {
                for script in instance.trackedScripts where script.weight != 0 {
                    note(
                        .warning,
                        location(instance)
                            ?? ConfigItem(words: [], file: group.location.file, line: group.location.line),
                        "\(instance.name) is in sync group \(group.name): keepalived drops its tracked script "
                            + "\(script.name), which has a weight (\"ignoring tracked script with weights due to SYNC "
                            + "group\"), so the check changes nothing; use weight 0 (FAULT) or "
                            + "sync_group_tracking_weight")
                }
                instance.trackedScripts.removeAll { $0.weight != 0 }
                if instance.trackedInterfaces.contains(where: { $0.weight != 0 }) {
                    note(
                        .info, ConfigItem(words: [], file: group.location.file, line: group.location.line),
                        "\(instance.name) is in sync group \(group.name): keepalived ignores its tracked interfaces' "
                            + "weights, and a tracked interface going down puts it in FAULT")
                    instance.trackedInterfaces = instance.trackedInterfaces.map { TrackedInterface(name: $0.name) }
                }
            }
            config.instances[index] = instance
        }
        for name in group.instances where !config.instances.contains(where: { $0.name == name }) {
            note(
                .error, ConfigItem(words: [], file: group.location.file, line: group.location.line),
                "sync group \(group.name) names \(name), which is no vrrp_instance of this node: keepalived leaves it "
                    + "out"
            )
        }
    }
}

/// Closeness of words: a keyword that was probably meant.
public enum Spelling {
    /// The known word closest to `word` by edit distance, if it is close: within 2 edits and
    /// less than a third of the word.
    public static func closest(to word: String, among known: Set<String>) -> String? {
        let limit = min(2, max(1, word.count / 3))
        let scored = known.map { ($0, distance(word, $0, limit: limit)) }.filter { $0.1 <= limit }
        return scored.min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }?.0
    }

    /// Edit distance with adjacent transpositions (optimal string alignment: `ngnix` is one
    /// edit from `nginx`), giving up (returning limit + 1) once it must exceed `limit`.
    static func distance(_ a: String, _ b: String, limit: Int) -> Int {
        let (a, b) = (Array(a.utf8), Array(b.utf8))
        guard abs(a.count - b.count) <= limit, a.count < 256, b.count < 256 else { return limit + 1 }
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var beforePrevious: [Int] = []
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], beforePrevious[j - 2] + 1)
                }
            }
            if current.min()! > limit { return limit + 1 }
            (beforePrevious, previous) = (previous, current)
        }
        return previous[b.count]
    }
}
