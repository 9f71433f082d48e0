// Document readers: text files split per file / line / separator (same cut as Fortunes.split), JSONL
// (text field, fallbacks, fill rule, ids, meta), gzip inputs (made with /bin/gzip), and bad input:
// lines that are not JSON, missing or non-string text, invalid UTF-8 (repair and reject), a 10 MB line,
// a line over the limit, empty files, missing and unreadable paths, corrupt gzip — counted, no crash.
import Foundation
import Testing
@testable import LLMData

/// All items of a reader, split into documents and rejections.
func drain(_ r: any DocumentReader) throws -> (docs: [Document], rejected: [(Document, String)]) {
    var docs: [Document] = [], rejected: [(Document, String)] = []
    while let item = try r.next() {
        switch item {
        case .document(let d): docs.append(d)
        case .rejected(let d, let reason): rejected.append((d, reason))
        }
    }
    return (docs, rejected)
}

/// `bytes` compressed with the system gzip.
func gzipped(_ bytes: [UInt8]) throws -> [UInt8] {
    let dir = try makeTree(["in": bytes])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/gzip")
    p.arguments = ["-kn", dir + "/in"]
    try p.run(); p.waitUntilExit()
    return Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/in.gz")))
}

@Test func textReaderSplits() throws {
    let dir = try makeTree([
        "a.txt": Array("one\n\ntwo\r\nthree".utf8), "b/c.txt": Array("x\n%\ny\nz\n%\n\n%\n".utf8),
        "empty.txt": [], ".hidden": Array("no".utf8)
    ])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let files = try drain(TextDocumentReader(paths: [dir], split: .file))
    #expect(files.docs.map(\.text) == ["one\n\ntwo\r\nthree", "x\n%\ny\nz\n%\n\n%\n"])
    #expect(files.docs.map(\.id) == [dir + "/a.txt", dir + "/b/c.txt"])
    let l = try TextDocumentReader(paths: [dir + "/a.txt"], split: .line)
    let out = try drain(l)
    #expect(out.docs.map(\.text) == ["one", "two", "three"])
    #expect(out.docs.map(\.id) == ["\(dir)/a.txt:1", "\(dir)/a.txt:3", "\(dir)/a.txt:4"])
    #expect(l.notes["blank line"] == 1)
    let sep = try drain(TextDocumentReader(paths: [dir + "/b/c.txt"], split: .separator))
    #expect(sep.docs.map(\.text) == ["x", "y\nz"])
    #expect(sep.docs.map(\.meta["source"]) == [dir + "/b/c.txt", dir + "/b/c.txt"])
}

@Test func separatorMatchesFortunesSplit() throws {
    let path = fixturePath("fortunes-sample")
    let docs = try drain(TextDocumentReader(paths: [path], split: .separator)).docs.map(\.text)
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(docs == Fortunes.split(text))
}

@Test func gzipInputs() throws {
    let plain = Array("{\"text\":\"héllo 世界\"}\n{\"text\":\"two\"}\n".utf8)
    let dir = try makeTree(["d.jsonl.gz": try gzipped(plain), "t.gz": try gzipped(Array("a\nb\n".utf8))])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let j = try JSONLReader(paths: [dir + "/d.jsonl.gz"])
    #expect(try drain(j).docs.map(\.text) == ["héllo 世界", "two"])
    #expect(j.bytesRead == plain.count)
    #expect(try drain(TextDocumentReader(paths: [dir + "/t.gz"], split: .line)).docs.map(\.text) == ["a", "b"])
    // corrupt gzip: a counted rejection, the documents before it are kept
    var bad = try gzipped(Array(String(repeating: "line\n", count: 2000).utf8))
    bad.removeLast(bad.count / 2)
    let dir2 = try makeTree(["bad.gz": bad])
    defer { try? FileManager.default.removeItem(atPath: dir2) }
    let out = try drain(TextDocumentReader(paths: [dir2 + "/bad.gz"], split: .line))
    #expect(out.rejected.count == 1)
    #expect(out.rejected.first?.1.hasPrefix("unreadable: ") == true)
    #expect(out.docs.allSatisfy { $0.text == "line" })
}

