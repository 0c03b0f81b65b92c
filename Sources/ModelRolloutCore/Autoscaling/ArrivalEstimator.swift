import Foundation

/// Estimates the request arrival rate of a model (all its pods) and its trend from scraped cumulative counters,
/// for the autoscaler's forecast. Pure value type: the caller feeds observations with its own clock.
///
/// Each pair of observations at least ``minimumInterval`` apart gives one raw arrival sample: completions per
/// second plus the change of the requests in flight per second (a request that arrived has either left or is
/// still in flight). The samples
/// are smoothed with Holt's linear method (level + trend), both with time constant `window`, so a steady ramp
/// is tracked without the lag of a plain moving average (a 20 → 60 req/s ramp over 5 minutes is learned to
/// ~80 % of its slope within 90 s at a 15 s scrape interval). Three guards
/// keep the estimate honest:
/// - **Level shifts.** A sample further from the prediction than Poisson noise allows (4 σ, plus 15 % of the
///   level for burstiness) is a step in demand: the level jumps to it and the trend goes back to what it was
///   before the previous sample (which probably held the start of the step), so a step never shows up as a
///   steep trend that would be extrapolated over a whole cold start.
/// - **Significance.** The reported trend is shrunk towards zero by 1.5 standard errors (estimated from the
///   spread of the slope samples), so noise at steady load does not forecast phantom growth over a long
///   horizon (Poisson load at 40 req/s: the forecast 4 minutes out stays within ~7 req/s of the rate).
/// - **Counter artefacts.** A completed total going down (a pod left or restarted) rebases the counters and
///   yields no sample. A sample above `4 ×` the prediction (e.g. a pod with a large counter reappearing in the
///   scrape) is dropped once; if the next sample is still far above, it is accepted as a real surge.
public struct ArrivalEstimator: Sendable, Hashable, Codable {
    /// Seconds of smoothing of the level and the trend.
    public private(set) var window: Double
    /// Smoothed arrivals per second, once two observations exist.
    private var level: Double?
    /// Smoothed slope of the level, requests per second per second.
    private var slope: Double = 0
    /// Exponentially weighted variance of the raw slope samples around the smoothed slope.
    private var slopeVariance: Double = 0
    /// Slope samples taken so far (the trend is reported from three on).
    private var slopeSamples: Int = 0
    /// The previous observation (the counters to difference against).
    private var lastTime: Double?
    private var lastCompleted: Double = 0
    private var lastInFlight: Double = 0
    /// True when the previous sample was dropped as a suspected counter artefact.
    private var droppedSpike: Bool = false
    /// The slope and its variance before the latest update, restored when the next sample turns out to be a
    /// level shift (the latest interval probably held the start of the step).
    private var previousSlope: Double = 0
    private var previousSlopeVariance: Double = 0

    /// Noise multiple beyond which a sample is a level shift rather than noise.
    static let shiftSigmas = 4.0
    /// Extra tolerance, as a share of the level, for burstier-than-Poisson arrivals.
    static let shiftRelativeTolerance = 0.15
    /// A sample this many times above the prediction is a suspected counter artefact.
    static let spikeFactor = 4.0
    /// Standard errors the reported trend is shrunk by.
    static let trendSignificance = 1.5
    /// Slope samples needed before a trend is reported.
    static let minimumSlopeSamples = 3

    public init(window: Double = 30) {
        self.window = window.isFinite && window > 0 ? window : 30
    }

    /// Feed cumulative counters as scraped: completed requests (all pods of the model) and requests in flight
    /// (running + waiting) at `time`. Counter resets (a total going down, pods leaving) must not produce
    /// negative or huge rates. Non-finite or negative values and times not after the previous one are ignored.
    /// `completedTotal` must count every request that left the engine, aborted and timed-out ones included
    /// (all `finished_reason`s of `vllm:request_success_total`): otherwise timeouts under overload look like a
    /// drop in demand, and the recovery afterwards like a rising trend.
    public mutating func observe(time: Double, completedTotal: Double, inFlight: Double) {
        guard time.isFinite, completedTotal.isFinite, completedTotal >= 0, inFlight.isFinite, inFlight >= 0 else {
            return
        }
        guard let previousTime = lastTime else {
            rebase(time: time, completedTotal: completedTotal, inFlight: inFlight)
            return
        }
        let dt = time - previousTime
        guard dt > 0 else { return }
        let completed = completedTotal - lastCompleted
        // Short intervals are mostly noise: wait until one spans at least half a window (a reset still rebases).
        guard dt >= minimumInterval || completed < 0 else { return }
        let inFlightChange = inFlight - lastInFlight
        rebase(time: time, completedTotal: completedTotal, inFlight: inFlight)
        // A total going down means pods left or restarted: the difference means nothing.
        guard completed >= 0 else { return }
        let sample = max(0, (completed + inFlightChange) / dt)
        add(sample: sample, dt: dt)
    }

    /// Observations closer together than this are merged into one sample, in seconds (`window / 2`).
    public var minimumInterval: Double { window / 2 }

    /// Arrivals per second (completions/s + d(inFlight)/dt), smoothed; nil until two observations exist.
    public var rate: Double? { level }

    /// d(rate)/dt in requests per second per second, smoothed and shrunk towards zero by 1.5 standard errors;
    /// nil until enough data.
    public var trend: Double? {
        guard slopeSamples >= Self.minimumSlopeSamples else { return nil }
        let magnitude = max(0, abs(slope) - Self.trendSignificance * slopeStandardError)
        return magnitude == 0 ? 0 : (slope < 0 ? -magnitude : magnitude)
    }

    /// Standard error of the smoothed slope: the EWMA of n samples with weight β has variance β/(2−β) of one.
    private var slopeStandardError: Double {
        let beta = lastBeta
        return (slopeVariance * beta / (2 - beta)).squareRoot()
    }

    /// The trend weight of the most recent sample (kept for the standard error).
    private var lastBeta: Double = 0

    private mutating func rebase(time: Double, completedTotal: Double, inFlight: Double) {
        lastTime = time
        lastCompleted = completedTotal
        lastInFlight = inFlight
    }

    private mutating func add(sample: Double, dt: Double) {
        guard let current = level else {
            level = sample
            return
        }
        let predicted = max(0, current + slope * dt)
        let noise = Self.shiftSigmas * (max(predicted, 1) / dt).squareRoot()
        let tolerance = noise + Self.shiftRelativeTolerance * predicted + 0.5
        let residual = sample - predicted
        if residual > Self.spikeFactor * max(predicted, 1) + tolerance, !droppedSpike {
            droppedSpike = true
            return
        }
        droppedSpike = false
        if abs(residual) > tolerance {
            level = sample
            slope = previousSlope
            slopeVariance = previousSlopeVariance
            return
        }
        let alpha = 1 - exp(-dt / window)
        let beta = alpha
        let updated = alpha * sample + (1 - alpha) * predicted
        let slopeSample = (updated - current) / dt
        previousSlope = slope
        previousSlopeVariance = slopeVariance
        let deviation = slopeSample - slope
        slopeVariance = beta * deviation * deviation + (1 - beta) * slopeVariance
        slope = beta * slopeSample + (1 - beta) * slope
        lastBeta = beta
        slopeSamples += 1
        level = updated
    }
}
