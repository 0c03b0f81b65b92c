import Foundation

/// Standalone SVG charts of one scenario: TTFT p95 over time (log scale) and pods over time, one line per
/// policy (means over seeds), with axes, the event marked and a legend. Open the file in a browser.
public enum SVGPlot {
    static let colors: [PolicyName: String] = [
        .naive: "#d62728", .hpaCPU: "#ff7f0e", .kedaQueue: "#9467bd", .kpa: "#8c564b", .modelrollout: "#1f77b4",
        .oracle: "#2ca02c", .staticPeak: "#7f7f7f", .aibrixPredictive: "#17becf", .canaryReadiness: "#bcbd22",
    ]

    /// The mean over seeds of each point (NaN points of a seed are skipped; NaN when all are).
    static func meanSeries(_ runs: [[Double]]) -> [Double] {
        let length = runs.map(\.count).min() ?? 0
        return (0..<length).map { i in
            let values = runs.map { $0[i] }.filter(\.isFinite)
            return values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        }
    }

    /// The chart of one scenario.
    public static func chart(_ result: ScenarioResult) -> String {
        let width = 960.0
        let panelHeight = 300.0
        let left = 70.0
        let right = 190.0
        let top = 50.0
        let gap = 70.0
        let plotWidth = width - left - right
        let height = top + 2 * panelHeight + gap + 50
        let end = result.scenario.end
        func x(_ t: Double) -> Double { left + plotWidth * min(max(t / end, 0), 1) }
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        var svg = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
                + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(Int(left))\" y=\"22\" font-size=\"15\" font-weight=\"bold\">\(escape(result.scenario.name))"
                + "</text>",
            "<text x=\"\(Int(left))\" y=\"38\" fill=\"#555\">\(escape(result.scenario.summary)); means over "
                + "\(result.policies.first?.runs.count ?? 0) seeds</text>",
        ]
        // Panel 1: TTFT p95 (log scale from 0.1 s to the timeout).
        let ttftTop = top
        let low = log10(0.1)
        let high = log10(100.0)
        func yTTFT(_ v: Double) -> Double {
            let clamped = min(max(v, 0.1), 100)
            return ttftTop + panelHeight * (1 - (log10(clamped) - low) / (high - low))
        }
        // Panel 2: pods.
        let podsTop = top + panelHeight + gap
        let maxPods = max(
            4, result.policies.flatMap { $0.runs.flatMap(\.series.replicas) }.max().map { Int($0.rounded(.up)) } ?? 4)
        let podStep = maxPods <= 10 ? 1 : maxPods <= 20 ? 2 : 5
        let podMax = Double(((maxPods + podStep - 1) / podStep) * podStep)
        func yPods(_ v: Double) -> Double { podsTop + panelHeight * (1 - min(max(v / podMax, 0), 1)) }

