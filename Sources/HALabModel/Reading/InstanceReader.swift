/// A `vrrp_instance`, read keyword by keyword as keepalived 2.2.7 reads it.
extension ConfigReader {
    /// What keepalived runs an instance with when a line is missing, for findings about lines
    /// that did not count (a typo, a refused value).
    static let defaults = [
        "priority": "priority 100", "advert_int": "advert_int 1", "state": "state BACKUP", "nopreempt": "preemption",
        "preempt_delay": "no preempt_delay", "virtual_router_id": "no virtual_router_id", "interface": "no interface",
        "track_script": "no tracked script", "track_interface": "no tracked interface", "virtual_ipaddress": "no VIP",
        "unicast_peer": "multicast adverts", "authentication": "no authentication",
        "version": "its default VRRP version"
    ]

    mutating func instance(_ item: ConfigItem) {
        guard let name = item.arguments.first else {
            return note(.error, item, "vrrp_instance must have a name: keepalived ignores it")
        }
        var instance = VRRPInstance(name: name, node: config.node, location: item.location)
        instance.version = defaultVersion
        instance.skipsAddressCheck = skipsAddressCheck
        instance.downTimerAdverts = downTimerAdverts
        var advert: (seconds: Double, item: ConfigItem)?
        var strictModeWord: String?
        var hasRouterID = false
        for setting in item.block ?? [] {
            instance.settings[setting.keyword] = setting.location
            switch setting.keyword {
            case "state":
                guard let word = values.word(setting, &config.findings) else { continue }
                if let state = InitialState(rawValue: word) {
                    instance.initialState = state
                } else {
                    note(
                        .error, setting,
                        "unknown state '\(word)' (MASTER or BACKUP): keepalived starts \(name) as BACKUP")
                }
            case "interface": instance.interface = values.word(setting, &config.findings) ?? instance.interface
            case "virtual_router_id":
                if let vrid = values.integer(
                    setting, in: 1...255, &config.findings, otherwise: "keepalived does not run \(name)")
                {
                    instance.virtualRouterID = vrid
                    hasRouterID = true
                }
            case "priority":
                instance.priority =
                    values.integer(setting, in: 1...255, &config.findings, otherwise: "keepalived uses the default 100")
                    ?? instance.priority
            case "advert_int":
                if let seconds = values.decimal(
                    setting, in: 0.01...255, &config.findings, otherwise: "keepalived keeps 1 s")
                {
                    advert = (seconds, setting)
                }
            case "version":
                instance.version =
                    values.integer(
                        setting, in: 2...3, &config.findings, otherwise: "keepalived keeps VRRPv\(defaultVersion)")
                    ?? instance.version
            case "strict_mode":
                strictModeWord = setting.arguments.first?.lowercased()
                other(setting, known: KeepalivedKeywords.vrrpInstance, in: "vrrp_instance \(name)")
            case "nopreempt": instance.preempt = false
            case "skip_check_adv_addr": instance.skipsAddressCheck = true
            case "preempt": instance.preempt = true
            case "preempt_delay":
                instance.preemptDelay =
                    values.decimal(setting, in: 0...1000, &config.findings, otherwise: "keepalived ignores it") ?? 0
            case "down_timer_adverts":
                instance.downTimerAdverts =
                    values.integer(
                        setting, in: 1...100, &config.findings,
                        otherwise: "keepalived keeps \(instance.downTimerAdverts)")
                    ?? instance.downTimerAdverts
            case "unicast_src_ip": instance.unicastSource = address(setting, of: name)?.address
            case "unicast_peer":
                instance.unicastPeers = (setting.block ?? []).compactMap { address($0, of: name)?.address }
            case "track_interface": instance.trackedInterfaces = trackedInterfaces(setting.block ?? [], of: name)
            case "virtual_ipaddress":
                let addresses = virtualAddresses(setting.block ?? [], of: name)
                instance.virtualAddresses = addresses.map(\.address)
                instance.virtualPrefix = addresses.first?.prefix
            case "authentication": authentication(setting, into: &instance)
            case "track_script": instance.trackedScripts = trackedScripts(setting.block ?? [], of: name)
            case "track_file": instance.trackedFiles = trackedFiles(setting.block ?? [], of: name)
            case "notify_master", "notify_backup", "notify_fault", "notify_stop":
                let role: VRRPModel.Role =
                    switch setting.keyword {
                    case "notify_master": .master
                    case "notify_backup": .backup
                    case "notify_fault": .fault
                    default: .down
                    }
                instance.notify[role] = setting.arguments.joined(separator: " ")
            default:
                let guess = Spelling.closest(to: setting.keyword, among: KeepalivedKeywords.vrrpInstance)
                let runs =
                    guess.flatMap { Self.defaults[$0] }.map {
                        "; \(name) runs with \($0), in keepalived and in halab's model"
                    } ?? ""
                other(setting, known: KeepalivedKeywords.vrrpInstance, in: "vrrp_instance \(name)", consequence: runs)
            }
        }
        if instance.family == .ipv6 && instance.settings["version"] == nil && !versionGiven { instance.version = 3 }
        if !instance.preempt && instance.initialState == .master {
            note(
                .warning,
                instance.settings["nopreempt"].map { ConfigItem(words: [], file: $0.file, line: $0.line) } ?? item,
                "nopreempt with state MASTER: keepalived clears nopreempt (\"nopreempt will not work with initial "
                    + "state MASTER\"), so \(name) preempts"
            )
            instance.preempt = true
        }
        if let (seconds, setting) = advert {
            instance.advertInterval = advertInterval(seconds, version: instance.version, setting, of: name)
        }
        let strictMode =
            instance.settings["strict_mode"] != nil ? !["off", "false", "no"].contains(strictModeWord ?? "") : strict
        if strictMode && instance.downTimerAdverts != 3 {
            let location = instance.settings["down_timer_adverts"] ?? item.location
            note(
                .error, ConfigItem(words: [], file: location.file, line: location.line),
                "down_timer_adverts is incompatible with strict mode: keepalived uses 3 in \(name)")
            instance.downTimerAdverts = 3
        }
        guard hasRouterID else {
            return note(
                .error, item, "vrrp_instance \(name) has no valid virtual_router_id: keepalived does not run it")
        }
        if instance.virtualAddresses.isEmpty {
            note(.warning, item, "vrrp_instance \(name) has no VIP: it moves nothing clients use")
        }
        config.instances.append(instance)
    }

