import Foundation
import KubeCore
import Testing

@testable import ModelRolloutCore

@Suite struct RevisionPodsTests {
    static func deployment(_ name: String, selector: [String: String]) throws -> Deployment {
        try KubeJSON.fromJSONValue(
            Deployment.self,
            [
                "metadata": ["name": .string(name), "namespace": "llm"],
                "spec": [
                    "selector": ["matchLabels": .object(selector.mapValues { .string($0) })],
                    "template": ["metadata": ["labels": .object(selector.mapValues { .string($0) })]],
                ],
            ])
    }

    static func pod(_ name: String, labels: [String: String], owner: (kind: String, name: String)?) throws -> Pod {
        var raw: JSONValue = ["metadata": ["name": .string(name), "labels": .object(labels.mapValues { .string($0) })]]
        if let owner {
            raw[path: ["metadata", "ownerReferences"]] = [
                ["apiVersion": "apps/v1", "kind": .string(owner.kind), "name": .string(owner.name), "uid": "u"]
            ]
        }
        return try KubeJSON.fromJSONValue(Pod.self, raw)
    }

    @Test func podsAreSelectedByLabelsAndOwnership() throws {
        let r1 = try Self.deployment("vllm-r1", selector: ["app": "vllm", "rev": "r1"])
        let pods = [
            try Self.pod("a", labels: ["app": "vllm", "rev": "r1", "pod-template-hash": "h1"],
                         owner: ("ReplicaSet", "vllm-r1-h1")),
            try Self.pod("b", labels: ["app": "vllm", "rev": "r1", "pod-template-hash": "h2"],
                         owner: ("ReplicaSet", "vllm-r1-other")),  // a ReplicaSet of another Deployment
            try Self.pod("c", labels: ["app": "vllm", "rev": "r2"], owner: ("ReplicaSet", "vllm-r1-h1")),
            try Self.pod("d", labels: ["app": "vllm", "rev": "r1"], owner: nil),
            try Self.pod("e", labels: ["app": "vllm", "rev": "r1"], owner: ("StatefulSet", "vllm-r1")),
            try Self.pod("f", labels: ["app": "vllm", "rev": "r1"], owner: ("Deployment", "vllm-r1")),
        ]
        #expect(RevisionPods.select(r1, from: pods).compactMap(\.metadata.name) == ["a", "d", "f"])
        let empty = try Self.deployment("any", selector: [:])
        #expect(RevisionPods.select(empty, from: pods).isEmpty, "an empty selector selects nothing")
    }

    @Test func theOwnerIndexFilesEveryPodSelectCanReturnUnderTheDeploymentsName() throws {
        let pods = [
            try Self.pod("a", labels: ["rev": "r1", "pod-template-hash": "h1"], owner: ("ReplicaSet", "vllm-r1-h1")),
            try Self.pod("b", labels: ["rev": "r1"], owner: ("ReplicaSet", "vllm-r1-x-y")),
            try Self.pod("c", labels: ["rev": "r1"], owner: nil),
            try Self.pod("d", labels: ["rev": "r1"], owner: ("Deployment", "vllm-r1")),
            try Self.pod("e", labels: ["rev": "r1"], owner: ("StatefulSet", "vllm-r1")),
            try Self.pod("f", labels: ["rev": "r1"], owner: ("ReplicaSet", "vllm-r1-x-y")),
        ]
        #expect(RevisionPods.ownerIndexValues(pods[0]) == ["vllm", "vllm-r1"])
        #expect(RevisionPods.ownerIndexValues(pods[1]) == ["vllm", "vllm-r1", "vllm-r1-x"])
        #expect(RevisionPods.ownerIndexValues(pods[2]) == [""])
        #expect(RevisionPods.ownerIndexValues(pods[4]).isEmpty)
        for name in ["vllm-r1", "vllm-r1-x", "vllm", "other"] {
            let deployment = try Self.deployment(name, selector: ["rev": "r1"])
            let indexed = pods.filter {
                let values = RevisionPods.ownerIndexValues($0)
                return values.contains(name) || values.contains("")
            }
            #expect(
                RevisionPods.select(deployment, from: indexed).map(\.metadata.name)
                    == RevisionPods.select(deployment, from: pods).map(\.metadata.name), "\(name)")
        }
    }

    @Test(arguments: [
        RequestClassCase(labels: nil, rule: 0, rules: 1, expected: "default"),
        RequestClassCase(labels: ["modelrollout.io/class": " chat "], rule: 1, rules: 3, expected: "chat"),
        RequestClassCase(labels: ["modelrollout.io/class": ""], rule: 0, rules: 1, expected: "default"),
        RequestClassCase(labels: nil, rule: 1, rules: 2, expected: "rule-1"),
        RequestClassCase(labels: ["app": "x"], rule: 0, rules: 2, expected: "rule-0"),
    ])
    func requestClassNames(_ c: RequestClassCase) {
        #expect(RequestClass.name(routeLabels: c.labels, ruleIndex: c.rule, ruleCount: c.rules) == c.expected)
    }
}

struct RequestClassCase: Sendable, CustomStringConvertible {
    var labels: [String: String]?
    var rule: Int
    var rules: Int
    var expected: String
    var description: String { "\(labels ?? [:]) rule \(rule)/\(rules) → \(expected)" }
}

/// When a loading pod's log is read (``LogPollPacing``).
@Suite struct LogPollPacingTests {
    static let t0 = Date(timeIntervalSince1970: 1_000_000)

    @Test(arguments: [
        // (last poll offset or nil, interval, now offset, models listed, due)
        (Double?.none, 0.0, 0.0, false, true),
        (0.0, 0.5, 0.4, false, false),
        (0.0, 0.5, 0.5, false, true),
        (0.0, 4.0, 3.0, false, false),
        (0.0, 4.0, 3.0, true, true),
        (0.0, 8.0, 8.1, false, true),
    ])
    func due(last: Double?, interval: Double, now: Double, listed: Bool, expected: Bool) {
        #expect(
            LogPollPacing.due(
                lastPoll: last.map { Self.t0.addingTimeInterval($0) }, interval: interval,
                now: Self.t0.addingTimeInterval(now), modelsListed: listed) == expected)
    }

    @Test func intervalsDoubleFromTheProbeIntervalUpToTheCap() {
        var interval: Double? = nil
        var seen: [Double] = []
        for _ in 0..<8 {
            interval = LogPollPacing.next(after: interval, probeInterval: 0.5)
            seen.append(interval ?? 0)
        }
        #expect(seen == [2, 4, 8, 8, 8, 8, 8, 8])
        #expect(LogPollPacing.next(after: 0.1, probeInterval: 0.5) == 2)
        #expect(LogPollPacing.next(after: nil, probeInterval: 3) == 3)
    }

    @Test func aLogThatAlreadyProvesTheLoadIsNotReadAgainAtEveryProbe() {
        let last = Self.t0
        #expect(LogPollPacing.due(lastPoll: last, interval: 4, now: Self.t0.addingTimeInterval(1), modelsListed: true))
        #expect(
            !LogPollPacing.due(
                lastPoll: last, interval: 4, now: Self.t0.addingTimeInterval(1), modelsListed: true,
                logProvesReady: true))
        #expect(
            LogPollPacing.due(
                lastPoll: last, interval: 4, now: Self.t0.addingTimeInterval(4), modelsListed: true,
                logProvesReady: true))
    }
}
