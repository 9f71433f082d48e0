// Corpus reading: fortune splitting (fixture Tests/Fixtures/fortunes-sample), directory order and
// filtering (hidden, .dat, binary, symlinked duplicates), and the error messages for bad input.
import Foundation
import Testing
@testable import LLMData

/// Tests/Fixtures/<name>, found relative to this source file.
func fixturePath(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name).path
}

/// A fresh temporary directory with `files` (relative path -> bytes); removed by the caller.
func makeTree(_ files: [String: [UInt8]]) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llmdata-\(UUID().uuidString)").path
    for (rel, bytes) in files {
        let path = dir + "/" + rel
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
    return dir
}

@Test func fortunesSplitFixture() throws {
    let corpus = try TextCorpus(paths: [fixturePath("fortunes-sample")], format: .fortunes)
    #expect(
        corpus.documents == [
            "A day for firm decisions!!!!!  Or is it?",
            "Two lines:\n\tthe second one indented.",
            "Ünïcödé quote — 世界 👋",
            "The last one has no trailing separator."
        ])
    #expect(corpus.text(separator: "|").hasPrefix("A day for firm decisions!!!!!  Or is it?|Two lines:"))
}

@Test func fortunesSplitEdgeCases() {
    #expect(Fortunes.split("one\n%\ntwo\nlines\n%\n") == ["one", "two\nlines"])
    #expect(Fortunes.split("%\n%\n") == [])
    #expect(Fortunes.split("a\r\n%\r\nb\r\n") == ["a", "b"])
    #expect(Fortunes.split("100% sure\n%\n50%") == ["100% sure", "50%"])  // only a lone % separates
    #expect(Fortunes.split("") == [])
}

@Test func plainFileIsVerbatim() throws {
    let text = try TextCorpus.read([fixturePath("fortunes-sample")])
    #expect(text == (try String(contentsOfFile: fixturePath("fortunes-sample"), encoding: .utf8)))
}

@Test func directoryOrderAndFiltering() throws {
    let dir = try makeTree([
        "b.txt": Array("bee".utf8), "a.txt": Array("ay".utf8), "sub/c.txt": Array("sea".utf8),
        "a.dat": [0, 1, 2], ".hidden": Array("no".utf8), "bin": [0x41, 0x00, 0x42],
        "latin1": [0x63, 0x61, 0x66, 0xE9], "empty.txt": []
    ])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try FileManager.default.createSymbolicLink(atPath: dir + "/z-link.txt", withDestinationPath: dir + "/a.txt")
    let corpus = try TextCorpus(paths: [dir])
    #expect(corpus.documents == ["ay", "bee", "sea"])
    #expect(corpus.files.map { ($0 as NSString).lastPathComponent } == ["a.txt", "b.txt", "c.txt"])
    let reasons = Dictionary(uniqueKeysWithValues: corpus.skipped.map { (($0.path as NSString).lastPathComponent, $0.reason) })
    #expect(reasons["a.dat"] == "fortune index file (.dat)")
    #expect(reasons["bin"] == "binary file (contains NUL bytes)")
    #expect(reasons["latin1"] == "binary file (not valid UTF-8)")
    #expect(reasons["empty.txt"] == "no text")
    #expect(try TextCorpus.read([dir + "/b.txt", dir + "/a.txt"], separator: "+") == "bee+ay")  // given order kept
}

@Test func corpusErrors() throws {
    #expect(throws: DataError.corpus("corpus: no such file or directory: /x/none")) {
        try TextCorpus(paths: ["/x/none"])
    }
    let dir = try makeTree(["empty.txt": [], "blank.txt": Array("  \n\n".utf8), "bin": [0, 1], "big.txt": Array(repeating: 0x61, count: 100)])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    #expect(throws: DataError.corpus("corpus: empty file: \(dir)/empty.txt")) { try TextCorpus(paths: [dir + "/empty.txt"]) }
    #expect(throws: DataError.corpus("corpus: not a text file: \(dir)/bin (binary file (contains NUL bytes))")) {
        try TextCorpus(paths: [dir + "/bin"])
    }
    #expect(throws: DataError.corpus("corpus: too large: more than maxBytes = 10 bytes (reached at \(dir)/big.txt); raise maxBytes")) {
        try TextCorpus(paths: [dir + "/big.txt"], maxBytes: 10)
    }
    #expect(try TextCorpus(paths: [dir + "/big.txt"], maxBytes: 100).documents[0].utf8.count == 100)  // exactly at the limit
    #expect(try TextCorpus(paths: [dir + "/big.txt"], maxBytes: .max).documents.count == 1)
    let emptyDir = try makeTree(["a": [], "b": Array(" ".utf8)])
    defer { try? FileManager.default.removeItem(atPath: emptyDir) }
    #expect(throws: DataError.corpus("corpus: empty: no text found in \(emptyDir)")) { try TextCorpus(paths: [emptyDir]) }
    #expect(throws: DataError.self) { try TextCorpus(paths: []) }
    #expect(throws: DataError.self) { try CorpusFormat.parse("csv") }
    #expect(throws: DataError.corpus("fortunes: no such directory: /x/none; pass a folder of fortune files")) {
        try Fortunes.corpus(directory: "/x/none")
    }
}

@Test func unreadableFile() throws {
    guard getuid() != 0 else { return }  // root reads everything
    let dir = try makeTree(["secret.txt": Array("hidden".utf8)])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    chmod(dir + "/secret.txt", 0)
    #expect(throws: DataError.corpus("corpus: cannot read \(dir)/secret.txt: Permission denied")) {
        try TextCorpus(paths: [dir + "/secret.txt"])
    }
}

@Test func defaultFortunesCorpus() throws {
    guard CorpusFiles.kind(of: Fortunes.defaultDirectory) == .directory else { return }  // package not installed
    let corpus = try Fortunes.corpus()
    #expect(corpus.documents.count > 1000)
    #expect(!corpus.files.contains { $0.hasSuffix(".dat") || $0.hasSuffix(".u8") })  // .u8 links are duplicates
}
