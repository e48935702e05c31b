import Foundation
import HALabBackends
import HALabSystem

/// JSON Schemas of lab.yaml and scenario.yaml, for editors (the YAML language server):
/// `halab schema lab` and `halab schema scenario`.
public enum LabSchema {
    static var name: [String: Any] { ["type": "string", "pattern": "^[a-z0-9-]+$"] }
    static var strings: [String: Any] { ["type": "array", "items": ["type": "string"]] }
    static var address: [String: Any] { ["type": "string", "description": "IPv4 address with prefix, such as 10.33.1.11/24"] }

    static func object(_ properties: [String: Any], required: [String] = []) -> [String: Any] {
        ["type": "object", "properties": properties, "required": required, "additionalProperties": false]
    }

    static var lab: [String: Any] { [
        "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "halab lab.yaml",
    ].merging(object([
        "description": ["type": "string"],
        "segments": strings,
        "services": ["type": "object", "description": "services the lab defines (built in: \(Service.names.joined(separator: ", ")))",
                     "additionalProperties": object([
                        "start": ["type": "string"], "stop": ["type": "string"], "pidfile": ["type": "string"], "process": ["type": "string"],
                        "stop-signal": ["enum": ["TERM", "INT", "QUIT", "KILL", "USR1", "USR2", "HUP"]],
                        "port": ["type": "integer", "minimum": 1, "maximum": 65535],
                     ], required: ["start"])],
        "nodes": ["type": "object", "propertyNames": name, "additionalProperties": object([
            "role": ["enum": LabLoader.nodeRoles],
            "services": strings,
            "interfaces": ["type": "object", "additionalProperties": ["oneOf": [
                object(["segment": ["type": "string"], "address": address,
                        "address6": ["type": "string", "description": "an IPv6 address with prefix besides, such as fd00:33:1::11/64"]],
                       required: ["segment"]),
                object(["bond": strings.merging(["description": "NICs bonded active-backup, the first preferred (VMs only)"]) { $1 },
                        "address": address], required: ["bond"]),
                object(["bridge": strings.merging(["description": "NICs bridged, joining their segments (VMs only)"]) { $1 },
                        "address": address], required: ["bridge"]),
            ]]],
            "routes": strings,
            "forwarding": ["type": "boolean"],
            "checks": ["type": "object", "description": "the service each vrrp_script checks, where its text cannot tell",
                       "additionalProperties": ["type": "string"]],
        ], required: ["interfaces"])],
    ], required: ["segments", "nodes"])) { first, _ in first } }

    static var expectation: [String: Any] { object([
        "curl": ["type": "string"], "from": ["type": "string"], "status": ["type": "integer"], "server": ["type": "string"],
        "body": ["type": "string"], "fails": ["type": "boolean"], "every": ["type": "string"], "mix": strings,
        "samples": ["type": "integer", "minimum": 1], "vip": ["type": "string"], "holders": strings, "single": ["type": "boolean"],
        "throughout": ["type": "boolean"], "timeline": ["type": "integer"], "preferred": ["type": "string"],
        "loss": ["type": "integer", "minimum": 0, "maximum": 100], "ping": ["type": "string"],
    ]) }

    static var scenario: [String: Any] { [
        "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "halab scenario.yaml",
    ].merging(object([
        "steps": ["type": "array", "items": object([
            "name": ["type": "string"], "on": ["type": "string"], "run": ["type": "string"],
            "chaos": ["type": "string", "description": ChaosAction.usage],
            "expect": ["oneOf": [["const": "model"], ["type": "array", "items": expectation]]],
        ], required: ["name"])],
    ], required: ["steps"])) { first, _ in first } }

    public static func json(_ document: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    public static func text(for file: String) throws -> String {
        switch file {
        case "lab", "lab.yaml": try json(lab)
        case "scenario", "scenario.yaml": try json(scenario)
        default: throw HALabError.usage("halab schema lab|scenario, not '\(file)'")
        }
    }
}