        func axes(top: Double, title: String, ticks: [(Double, String)]) {
            svg.append(
                "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(panelHeight)\" fill=\"none\" "
                    + "stroke=\"#333\"/>")
            for (y, label) in ticks {
                svg.append(
                    "<line x1=\"\(left)\" y1=\"\(f(y))\" x2=\"\(left + plotWidth)\" y2=\"\(f(y))\" stroke=\"#e5e5e5\"/>"
                )
                svg.append("<text x=\"\(left - 6)\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(label)</text>")
            }
            svg.append(
                "<text transform=\"translate(\(f(left - 52)),\(f(top + panelHeight / 2))) rotate(-90)\" "
                    + "text-anchor=\"middle\">\(escape(title))</text>")
            let step = end <= 3600 ? 300.0 : 1800.0
            var t = 0.0
            while t <= end + 1e-9 {
                svg.append(
                    "<line x1=\"\(f(x(t)))\" y1=\"\(f(top + panelHeight))\" x2=\"\(f(x(t)))\" "
                        + "y2=\"\(f(top + panelHeight + 5))\" stroke=\"#333\"/>")
                svg.append(
                    "<text x=\"\(f(x(t)))\" y=\"\(f(top + panelHeight + 18))\" text-anchor=\"middle\">"
                        + "\(Int(t / 60)) min</text>")
                t += step
            }
            let event = x(result.scenario.eventTime)
            svg.append(
                "<line x1=\"\(f(event))\" y1=\"\(top)\" x2=\"\(f(event))\" y2=\"\(top + panelHeight)\" stroke=\"#000\" "
                    + "stroke-dasharray=\"4 4\"/>")
            svg.append("<text x=\"\(f(event + 4))\" y=\"\(f(top + 14))\" fill=\"#000\">event</text>")
        }
        let ttftTicks: [(Double, String)] = [0.1, 0.3, 1, 2, 5, 10, 30, 60].map { (yTTFT($0), num($0, 1) + " s") }
        axes(top: ttftTop, title: "TTFT p95 (30 s windows)", ticks: ttftTicks)
        svg.append(
            "<line x1=\"\(left)\" y1=\"\(f(yTTFT(sloTTFTSeconds)))\" x2=\"\(left + plotWidth)\" "
                + "y2=\"\(f(yTTFT(sloTTFTSeconds)))\" stroke=\"#d62728\" stroke-dasharray=\"2 3\" stroke-width=\"1\"/>")
        let podTicks = stride(from: 0.0, through: podMax, by: Double(podStep)).map { (yPods($0), num($0, 0)) }
        axes(top: podsTop, title: "pods (all phases)", ticks: podTicks)
        svg.append(
            "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">virtual time"
                + "</text>")

