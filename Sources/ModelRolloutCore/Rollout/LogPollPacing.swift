import Foundation

/// When the controller reads a loading pod's log through the API server (`pods/log`). Pure.
///
/// The log is the evidence of a model load, but reading it for every loading pod at every probe interval makes
/// log reads most of a rollout's API requests, and with many pods loading at once they fill the client's QPS
/// budget. `/v1/models` is asked of the pod directly and says when the server is up, so:
/// - the first read happens at once (a fatal line from the start is seen early);
/// - while `/v1/models` lists models and the log read so far does not yet show the model loaded and the server
///   ready, the log is read at every probe (the pod is about to be model-ready: the load line is what completes
///   the proof, so the gate waits no longer than before); once it shows them, a pod waiting only for its
///   Kubernetes readiness probe costs no more reads;
/// - otherwise reads back off, from ``minInterval`` (at least the probe interval) doubling up to ``maxInterval``
///   (a crash shows in the container status without the log, and the crashed instance's log is read then).
///
/// Measured with `bench scale` (20 rollouts at once, 200 pods loading): reads every 0.5 s at first filled the
/// client's 100 QPS and held every reconcile behind the limiter (gate latency p50 2.4 s).
public enum LogPollPacing {
    /// The longest wait between two reads of a loading pod's log.
    public static let maxInterval = 8.0
    /// The first wait after the first read while `/v1/models` does not answer yet.
    public static let minInterval = 2.0

    /// Whether to read the log now.
    public static func due(
        lastPoll: Date?, interval: Double, now: Date, modelsListed: Bool, logProvesReady: Bool = false
    ) -> Bool {
        guard let lastPoll else { return true }
        if modelsListed, !logProvesReady { return true }
        return now.timeIntervalSince(lastPoll) >= interval - 1e-9
    }

    /// The wait before the next read after one at `interval` (`probeInterval` for the first).
    public static func next(after interval: Double?, probeInterval: Double) -> Double {
        let floor = max(probeInterval, minInterval)
        guard let interval else { return floor }
        return min(maxInterval, max(floor, interval * 2))
    }
}