@Test func jsonlRecordsAndBadLines() throws {
    let lines = [
        #"{"text":"first","id":"a","lang":"en","score":0.5,"tags":["x"],"meta":{"src":"web"}}"#,
        "not json",
        "",
        #"{"body":"no text field"}"#,
        #"{"text":""}"#,
        #"{"text":42}"#,
        #"[1,2]"#,
        #"{"text":"last","id":7}"#
    ]
    let dir = try makeTree(["d.jsonl": Array(lines.joined(separator: "\n").utf8)])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/d.jsonl"
    let r = try JSONLReader(paths: [path])
    let out = try drain(r)
    #expect(out.docs.map(\.text) == ["first", "last"])
    #expect(out.docs.map(\.id) == ["a", "7"])
    #expect(out.docs[0].meta == ["lang": "en", "score": "0.5", "tags": "[\"x\"]", "src": "web"])
    #expect(
        out.rejected.map(\.1).map(StageReport.category) == [
            "not JSON", "missing field 'text'", "empty field 'text'",
            "field 'text' is an integer, expected a string", "not a JSON object (an array)"
        ])
    #expect(out.rejected[0].0.id == "\(path):2")
    #expect(out.rejected[0].0.text == "not json")  // the raw line is kept for the rejects file
    #expect(r.notes["blank line"] == 1)
    // fallbacks and a fill rule
    var o = JSONLReader.Options()
    o.fallbackFields = ["body"]
    o.fill = { rec in rec.meta["lang"] == nil ? "filled \(rec.id)" : nil }
    let filled = try drain(JSONLReader(paths: [path], options: o))
    #expect(filled.docs.map(\.text) == ["first", "no text field", "filled \(path):5", "filled \(path):6", "last"])
}

@Test func invalidUTF8RepairOrReject() throws {
    let bytes: [UInt8] = Array("{\"text\":\"ok ".utf8) + [0xFF, 0xC3] + Array("\"}\nplain\n".utf8)
    let dir = try makeTree(["d.jsonl": bytes, "t.txt": [0x61, 0xFE, 0x62]])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try JSONLReader(paths: [dir + "/d.jsonl"], options: JSONLReader.Options())
    let out = try drain(r)
    #expect(out.docs.map(\.text) == ["ok \u{FFFD}\u{FFFD}"])
    #expect(r.notes["invalid UTF-8 repaired"] == 1)
    var o = JSONLReader.Options(); o.invalidUTF8 = .reject
    let rej = try drain(JSONLReader(paths: [dir + "/d.jsonl"], options: o))
    #expect(rej.docs.isEmpty && rej.rejected.first?.1 == "invalid UTF-8")
    var t = TextDocumentReader.Options(); t.invalidUTF8 = .reject
    #expect(try drain(TextDocumentReader(paths: [dir + "/t.txt"], options: t)).rejected.map(\.1) == ["invalid UTF-8"])
    #expect(try drain(TextDocumentReader(paths: [dir + "/t.txt"], split: .file)).docs.map(\.text) == ["a\u{FFFD}b"])
}

@Test func hugeLinesAndLimits() throws {
    let big = String(repeating: "abcdefghij", count: 1_000_000)  // 10 MB of text in one JSONL line
    let dir = try makeTree(["big.jsonl": Array("{\"text\":\"\(big)\"}\n{\"text\":\"after\"}\n".utf8)])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let out = try drain(JSONLReader(paths: [dir + "/big.jsonl"]))
    #expect(out.docs.count == 2 && out.docs[0].text.utf8.count == 10_000_000 && out.docs[1].text == "after")
    var o = JSONLReader.Options(); o.maxLineBytes = 1 << 20
    let limited = try drain(JSONLReader(paths: [dir + "/big.jsonl"], options: o))
    #expect(limited.docs.map(\.text) == ["after"])
    #expect(limited.rejected.first?.1.hasPrefix("line longer than maxLineBytes") == true)
}

@Test func emptyMissingAndUnreadablePaths() throws {
    let dir = try makeTree(["empty.jsonl": [], "sub/locked.txt": Array("secret".utf8), "ok.txt": Array("fine".utf8)])
    defer { chmod(dir + "/sub/locked.txt", 0o644); try? FileManager.default.removeItem(atPath: dir) }
    let empty = try drain(JSONLReader(paths: [dir + "/empty.jsonl"]))
    #expect(empty.docs.isEmpty && empty.rejected.isEmpty)
    #expect(throws: DataError.corpus("corpus: no such file or directory: /nonexistent/x.jsonl")) {
        try JSONLReader(paths: ["/nonexistent/x.jsonl"])
    }
    #expect(throws: DataError.self) { try TextDocumentReader(paths: [], split: .line) }
    chmod(dir + "/sub/locked.txt", 0)
    guard open(dir + "/sub/locked.txt", O_RDONLY) < 0 else { return }  // running as root: nothing is unreadable
    let out = try drain(TextDocumentReader(paths: [dir], split: .file))  // found in a folder: counted
    #expect(out.docs.map(\.text) == ["fine"])
    #expect(out.rejected.count == 1 && out.rejected[0].1.contains("Permission denied"))
    #expect(throws: DataError.self) { _ = try drain(TextDocumentReader(paths: [dir + "/sub/locked.txt"], split: .file)) }
}
