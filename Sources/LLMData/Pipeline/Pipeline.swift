// Pipeline: streams documents from a reader through steps to a writer, chunk by chunk (bounded memory).
// Consecutive `DocumentStage`s form a parallel segment: the chunk is cut into blocks that worker
// threads claim (Dispatch concurrentPerform, `threads` workers); results land in per-document slots, so
// output order is the input order whatever the thread count. `OrderedDocumentStage`s run on the calling
// thread in input order. Every drop (reader or stage) goes to the rejects file with stage and reason;
// on any thrown error the writer and rejects file are aborted (their destinations stay as they were).
import LLMIO
import Foundation
import LLMCore
import Synchronization

/// One step of a pipeline.
public enum PipelineStep {
    /// A thread-safe stage, run on the worker threads.
    case parallel(any DocumentStage)
    /// A stage that needs every document in order, run on the calling thread.
    case ordered(any OrderedDocumentStage)

    public var name: String {
        switch self {
        case .parallel(let s): return s.name
        case .ordered(let s): return s.name
        }
    }
}

/// A stage failed: names the stage and the document.
public struct PipelineError: UserFacingError {
    public let stage: String
    public let documentID: String
    public let underlying: any Error
    public var description: String { "pipeline: step '\(stage)' failed on document '\(documentID)': \(underlying)" }
}

/// Reader -> steps -> writer.
///
/// ```swift
/// let p = Pipeline(reader: try JSONLReader(paths: ["in.jsonl"]), steps: [.parallel(MyFilter())],
///                  writer: try JSONLWriter(path: "out.jsonl"), rejects: try RejectsWriter(path: "rejects.jsonl"))
/// print(try p.run().formatted())
/// ```
public final class Pipeline {
    /// Run options.
    public struct Options: Sendable {
        /// Worker threads for parallel stages (1 runs them on the calling thread).
        public var threads = max(1, ProcessInfo.processInfo.activeProcessorCount)
        /// Most documents held in memory at once.
        public var chunkDocuments = 4096
        /// Most text bytes held in memory at once (a chunk ends when either limit is reached).
        public var chunkBytes = 16 << 20
        public init() {}
    }

    let reader: any DocumentReader
    let steps: [PipelineStep]
    let writer: (any DocumentWriter)?
    let rejects: RejectsWriter?
    let options: Options

    public init(
        reader: any DocumentReader, steps: [PipelineStep], writer: (any DocumentWriter)? = nil,
        rejects: RejectsWriter? = nil, options: Options = Options()
    ) {
        self.reader = reader; self.steps = steps; self.writer = writer; self.rejects = rejects
        var o = options
        o.threads = max(1, o.threads); o.chunkDocuments = max(1, o.chunkDocuments); o.chunkBytes = max(1, o.chunkBytes)
        self.options = o
    }

    /// Where a document ended in one chunk.
    struct Slot {
        var doc: Document?
        var dropStep = -1
        var dropReason = ""
        var dropped: Document? = nil
        var error: (any Error)? = nil
    }

    /// Runs the pipeline once. Kept documents go to the writer and to `output` (when given), in input order.
    /// - Throws: ``PipelineError`` when a stage throws; the reader's, writer's or `output`'s errors as they are.
    public func run(output: ((Document) throws -> Void)? = nil) throws -> PipelineReport {
        let start = now()
        var rows = [StageReport(name: reader.name, kind: "read")]
        for s in steps {
            if case .parallel = s { rows.append(StageReport(name: s.name, kind: "parallel")) } else { rows.append(StageReport(name: s.name, kind: "ordered")) }
        }
        rows.append(StageReport(name: writer?.name ?? "output", kind: "write"))
        do {
            var eof = false
            while !eof {
                // read a chunk (calling thread)
                let t0 = now()
                let bytesBefore = reader.bytesRead
                var chunk: [Slot] = []
                var textBytes = 0
                while chunk.count < options.chunkDocuments && textBytes < options.chunkBytes {
                    guard let item = try reader.next() else { eof = true; break }
                    rows[0].documentsIn += 1
                    switch item {
                    case .document(let d):
                        textBytes += d.text.utf8.count
                        chunk.append(Slot(doc: d))
                    case .rejected(let d, let reason):
                        rows[0].drop(reason)
                        try rejects?.write(d, stage: reader.name, reason: reason)
                    }
                }
                rows[0].documentsOut += chunk.count
                rows[0].bytesIn += reader.bytesRead - bytesBefore
                rows[0].bytesOut += textBytes
                rows[0].seconds += now() - t0
                if chunk.isEmpty { continue }
                try process(&chunk, &rows)
                try emit(chunk, &rows, output)
            }
            for (k, v) in reader.notes { rows[0].notes[k] = v }
            let t0 = now()
            try writer?.finish()
            try rejects?.finish()
            rows[rows.count - 1].seconds += now() - t0
            if let w = writer { rows[rows.count - 1].bytesOut = w.bytesWritten }
        } catch {
            writer?.abort()
            rejects?.abort()
            throw error
        }
        var report = PipelineReport(stages: rows)
        report.seconds = now() - start
        report.rejectsWritten = rejects?.count ?? 0
        return report
    }