        for (i, policy) in result.policies.enumerated() {
            let color = colors[policy.policy] ?? "#000"
            let widthAttr = policy.policy == .modelrollout ? "2.5" : "1.5"
            guard let first = policy.runs.first else { continue }
            let ttft = meanSeries(policy.runs.map(\.series.ttftP95))
            svg.append(
                polyline(
                    first.series.ttftTimes.map { $0 + TimeSeries.ttftWindow / 2 }, ttft, x, yTTFT, color, widthAttr))
            let pods = meanSeries(policy.runs.map(\.series.replicas))
            svg.append(polyline(first.series.replicaTimes, pods, x, yPods, color, widthAttr))
            svg.append(
                legendEntry(
                    x: left + plotWidth + 16, y: top + 20 + Double(i) * 20, label: escape(policy.policy.rawValue),
                    color: color, width: widthAttr))
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// Demand against model-ready capacity over time for `policies` (means over seeds): arrivals per second in
    /// 60 s windows, and each policy's model-ready pods × the saturated throughput of one replica. `note` goes
    /// under the title (e.g. a trace's attribution).
    public static func capacityChart(
        _ result: ScenarioResult, policies: [PolicyName], throughput: Double, note: String
    ) -> String {
        let width = 960.0
        let height = 440.0
        let left = 70.0
        let right = 190.0
        let top = 86.0
        let plotHeight = height - top - 60
        let plotWidth = width - left - right
        let end = result.scenario.end
        func x(_ t: Double) -> Double { left + plotWidth * min(max(t / end, 0), 1) }
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        let chosen = policies.compactMap { result.result($0) }
        guard let reference = chosen.first?.runs.first else { return "" }
        let times = reference.series.replicaTimes
        // Demand smoothed over 60 s (6 samples), averaged over seeds.
        let rawDemand = meanSeries(chosen[0].runs.map(\.series.demand))
        let demand = rawDemand.indices.map { i in
            let window = rawDemand[max(0, i - 5)...i].filter(\.isFinite)
            return window.isEmpty ? Double.nan : window.reduce(0, +) / Double(window.count)
        }
        var capacities: [(PolicyName, [Double])] = []
        for policy in chosen {
            capacities.append((policy.policy, meanSeries(policy.runs.map(\.series.modelReady)).map { $0 * throughput }))
        }
        let highest = max(1, (demand + capacities.flatMap(\.1)).filter(\.isFinite).max() ?? 1)
        let step = [1.0, 2, 5, 10, 20, 50, 100, 200, 500].first { highest / $0 <= 8 } ?? 1000
        let yMax = (highest / step).rounded(.up) * step
        func y(_ v: Double) -> Double { top + plotHeight * (1 - min(max(v / yMax, 0), 1)) }
        var svg = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
                + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(Int(left))\" y=\"22\" font-size=\"15\" font-weight=\"bold\">\(escape(result.scenario.name)): "
                + "demand vs model-ready capacity</text>",
            "<text x=\"\(Int(left))\" y=\"40\" fill=\"#555\">capacity = model-ready pods × "
                + "\(num(throughput, 1)) req/s "
                + "(one saturated replica); demand = arrivals per second over 60 s; means over "
                + "\(chosen[0].runs.count) seeds</text>",
 ] + wrapped(note, width: 130).enumerated().map { i, line in
            "<text x=\"\(Int(left))\" y=\"\(56 + 16 * i)\" fill=\"#555\">\(escape(line))</text>"
        } + [
            "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" "
                + "stroke=\"#333\"/>",
        ]
        var tick = 0.0
        while tick <= yMax + 1e-9 {
            svg.append(
                "<line x1=\"\(left)\" y1=\"\(f(y(tick)))\" x2=\"\(left + plotWidth)\" y2=\"\(f(y(tick)))\" "
                    + "stroke=\"#e5e5e5\"/>")
            svg.append("<text x=\"\(left - 6)\" y=\"\(f(y(tick) + 4))\" text-anchor=\"end\">\(num(tick, 0))</text>")
            tick += step
        }
        svg.append(
            "<text transform=\"translate(\(f(left - 52)),\(f(top + plotHeight / 2))) rotate(-90)\" "
                + "text-anchor=\"middle\">requests per second</text>")
        let timeStep = end <= 1200 ? 120.0 : end <= 3600 ? 300.0 : 600.0
        var t = 0.0
        while t <= end + 1e-9 {
            svg.append(
                "<text x=\"\(f(x(t)))\" y=\"\(f(top + plotHeight + 18))\" text-anchor=\"middle\">"
                    + "\(Int(t / 60)) min</text>")
            t += timeStep
        }
        svg.append(polyline(times, demand, x, y, "#000", "1.5"))
        var legend: [(String, String, String)] = [("demand", "#000", "1.5")]
        for (policy, capacity) in capacities {
            let color = colors[policy] ?? "#000"
            let widthAttr = policy == .modelrollout ? "2.5" : "1.5"
            svg.append(polyline(times, capacity, x, y, color, widthAttr))
            legend.append(("\(policy.rawValue) capacity", color, widthAttr))
        }
        for (i, item) in legend.enumerated() {
            svg.append(
                legendEntry(
                    x: left + plotWidth + 16, y: top + 20 + Double(i) * 20, label: escape(item.0), color: item.1,
                    width: item.2))
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    private static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// `text` in lines of at most `width` characters, broken at spaces.
    static func wrapped(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty, current.count + 1 + word.count > width {
                lines.append(current)
                current = ""
            }
            current += (current.isEmpty ? "" : " ") + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// One legend line: a short stroke in the series' colour and width, then its (escaped) label.
    private static func legendEntry(x: Double, y: Double, label: String, color: String, width: String) -> String {
        "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 24))\" y2=\"\(f(y))\" stroke=\"\(color)\" "
            + "stroke-width=\"\(width)\"/>\n<text x=\"\(f(x + 30))\" y=\"\(f(y + 4))\">\(label)</text>"
    }

    private static func polyline(
        _ times: [Double], _ values: [Double], _ x: (Double) -> Double, _ y: (Double) -> Double, _ color: String,
        _ width: String
    ) -> String {
        var segments: [[String]] = [[]]
        for (t, v) in zip(times, values) {
            if v.isFinite {
                segments[segments.count - 1].append("\(f(x(t))),\(f(y(v)))")
            } else if !(segments.last?.isEmpty ?? true) {
                segments.append([])
            }
        }
        return segments.filter { !$0.isEmpty }.map {
            "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\" stroke-linejoin=\"round\" "
                + "points=\"\($0.joined(separator: " "))\"/>"
        }.joined(separator: "\n")
    }
}
