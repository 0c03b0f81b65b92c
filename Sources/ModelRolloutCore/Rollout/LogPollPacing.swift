import Foundation

/// When the controller reads a loading pod's log through the API server (`pods/log`). Pure.
///
/// The log is the evidence of a model load, but reading it for every loading pod at every probe interval makes
/// log reads most of a rollout's API requests, and with many pods loading at once they fill the client's QPS
/// budget. `/v1/models` is asked of the pod directly and says when the server is up, so:
/// - the first read happens at once (a fatal line from the start is seen early);
/// - while `/v1/models` lists models the log is read at every probe (the pod is about to be model-ready: the load
///   line is what completes the proof, so the gate waits no longer than before);
/// - otherwise reads back off, doubling from the probe interval up to ``maxInterval`` (a crash shows in the
///   container status without the log, and the crashed instance's log is read then).
public enum LogPollPacing {
    /// The longest wait between two reads of a loading pod's log.
    public static let maxInterval = 8.0

    /// Whether to read the log now.
    public static func due(
        lastPoll: Date?, interval: Double, now: Date, modelsListed: Bool
    ) -> Bool {
        guard let lastPoll else { return true }
        if modelsListed { return true }
        return now.timeIntervalSince(lastPoll) >= interval - 1e-9
    }

    /// The wait before the next read after one at `interval` (`probeInterval` for the first).
    public static func next(after interval: Double?, probeInterval: Double) -> Double {
        guard let interval else { return probeInterval }
        return min(maxInterval, max(probeInterval, interval * 2))
    }
}