    /// VRRPv2 adverts are whole seconds: keepalived rounds to the nearest (1 s at least);
    /// VRRPv3 counts centiseconds, up to 40.95 s.
    mutating func advertInterval(_ seconds: Double, version: Int, _ setting: ConfigItem, of name: String) -> Double {
        if version == 2 && seconds != seconds.rounded() {
            let rounded = max(1, seconds.rounded())
            note(
                .error, setting,
                "VRRPv2 adverts are whole seconds: keepalived rounds advert_int \(Values.format(seconds)) to "
                    + "\(Values.format(rounded)) s"
            )
            return rounded
        }
        if version == 3 && seconds > 40.95 {
            note(.error, setting, "VRRPv3 adverts are at most 40.95 s apart: keepalived uses 40.95 s")
            return 40.95
        }
        return seconds
    }

    mutating func address(_ item: ConfigItem, of name: String) -> IPAddress? {
        guard let word = item.keyword == "unicast_src_ip" ? values.word(item, &config.findings) : item.words.first
        else { return nil }
        guard let address = IPAddress.parse(word) else {
            note(.error, item, "'\(word)' is no IP address: keepalived skips it in \(name)")
            return nil
        }
        return address
    }

    /// `ADDRESS[/PREFIX] [dev …] …` lines, all of the family of the first.
    mutating func virtualAddresses(_ lines: [ConfigItem], of name: String) -> [IPAddress] {
        var addresses: [IPAddress] = []
        for line in lines {
            guard let address = address(line, of: name) else { continue }
            if let first = addresses.first, first.family != address.family {
                note(
                    .error, line,
                    "\(address.address) is not of the family of \(name)'s first VIP (\(first.address)): keepalived "
                        + "ignores it"
                )
                continue
            }
            if let prefix = address.prefix, prefix > (address.family == .ipv4 ? 32 : 128) {
                note(
                    .warning, line,
                    "prefix /\(prefix) is too long for \(address.address): keepalived uses "
                        + "/\(address.family == .ipv4 ? 32 : 128)"
                )
            }
            addresses.append(address)
        }
        return addresses
    }

