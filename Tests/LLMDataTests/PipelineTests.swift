// Pipeline: report counts (reader, stages, writer), the rejects file (every drop with stage and
// reason), atomic writers (a failed run leaves the destination as it was; .gz output reads back),
// deterministic output order with 1 and 4 threads, ordered stages, and stage errors naming the document.
import Foundation
import Synchronization
import Testing
@testable import LLMData

struct DropShort: DocumentStage {
    let name = "dropShort"
    let min: Int
    func process(_ doc: Document) throws -> StageOutcome {
        doc.text.count < min ? .drop(reason: "too short: \(doc.text.count) chars") : .keep(doc)
    }
}

struct Upper: DocumentStage {
    let name = "upper"
    func process(_ doc: Document) throws -> StageOutcome {
        var d = doc; d.text = d.text.uppercased(); return .keep(d)
    }
}

struct Explode: DocumentStage {
    let name = "explode"
    struct Boom: Error {}
    func process(_ doc: Document) throws -> StageOutcome {
        if doc.id == "13" { throw Boom() }
        return .keep(doc)
    }
}

/// Keeps the first document of each text (an ordered stage, like dedup).
final class FirstOfEach: OrderedDocumentStage {
    let name = "firstOfEach"
    var seen = Set<String>()
    func process(_ doc: Document) throws -> StageOutcome {
        seen.insert(doc.text).inserted ? .keep(doc) : .drop(reason: "duplicate")
    }
}

func lines(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
}

@Test func pipelineReportAndRejects() throws {
    let dir = try makeTree([
        "in.jsonl": Array(
            ([
                #"{"text":"hello world"}"#, "oops", #"{"text":"hi"}"#,
                #"{"text":"hello world"}"#, #"{"text":"a longer one","id":"x","k":"v"}"#
            ])
            .joined(separator: "\n").utf8)
    ])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var o = Pipeline.Options(); o.threads = 2
    let p = Pipeline(
        reader: try JSONLReader(paths: [dir + "/in.jsonl"]),
        steps: [.parallel(DropShort(min: 3)), .ordered(FirstOfEach()), .parallel(Upper())],
        writer: try JSONLWriter(path: dir + "/out.jsonl"), rejects: try RejectsWriter(path: dir + "/rejects.jsonl"),
        options: o)
    let r = try p.run()
    #expect(r.stages.map(\.name) == ["read jsonl", "dropShort", "firstOfEach", "upper", "write jsonl"])
    #expect(r.stages.map(\.documentsIn) == [5, 4, 3, 2, 2])
    #expect(r.stages.map(\.documentsOut) == [4, 3, 2, 2, 2])
    #expect(r.stages[0].drops == ["not JSON": 1])
    #expect(r.stages[1].drops == ["too short": 1])
    #expect(r.stages[2].drops == ["duplicate": 1])
    #expect(r.stages[1].bytesIn == 11 + 2 + 11 + 12 && r.stages[1].bytesOut == 34)
    #expect(r.documentsRead == 5 && r.documentsKept == 2 && r.documentsDropped == 3 && r.rejectsWritten == 3)
    #expect(
        try lines(dir + "/out.jsonl") == [
            #"{"id":"\#(dir)/in.jsonl:1","text":"HELLO WORLD"}"#,
            #"{"id":"x","text":"A LONGER ONE","meta":{"k":"v"}}"#
        ])
    let rejects = try lines(dir + "/rejects.jsonl")
    #expect(rejects.count == 3)
    #expect(rejects[0].contains(#""text":"oops""#) && rejects[0].contains(#""stage":"read jsonl","reason":"not JSON: "#))
    #expect(rejects[1] == #"{"id":"\#(dir)/in.jsonl:3","text":"hi","stage":"dropShort","reason":"too short: 2 chars"}"#)
    #expect(rejects[2].contains(#""stage":"firstOfEach","reason":"duplicate""#))
    let table = r.formatted()
    #expect(table.contains("too short (1)") && table.contains("total: 5 read, 2 kept, 3 dropped"))
    // the output reads back as written (meta round trip)
    let back = try drain(JSONLReader(paths: [dir + "/out.jsonl"])).docs
    #expect(back.map(\.id) == [dir + "/in.jsonl:1", "x"] && back[1].meta == ["k": "v"])
}

@Test func deterministicOrderWithThreads() throws {
    let docs = (0..<3000).map { Document(text: String(repeating: "w", count: $0 % 17), id: "\($0)") }
    func run(threads: Int, chunk: Int) throws -> ([String], PipelineReport) {
        var o = Pipeline.Options(); o.threads = threads; o.chunkDocuments = chunk
        var out: [String] = []
        let r = try Pipeline(
            reader: ArrayReader(docs), steps: [.parallel(DropShort(min: 5)), .parallel(Upper())],
            options: o
        ).run { out.append($0.id) }
        return (out, r)
    }
    let (one, r1) = try run(threads: 1, chunk: 4096)
    let (four, r4) = try run(threads: 4, chunk: 700)
    #expect(one == four)
    #expect(one == docs.filter { $0.text.count >= 5 }.map(\.id))
    #expect(r1.stages.map(\.documentsOut) == r4.stages.map(\.documentsOut))
    #expect(r4.stages[1].drops == ["too short": docs.filter { $0.text.count < 5 }.count])
}

@Test func failedRunLeavesDestinationsUntouched() throws {
    let dir = try makeTree(["out.jsonl": Array("previous\n".utf8)])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let docs = (0..<40).map { Document(text: "t\($0)", id: "\($0)") }
    var o = Pipeline.Options(); o.threads = 3; o.chunkDocuments = 8
    let p = Pipeline(
        reader: ArrayReader(docs), steps: [.parallel(Explode())], writer: try JSONLWriter(path: dir + "/out.jsonl"),
        rejects: try RejectsWriter(path: dir + "/rejects.jsonl"), options: o)
    do { _ = try p.run(); Issue.record("expected an error") } catch let e as PipelineError {
        #expect(e.stage == "explode" && e.documentID == "13")
        #expect(e.description.hasPrefix("pipeline: step 'explode' failed on document '13'"))
    }
    #expect(try lines(dir + "/out.jsonl") == ["previous"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.jsonl"])  // temporaries removed
}

@Test func writerAtomicityAndGzipOutput() throws {
    let dir = try makeTree([:])
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let w = try JSONLWriter(path: dir + "/o.jsonl.gz")
    try w.write(Document(text: "é\n\"q\"", id: "1", meta: ["a": "b"]))
    #expect(!FileManager.default.fileExists(atPath: dir + "/o.jsonl.gz"))  // nothing visible before finish
    try w.finish()
    let back = try drain(JSONLReader(paths: [dir + "/o.jsonl.gz"])).docs
    #expect(back.map(\.text) == ["é\n\"q\""] && back[0].meta == ["a": "b"])
    do { let w2 = try JSONLWriter(path: dir + "/gone.jsonl"); try w2.write(Document(text: "x", id: "1")) }  // never finished
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["o.jsonl.gz"])
    #expect(throws: DataError.self) { try JSONLWriter(path: "/nonexistent-dir/o.jsonl") }
}

@Test func reasonCategoriesAreCapped() {
    var s = StageReport(name: "x", kind: "parallel")
    for k in 0..<(StageReport.maxReasons + 5) { s.drop("r\(k)") }
    s.drop("r0: detail")
    #expect(s.drops.count == StageReport.maxReasons + 1 && s.drops["(other reasons)"] == 5 && s.drops["r0"] == 2)
}
