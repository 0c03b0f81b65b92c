/// Turns one raw log line into the text the judge matches on.
///
/// Strips ANSI colour codes (also with the ESC byte lost or replaced by U+FFFD), collector prefixes
/// (`kubectl logs --timestamps`, CI `[RFC3339] `, journald), process tags such as `(APIServer pid=N)`
/// (nested ones too), and finally the vLLM level/time/location prefix to get the bare message.
enum LogLineNormalizer {
    /// The line without colour codes, collector prefixes and process tags (kept as evidence).
    static func normalize(_ raw: String) -> String { split(raw).line }

    /// The normalised line and the names of the process tags stripped from its front, outermost first
    /// (`(EngineCore_DP0 pid=7)` → `EngineCore_DP0`).
    static func split(_ raw: String) -> (line: String, tags: [String]) {
        var scalars = stripANSI(Array(raw.unicodeScalars))
        var start = skipSpaces(scalars, 0)
        var tags: [String] = []
        var changed = true
        var rounds = 0
        while changed && rounds < 16 {
            changed = false
            rounds += 1
            for strip in [skipRFC3339, skipBracketedRFC3339, skipJournald, skipProcessTag] {
                if let next = strip(scalars, start) {
                    if scalars[start] == "(" {
                        let name = scalars[(start + 1)..<next].prefix { $0 != " " && $0 != ")" && $0 != "," }
                        tags.append(String(String.UnicodeScalarView(name)))
                    }
                    start = skipSpaces(scalars, next)
                    changed = true
                }
            }
        }
        scalars = Array(scalars[start...])
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars)
        return (String(out), tags)
    }

    /// The message text of a normalised line: the vLLM `LEVEL MM-DD HH:MM:SS [file:line] ` prefix removed.
    static func message(_ line: String) -> String {
        let s = Array(line.unicodeScalars)
        var i = 0
        let levels = ["DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL"]
        guard let level = levels.first(where: { hasPrefix(s, 0, $0) }) else { return line }
        i = level.unicodeScalars.count
        guard i < s.count, s[i] == " " else { return line }
        i += 1
        // MM-DD HH:MM:SS(.fff)
        guard let afterDate = matchPattern(s, i, "dd-dd dd:dd:dd") else { return line }
        i = afterDate
        if i < s.count, s[i] == "." || s[i] == "," {
            i += 1
            while i < s.count, isDigit(s[i]) { i += 1 }
        }
        i = skipSpaces(s, i)
        // Source location: `[loader.py:458] ` (0.8+) or `model_runner.py:104] ` (≤ 0.7).
        let limit = min(s.count, i + 200)
        var j = i
        while j < limit, s[j] != " " {
            if s[j] == "]" {
                if j + 1 >= s.count || s[j + 1] == " " {
                    i = skipSpaces(s, j + 1)
                }
                break
            }
            j += 1
        }
        return String(String.UnicodeScalarView(s[i...]))
    }

    // MARK: - ANSI

    static func stripANSI(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == "\u{1B}" {
                // ESC [ params final
                if i + 1 < s.count, s[i + 1] == "[" {
                    var j = i + 2
                    while j < s.count, (0x30...0x3F).contains(s[j].value) { j += 1 }
                    while j < s.count, (0x20...0x2F).contains(s[j].value) { j += 1 }
                    if j < s.count, (0x40...0x7E).contains(s[j].value) { j += 1 }
                    i = j
                } else {
                    i += 1
                }
                continue
            }
            if c == "[" || c == "\u{FFFD}" {
                // Lost-ESC remnant: optional U+FFFD, then `[` digits/semicolons `m`.
                var j = i
                if s[j] == "\u{FFFD}" { j += 1 }
                if j < s.count, s[j] == "[" {
                    var k = j + 1
                    var digits = 0
                    while k < s.count, isDigit(s[k]) || s[k] == ";" {
                        if isDigit(s[k]) { digits += 1 }
                        k += 1
                    }
                    if digits > 0, k < s.count, s[k] == "m" {
                        i = k + 1
                        continue
                    }
                }
            }
            if c.value < 0x20 && c != "\t" {
                i += 1  // other control bytes are noise
                continue
            }
            out.append(c)
            i += 1
        }
        return out
    }

    // MARK: - Prefixes

    /// `2025-08-12T08:42:39.123456789Z ` or with a numeric offset.
    static func skipRFC3339(_ s: [Unicode.Scalar], _ i: Int) -> Int? {
        guard var j = matchPattern(s, i, "dddd-dd-ddTdd:dd:dd") else { return nil }
        if j < s.count, s[j] == "." || s[j] == "," {
            j += 1
            while j < s.count, isDigit(s[j]) { j += 1 }
        }
        if j < s.count, s[j] == "Z" || s[j] == "z" {
            j += 1
        } else if j < s.count, s[j] == "+" || s[j] == "-" {
            guard let k = matchPattern(s, j + 1, "dd:dd") else { return nil }
            j = k
        }
        guard j < s.count, s[j] == " " || s[j] == "\t" else { return nil }
        return j
    }

    /// `[2025-08-12T08:42:39Z] `.
    static func skipBracketedRFC3339(_ s: [Unicode.Scalar], _ i: Int) -> Int? {
        guard i < s.count, s[i] == "[" else { return nil }
        guard var j = matchPattern(s, i + 1, "dddd-dd-ddTdd:dd:dd") else { return nil }
        while j < s.count, j < i + 64, s[j] != "]" { j += 1 }
        guard j < s.count, s[j] == "]" else { return nil }
        return j + 1
    }

    /// journald: `<month> <day> <HH:MM:SS> <host> <proc>[pid]: ` (month may be localised, non-ASCII).
    static func skipJournald(_ s: [Unicode.Scalar], _ i: Int) -> Int? {
        guard let (month, a) = token(s, i), month.count <= 12,
            !month.contains(where: { isDigit($0) || $0 == "(" || $0 == "[" }),
            month.contains(where: { $0.properties.isAlphabetic })
        else { return nil }
        guard let (day, b) = token(s, skipSpaces(s, a)), (1...2).contains(day.count), day.allSatisfy(isDigit)
        else { return nil }
        guard let (time, c) = token(s, skipSpaces(s, b)), matchPattern(time, 0, "dd:dd:dd") != nil
        else { return nil }
        guard let (_, d) = token(s, skipSpaces(s, c)) else { return nil }
        guard let (proc, e) = token(s, skipSpaces(s, d)), proc.last == ":", proc.count > 1 else { return nil }
        return e
    }

    /// `(APIServer pid=12)`, `(VllmWorker rank=1 pid=3)`, `(RayWorkerWrapper pid=5, ip=10.0.0.1)`,
    /// `(ServeReplica:app:Deployment pid=7)` …
    static func skipProcessTag(_ s: [Unicode.Scalar], _ i: Int) -> Int? {
        guard i < s.count, s[i] == "(" else { return nil }
        var j = i + 1
        let limit = min(s.count, i + 256)
        while j < limit, s[j] != ")" {
            if s[j] == "(" { return nil }
            j += 1
        }
        guard j < limit, s[j] == ")" else { return nil }
        let inner = String(String.UnicodeScalarView(s[(i + 1)..<j]))
        guard inner.contains("pid=") || inner.contains("rank=") || inner.hasPrefix("Serve") else { return nil }
        return j + 1
    }

    // MARK: - Helpers

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }

    static func skipSpaces(_ s: [Unicode.Scalar], _ i: Int) -> Int {
        var j = i
        while j < s.count, s[j] == " " || s[j] == "\t" { j += 1 }
        return j
    }

    static func token(_ s: [Unicode.Scalar], _ i: Int) -> ([Unicode.Scalar], Int)? {
        var j = i
        while j < s.count, j < i + 128, s[j] != " ", s[j] != "\t" { j += 1 }
        guard j > i, j < s.count else { return nil }
        return (Array(s[i..<j]), j)
    }

    static func hasPrefix(_ s: [Unicode.Scalar], _ i: Int, _ p: String) -> Bool {
        var j = i
        for c in p.unicodeScalars {
            guard j < s.count, s[j] == c else { return false }
            j += 1
        }
        return true
    }

    /// Matches a pattern where `d` is any ASCII digit and every other character is literal.
    static func matchPattern(_ s: [Unicode.Scalar], _ i: Int, _ pattern: String) -> Int? {
        var j = i
        for p in pattern.unicodeScalars {
            guard j < s.count else { return nil }
            if p == "d" {
                guard isDigit(s[j]) else { return nil }
            } else if s[j] != p {
                return nil
            }
            j += 1
        }
        return j
    }
}