    /// Runs every step over `chunk`, segment by segment.
    private func process(_ chunk: inout [Slot], _ rows: inout [StageReport]) throws {
        var i = 0
        while i < steps.count {
            if case .ordered(let stage) = steps[i] {
                let t0 = now()
                for k in chunk.indices { Self.apply(stage.process, step: i, name: stage.name, to: &chunk[k], row: &rows[i + 1]) }
                rows[i + 1].seconds += now() - t0
                try rethrow(chunk)
                i += 1
                continue
            }
            var j = i
            var segment: [any DocumentStage] = []
            while j < steps.count, case .parallel(let s) = steps[j] { segment.append(s); j += 1 }
            let partial = runParallel(segment, first: i, &chunk)
            for r in partial { for (k, row) in r.enumerated() { rows[i + 1 + k].merge(row) } }
            try rethrow(chunk)
            i = j
        }
    }

    /// Applies one stage to one slot, updating its counters (timing is the caller's).
    static func apply(_ fn: (Document) throws -> StageOutcome, step: Int, name: String, to slot: inout Slot, row: inout StageReport) {
        guard let doc = slot.doc else { return }
        row.documentsIn += 1
        row.bytesIn += doc.text.utf8.count
        do {
            switch try fn(doc) {
            case .keep(let d):
                row.documentsOut += 1
                row.bytesOut += d.text.utf8.count
                slot.doc = d
            case .drop(let reason):
                row.drop(reason)
                slot.doc = nil; slot.dropStep = step; slot.dropReason = reason; slot.dropped = doc
            }
        } catch {
            slot.doc = nil
            slot.error = PipelineError(stage: name, documentID: doc.id, underlying: error)
        }
    }

    /// Runs a segment of parallel stages over the chunk; returns per-worker counters.
    private func runParallel(_ segment: [any DocumentStage], first: Int, _ chunk: inout [Slot]) -> [[StageReport]] {
        let n = chunk.count
        let workers = min(options.threads, max(1, n / 16))
        let fresh = segment.map { StageReport(name: $0.name, kind: "parallel") }
        var partial = [[StageReport]](repeating: fresh, count: workers)
        let names = steps.map { $0.name }
        chunk.withUnsafeMutableBufferPointer { slots in
            partial.withUnsafeMutableBufferPointer { parts in
                let job = ParallelJob(
                    slots: slots, parts: parts, segment: segment, names: names, first: first,
                    block: max(1, min(256, n / (workers * 8))))
                let files = FileAccess.capture()  // the sandbox's file policy follows the work to the workers
                if workers == 1 { job.work(0) } else { DispatchQueue.concurrentPerform(iterations: workers) { i in FileAccess.with(files) { job.work(i) } } }
            }
        }
        return partial
    }

    /// Throws the first error of the chunk (in input order).
    private func rethrow(_ chunk: [Slot]) throws {
        for s in chunk { if let e = s.error { throw e } }
    }

    /// Writes the chunk's drops to the rejects file and its kept documents to the outputs, in order.
    private func emit(_ chunk: [Slot], _ rows: inout [StageReport], _ output: ((Document) throws -> Void)?) throws {
        let t0 = now()
        let w = rows.count - 1
        for s in chunk {
            if let d = s.doc {
                rows[w].documentsIn += 1
                rows[w].bytesIn += d.text.utf8.count
                try writer?.write(d)
                try output?(d)
                rows[w].documentsOut += 1
            } else if let d = s.dropped, let rejects {
                try rejects.write(d, stage: steps[s.dropStep].name, reason: s.dropReason)
            }
        }
        if writer == nil { rows[w].bytesOut = rows[w].bytesIn }
        rows[w].seconds += now() - t0
    }

    func now() -> Double { Self.now() }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

/// The shared state of one parallel segment run: workers claim blocks of slots from `next`; each slot
/// and each worker's counters are written by one thread only.
private final class ParallelJob: @unchecked Sendable {
    let slots: UnsafeMutableBufferPointer<Pipeline.Slot>
    let parts: UnsafeMutableBufferPointer<[StageReport]>
    let segment: [any DocumentStage]
    let names: [String]
    let first: Int
    let block: Int
    let next = Atomic<Int>(0)

    init(
        slots: UnsafeMutableBufferPointer<Pipeline.Slot>, parts: UnsafeMutableBufferPointer<[StageReport]>,
        segment: [any DocumentStage], names: [String], first: Int, block: Int
    ) {
        self.slots = slots; self.parts = parts; self.segment = segment; self.names = names; self.first = first; self.block = block
    }

    func work(_ w: Int) {
        let n = slots.count
        while true {
            let lo = next.add(block, ordering: .relaxed).oldValue
            if lo >= n { break }
            for k in lo..<min(lo + block, n) {
                for (s, stage) in segment.enumerated() {
                    guard slots[k].doc != nil else { break }
                    let t0 = Pipeline.now()
                    Pipeline.apply(stage.process, step: first + s, name: names[first + s], to: &slots[k], row: &parts[w][s])
                    parts[w][s].seconds += Pipeline.now() - t0
                }
            }
        }
    }
}
