import ClusterSim
import Foundation
import KubeCore
import ModelRolloutCore

/// `diagnose --probe URL`: one-token streaming completions through the gateway (with the route's hostname)
/// and straight to one ready pod per revision, to split gateway latency from runtime latency.
struct DiagnoseProbe {
    /// The gateway's base URL, e.g. `http://gateway.example:80`.
    let gatewayURL: String
    /// Requests per target; the median TTFT is reported.
    let attempts: Int
    /// Seconds before one probe request is abandoned.
    let timeoutSeconds: Double

    /// The revisions with their probe timings filled in.
    func measure(
        route: HTTPRoute, revisions: [RevisionSignals], backends: [DiagnoseGatherer.Backend]
    ) async -> [RevisionSignals] {
        let model = revisions.compactMap(\.model).first ?? "model"
        let host = route.spec.hostnames?.first
        let gateway = await Self.median(url: gatewayURL, host: host, model: model, attempts: attempts,
                                        timeout: timeoutSeconds)
        var out = revisions
        for index in out.indices {
            let revision = out[index]
            var probe = ProbeSignals(gatewayTTFT: gateway.ttft, error: gateway.error.map { "gateway: \($0)" })
            let pod = backends.first { $0.deployment == revision.revision && $0.service == revision.service }
                .flatMap { backend in
                    backend.pods.first { $0.status?.isReady == true && $0.status?.podIP != nil }
                        .map { ($0, backend.port) }
                }
            if let (pod, port) = pod, let ip = pod.status?.podIP {
                let hostPart = ip.contains(":") ? "[\(ip)]" : ip
                let direct = await Self.median(
                    url: "http://\(hostPart):\(port)", host: nil, model: revision.model ?? model, attempts: attempts,
                    timeout: timeoutSeconds)
                probe.directTTFT = direct.ttft
                if let error = direct.error { probe.error = (probe.error.map { $0 + "; " } ?? "") + "pod: \(error)" }
            } else {
                probe.error = (probe.error.map { $0 + "; " } ?? "") + "no ready pod with an IP to probe directly"
            }
            out[index].probe = probe
        }
        return out
    }

    /// The median TTFT of `attempts` sequential one-token streaming completions, or why there was none.
    static func median(
        url: String, host: String?, model: String, attempts: Int, timeout: Double
    ) async -> (ttft: Double?, error: String?) {
        let client = LoadGenerator(
            configuration: .init(
                url: url, rate: 0, model: model, promptTokens: 1, maxTokens: 1, maxInFlight: 1, maxRecords: 16,
                stopGraceSeconds: 0, requestTimeoutSeconds: timeout, host: host))
        var times: [Double] = []
        var lastError: String?
        for _ in 0..<max(1, attempts) {
            let record = await client.sendOne()
            if record.ok, let ttft = record.ttftSeconds {
                times.append(ttft)
            } else {
                lastError = record.error ?? "HTTP \(record.status)"
            }
        }
        await client.stop()
        guard !times.isEmpty else { return (nil, lastError ?? "no answer") }
        let sorted = times.sorted()
        return (sorted[sorted.count / 2], nil)
    }
}
