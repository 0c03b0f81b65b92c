import Foundation
import KubeCore

/// The learned cold-start budget: model-load times (pod creation → model ready) recorded into
/// ``LoadTimeStatus`` and the load time rollouts and the autoscaler plan with. Pure: no clock, no I/O.
public enum LoadTimeStatistics {
    /// Samples needed before the learned percentile replaces ``ColdStartSpec/fallback``.
    public static let minimumSamples = 3

    /// The nearest-rank percentile (``Percentile/nearestRank(_:_:)``) of `values`, `p` in percent: the smallest
    /// value such that at least `p` percent of the values are less than or equal to it (`p = 0` gives the
    /// minimum). Non-finite values are ignored. `nil` for no finite values or `p` outside `0...100` (or NaN).
    public static func percentile(_ values: [Double], _ p: Double) -> Double? {
        Percentile.nearestRank(values, p / 100)
    }

    /// Records one measured load time of `pod`. A pod already in ``LoadTimeStatus/measuredPods`` (e.g. seen
    /// again after a controller restart) and a negative or non-finite duration leave `status` unchanged.
    /// Otherwise the value is appended to `recentSeconds` and the pod to `measuredPods` (both keep the newest
    /// ``LoadTimeStatus/keep``), `samples` grows by one and `last`, `p50`, `p90` are recomputed over the
    /// recent values.
    public static func record(_ seconds: Double, pod: String, into status: LoadTimeStatus) -> LoadTimeStatus {
        guard seconds.isFinite, seconds >= 0, !status.measuredPods.contains(pod) else { return status }
        var updated = status
        updated.recentSeconds = Array((status.recentSeconds + [seconds]).suffix(LoadTimeStatus.keep))
        updated.measuredPods = Array((status.measuredPods + [pod]).suffix(LoadTimeStatus.keep))
        updated.samples = max(status.samples, 0) + 1
        updated.last = KubeDuration(seconds: seconds)
        updated.p50 = percentile(updated.recentSeconds, 50).map { KubeDuration(seconds: $0) }
        updated.p90 = percentile(updated.recentSeconds, 90).map { KubeDuration(seconds: $0) }
        return updated
    }

    /// The model-load time to plan with, in seconds: the `spec.percentile` (clamped to 0...100) of the recent
    /// measurements once there are at least ``minimumSamples`` of them, else `spec.fallback`.
    public static func planningLoadTime(_ status: LoadTimeStatus?, spec: ColdStartSpec) -> Double {
        let recent = (status?.recentSeconds ?? []).filter { $0.isFinite && $0 >= 0 }
        guard recent.count >= minimumSamples else { return spec.fallback.seconds }
        let p = Double(min(max(spec.percentile, 0), 100))
        return percentile(recent, p) ?? spec.fallback.seconds
    }
}
