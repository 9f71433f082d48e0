// PipelineReport: what a `Pipeline` run did, one row per step (reader, stages, writer): documents
// in/out, bytes in/out, time, and drops counted by reason category (the text before the first ": ").
// `formatted()` is the readable table printed after a run. Distinct categories per step are capped
// (`maxReasons`); the rest count under "(other reasons)", so memory stays bounded.
import Foundation

/// Counters of one pipeline step.
public struct StageReport: Sendable {
    /// The most distinct drop categories kept per step.
    public static let maxReasons = 1000

    /// The step's name (`"read jsonl"`, a stage's `name`, `"write jsonl"`).
    public var name: String
    /// `"read"`, `"parallel"`, `"ordered"` or `"write"`.
    public var kind: String
    public var documentsIn = 0
    public var documentsOut = 0
    /// UTF-8 bytes of text entering (the reader: bytes read from files).
    public var bytesIn = 0
    /// UTF-8 bytes of text leaving (the writer: bytes of JSONL written).
    public var bytesOut = 0
    /// Seconds spent in the step; for parallel stages the sum over worker threads.
    public var seconds = 0.0
    /// Drops by reason category.
    public var drops: [String: Int] = [:]
    /// Counted events that are not drops (`"invalid UTF-8 repaired"`).
    public var notes: [String: Int] = [:]

    public init(name: String, kind: String) { self.name = name; self.kind = kind }

    /// Documents dropped by this step.
    public var dropped: Int { drops.values.reduce(0, +) }

    /// The category of a drop reason: the text before the first `": "`.
    public static func category(_ reason: String) -> String {
        guard let r = reason.range(of: ": ") else { return reason }
        return String(reason[..<r.lowerBound])
    }

    /// Counts one drop.
    mutating func drop(_ reason: String) {
        let c = Self.category(reason)
        if drops[c] == nil && drops.count >= Self.maxReasons { drops["(other reasons)", default: 0] += 1 } else { drops[c, default: 0] += 1 }
    }

    /// Adds the counters of `o` (same step, another worker or chunk).
    mutating func merge(_ o: StageReport) {
        documentsIn += o.documentsIn; documentsOut += o.documentsOut
        bytesIn += o.bytesIn; bytesOut += o.bytesOut; seconds += o.seconds
        for (k, v) in o.drops {
            if drops[k] == nil && drops.count >= Self.maxReasons { drops["(other reasons)", default: 0] += v } else { drops[k, default: 0] += v }
        }
        for (k, v) in o.notes { notes[k, default: 0] += v }
    }

    /// Drop categories, most frequent first (ties by name).
    public var topDrops: [(reason: String, count: Int)] {
        drops.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

/// The result of ``Pipeline/run(output:)``.
public struct PipelineReport: Sendable {
    /// Reader, stages in order, writer.
    public var stages: [StageReport]
    /// Wall-clock seconds of the whole run.
    public var seconds = 0.0
    /// Documents written to the rejects file (0 without one).
    public var rejectsWritten = 0

    /// Records read (documents and reader rejections) and documents that reached the end.
    public var documentsRead: Int { stages.first?.documentsIn ?? 0 }
    public var documentsKept: Int { stages.last?.documentsOut ?? 0 }
    /// Every drop, from the reader on.
    public var documentsDropped: Int { stages.reduce(0) { $0 + $1.dropped } }

    /// A readable table: step, in, out, dropped, MB in/out, seconds, top drop reasons; then notes.
    public func formatted(topReasons: Int = 3) -> String {
        func pad(_ s: String, _ w: Int, left: Bool = false) -> String {
            let n = s.count
            return n >= w ? s : (left ? s + String(repeating: " ", count: w - n) : String(repeating: " ", count: w - n) + s)
        }
        func mb(_ b: Int) -> String { String(format: "%.2f", Double(b) / 1_000_000) }
        let nameWidth = max(12, stages.map { $0.name.count }.max() ?? 0)
        var lines = [
            pad("step", nameWidth, left: true) + pad("in", 10) + pad("out", 10) + pad("dropped", 9)
                + pad("MB in", 9) + pad("MB out", 9) + pad("time", 9) + "  top drop reasons"
        ]
        for s in stages {
            let reasons = s.topDrops.prefix(topReasons).map { "\($0.reason) (\($0.count))" }.joined(separator: ", ")
            lines.append(
                pad(s.name, nameWidth, left: true) + pad("\(s.documentsIn)", 10) + pad("\(s.documentsOut)", 10)
                    + pad("\(s.dropped)", 9) + pad(mb(s.bytesIn), 9) + pad(mb(s.bytesOut), 9)
                    + pad(String(format: "%.3fs", s.seconds), 9) + (reasons.isEmpty ? "" : "  " + reasons))
        }
        var tail = "total: \(documentsRead) read, \(documentsKept) kept, \(documentsDropped) dropped"
        if rejectsWritten > 0 { tail += " (\(rejectsWritten) in the rejects file)" }
        tail += String(format: " in %.3fs", seconds)
        lines.append(tail)
        for s in stages where !s.notes.isEmpty {
            let notes = s.notes.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
            lines.append("note: \(s.name): \(notes)")
        }
        return lines.joined(separator: "\n")
    }
}