    mutating func authentication(_ setting: ConfigItem, into instance: inout VRRPInstance) {
        var type: String?
        for line in setting.block ?? [] {
            switch line.keyword {
            case "auth_type":
                guard let word = values.word(line, &config.findings) else { continue }
                if ["PASS", "AH"].contains(word) {
                    type = word
                } else {
                    note(.error, line, "unknown authentication type '\(word)' (PASS or AH): keepalived ignores it")
                }
            case "auth_pass":
                instance.authPass = values.word(line, &config.findings)
                if let pass = instance.authPass, pass.utf8.count > 8 {
                    note(
                        .warning, line,
                        "auth_pass of \(instance.name) is \(pass.utf8.count) characters: keepalived uses only the "
                            + "first 8 (\"Truncating auth_pass to 8 characters\")")
                }
            default: other(line, known: KeepalivedKeywords.authentication, in: "authentication")
            }
        }
        if type != nil && instance.authPass == nil {
            note(
                .error, setting,
                "authentication without auth_pass: keepalived ignores the authentication (\"no password given\")")
            type = nil
        }
        instance.authType = type
    }

    /// `NAME [weight N]` lines: the scripts defined before this instance, each once.
    mutating func trackedScripts(_ lines: [ConfigItem], of name: String) -> [VRRPScript] {
        var tracked: [VRRPScript] = []
        for line in lines {
            guard var script = scripts[line.keyword] else {
                if scriptsForOtherIDs.contains(line.keyword) {
                    note(
                        .info, line,
                        "track_script names '\(line.keyword)', which keepalived removes for this config id: \(name) "
                            + "does not track it"
                    )
                } else {
                    note(
                        .error, line,
                        "track_script names '\(line.keyword)', which no vrrp_script before \(name) defines: keepalived "
                            + "ignores it"
                    )
                }
                continue
            }
            guard !tracked.contains(where: { $0.name == script.name }) else {
                note(.warning, line, "\(script.name) is tracked twice by \(name): keepalived ignores the second")
                continue
            }
            if let weight = line.arguments.firstIndex(of: "weight") {
                let words = ["weight"] + line.arguments.dropFirst(weight + 1).prefix(1)
                guard
                    let value = values.integer(
                        ConfigItem(words: words, file: line.file, line: line.line), in: -253...253,
                        &config.findings, otherwise: "keepalived does not track \(script.name) in \(name)")
                else { continue }
                script.weight = value
            }
            tracked.append(script)
        }
        return tracked
    }

    /// `NAME [weight N [reverse|noreverse]]` lines: the track files defined before this instance.
    mutating func trackedFiles(_ lines: [ConfigItem], of name: String) -> [TrackedFile] {
        lines.compactMap { line in
            guard var file = trackFiles[line.keyword] else {
                note(
                    .error, line,
                    "track_file names '\(line.keyword)', which no track_file before \(name) defines: keepalived "
                        + "ignores it"
                )
                return nil
            }
            if let weight = line.arguments.firstIndex(of: "weight") {
                let words = ["weight"] + line.arguments.dropFirst(weight + 1).prefix(1)
                guard
                    let value = values.integer(
                        ConfigItem(words: words, file: line.file, line: line.line), in: -254...254, &config.findings,
                        otherwise: "keepalived does not track \(file.name) in \(name)")
                else { return nil }
                file.weight = line.arguments.contains("reverse") ? -value : value
            }
            return file
        }
    }

    /// `INTERFACE [weight N]` lines.
    mutating func trackedInterfaces(_ lines: [ConfigItem], of name: String) -> [TrackedInterface] {
        lines.map { line in
            guard let weight = line.arguments.firstIndex(of: "weight") else {
                return TrackedInterface(name: line.keyword)
            }
            let words = ["weight"] + line.arguments.dropFirst(weight + 1).prefix(1)
            let value = values.integer(
                ConfigItem(words: words, file: line.file, line: line.line), in: -253...253, &config.findings,
                otherwise: "keepalived ignores the weight")
            return TrackedInterface(name: line.keyword, weight: value ?? 0)
        }
    }
}
