import Foundation
import HALabBackends
import HALabModel
import HALabSystem

/// JSON Schemas of lab.yaml and scenario.yaml, for editors (the YAML language server):
/// `halab schema lab` and `halab schema scenario`. Each object's properties are the keys its
/// loader takes (`LabLoader.nodeKeys` …), so a key the loader learns is in the schema too; each
/// key's schema is in `fragments` (a test holds every key to having one).
public enum LabSchema {
    static var string: [String: Any] { ["type": "string"] }
    static var strings: [String: Any] { ["type": "array", "items": ["type": "string"]] }
    static var name: [String: Any] { ["type": "string", "pattern": "^[a-z0-9-]+$"] }
    static var address: [String: Any] {
        ["type": "string", "description": "IPv4 address with prefix, such as 10.33.1.11/24"]
    }
    /// The loaders read a scalar's text: a number may be quoted, a boolean may be yes or no.
    static var number: [String: Any] {
        ["anyOf": [["type": "number"], ["type": "string", "pattern": "^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$"]]]
    }
    static var integer: [String: Any] {
        ["anyOf": [["type": "integer"], ["type": "string", "pattern": "^[-+]?[0-9]+$"]]]
    }
    static var boolean: [String: Any] { ["anyOf": [["type": "boolean"], ["enum": ["true", "false", "yes", "no"]]]] }

    /// Each key's schema, by key (the same key means the same thing wherever it is taken):
    /// the plain ones, then the objects made of them.
    static var fragments: [String: Any] {
        var all: [String: Any] = [
            // lab.yaml
            "description": string, "segments": strings, "routes": strings, "forwarding": boolean,
            "start": string, "stop": string, "pidfile": string, "process": string,
            "stop-signal": ["enum": LabLoader.stopSignals],
            "port": [
                "anyOf": [
                    ["type": "integer", "minimum": 1, "maximum": 65535], ["type": "string", "pattern": "^[0-9]+$"]
                ]
            ],
            "role": ["enum": LabLoader.nodeRoles], "segment": string, "address": address,
            "address6": [
                "type": "string", "description": "an IPv6 address with prefix besides, such as fd00:33:1::11/64"
            ],
            "bond": strings.merging(["description": "NICs bonded active-backup, the first preferred (VMs only)"]) {
                $1
            },
            "bridge": strings.merging(["description": "NICs bridged, joining their segments (VMs only)"]) { $1 },
            "checks": [
                "type": "object", "description": "the service each vrrp_script checks, where its text cannot tell",
                "additionalProperties": string
            ],
            // scenario.yaml
            "name": string, "on": string, "run": string, "chaos": ["type": "string", "description": Fault.usage],
            "file": ["type": "string", "description": "a path in the node, from /"], "content": string, "from": string,
            "then": ["type": "string", "description": "reload, or restart SERVICE"],
            "accept": ["type": "array", "items": ["enum": Invariant.allCases.map(\.rawValue)]],
            "max-outage": number.merging([
                "description": "the longest outage clients may see after the step's action, in seconds"
            ]) { $1 },
            "max-failed": [
                "anyOf": [
                    ["type": "integer", "minimum": 0], ["type": "string", "pattern": "^([0-9]+|[0-9]+(\\.[0-9]+)?%)$"]
                ],
                "description": "how many of the step's requests under load may fail: a count, or a share such as 1%"
            ],
            "stream": [
                "anyOf": [["type": "boolean"], strings],
                "description": "hold a connection to each VIP (true), or to each of these servers beyond a gateway "
                    + "VIP, open across every step, and say what became of it"
            ],
            "max-p99": number.merging(["description": Load.latencyUsage]) { $1 },
            "connections": [
                "enum": ConnectionFate.allCases.map(\.rawValue),
                "description": "what becomes of a connection to each VIP held open across the step"
            ],
            "rate": number.merging(["description": Load.usage]) { $1 },
            "curl": string, "status": integer, "server": string, "body": string, "fails": boolean, "every": string,
            "mix": strings,
            "samples": integer, "vip": string, "holders": strings, "single": boolean, "throughout": boolean,
            "timeline": integer,
            "preferred": string, "loss": integer, "ping": string
        ]
        all["services"] = [
            "type": "object",
            "description": "services the lab defines (built in: \(Service.names.joined(separator: ", ")))",
            "additionalProperties": object(LabLoader.serviceKeys, of: all, required: ["start"])
        ]
        all["interfaces"] = [
            "type": "object",
            "additionalProperties": [
                "oneOf": [
                    object(LabLoader.nicKeys, of: all, required: ["segment"]),
                    object(["bond", "address"], of: all, required: ["bond"]),
                    object(["bridge", "address"], of: all, required: ["bridge"])
                ]
            ]
        ]
        all["nodes"] = [
            "type": "object", "propertyNames": name,
            "additionalProperties": object(
                LabLoader.nodeKeys, of: all.merging(["services": strings]) { $1 }, required: ["interfaces"])
        ]
        all["write"] = object(ScenarioLoader.writeKeys, of: all, required: ScenarioLoader.writeKeys)
        all["rollout"] = object(ScenarioLoader.rolloutKeys, of: all, required: ScenarioLoader.rolloutKeys)
        all["load"] = object(ScenarioLoader.loadKeys, of: all, required: ScenarioLoader.loadKeys)
        all["expect"] = [
            "oneOf": [["const": "model"], ["type": "array", "items": object(ScenarioLoader.expectationKeys, of: all)]]
        ]
        all["steps"] = ["type": "array", "items": object(ScenarioLoader.stepKeys, of: all, required: ["name"])]
        return all
    }

    /// An object of exactly `keys`, each with its schema from `schemas`.
    static func object(_ keys: [String], of schemas: [String: Any], required: [String] = []) -> [String: Any] {
        [
            "type": "object", "properties": Dictionary(uniqueKeysWithValues: keys.map { ($0, schemas[$0] ?? [:]) }),
            "required": required,
            "additionalProperties": false
        ]
    }

    /// The keys some object takes that have no schema of their own.
    static var keysWithoutFragment: [String] {
        let keys =
            LabLoader.rootKeys + LabLoader.serviceKeys + LabLoader.nodeKeys + LabLoader.nicKeys + ["bond", "bridge"]
            + ScenarioLoader.rootKeys + ScenarioLoader.stepKeys + ScenarioLoader.writeKeys + ScenarioLoader.rolloutKeys
            + ScenarioLoader.loadKeys + ScenarioLoader.expectationKeys
        return keys.filter { fragments[$0] == nil }
    }

    static var lab: [String: Any] {
        object(LabLoader.rootKeys, of: fragments, required: ["segments", "nodes"])
            .merging(["$schema": "https://json-schema.org/draft/2020-12/schema", "title": "halab lab.yaml"]) { $1 }
    }

    static var scenario: [String: Any] {
        object(ScenarioLoader.rootKeys, of: fragments, required: ["steps"])
            .merging(["$schema": "https://json-schema.org/draft/2020-12/schema", "title": "halab scenario.yaml"]) { $1 }
    }

    public static func json(_ document: [String: Any]) throws -> String {
        String(
            decoding: try JSONSerialization.data(
                withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
            as: UTF8.self)
    }

    public static func text(for file: String) throws -> String {
        switch file {
        case "lab", "lab.yaml": try json(lab)
        case "scenario", "scenario.yaml": try json(scenario)
        default: throw HALabError.usage("halab schema lab|scenario, not '\(file)'")
        }
    }
}
