// HTML text extraction and character references against Python's html.parser / html.unescape:
// Tests/Fixtures/html/*.html and reference.json (written by scripts/reference/make_html_fixtures.py,
// which states the comparison rule). Also the generated entity table's size and the block-tag set.
import Foundation
import Testing
@testable import LLMData

/// Tests/Fixtures/html/<name>.
private func htmlFixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("html").appendingPathComponent(name).path
}

private func reference() throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: htmlFixture("reference.json")))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// Escapes control characters so a failing comparison is readable.
private func visible(_ s: String) -> String { s.unicodeScalars.map { $0.value < 0x20 ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined() }

@Test func htmlCorpusMatchesPythonHTMLParser() throws {
    let pages = try #require(try reference()["pages"] as? [[String: String]])
    #expect(pages.count >= 30)
    for page in pages {
        let file = try #require(page["file"]), expected = try #require(page["text"])
        let source = try String(contentsOfFile: htmlFixture(file), encoding: .utf8)
        let got = TextClean.stripHTML(source)
        #expect(got == expected, "\(file): got \(visible(got)) expected \(visible(expected))")
    }
}

@Test func decodeEntitiesMatchesPythonUnescape() throws {
    let cases = try #require(try reference()["unescape"] as? [[String: String]])
    #expect(cases.count >= 20)
    for c in cases {
        let input = try #require(c["input"]), expected = try #require(c["output"])
        let got = TextClean.decodeEntities(input)
        #expect(got == expected, "\(visible(String(input.prefix(80)))): got \(visible(String(got.prefix(200))))")
    }
}

@Test func entityTableAndBlockTagsMatchTheReference() throws {
    #expect(TextClean.namedReferences.count == HTMLEntityTable.nameCount)
    #expect(HTMLEntityTable.nameCount == 2231)
    #expect(TextClean.namedReferences["NotEqualTilde;"] == ["\u{2242}", "\u{338}"])
    #expect(TextClean.longestLegacyName == 6)
    let tags = try #require(try reference()["blockTags"] as? [String])
    #expect(Set(tags) == TextClean.blockTags)
}
