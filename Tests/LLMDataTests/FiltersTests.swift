// Filters: CJK-aware word segmentation, Gopher quality and repetition (each heuristic's reason), C4 line
// rules, length bounds, script proportions and the bad-words list — with English, Chinese and emoji texts.
import Testing
@testable import LLMData

private let english =
    String(repeating: "The quick brown fox jumps over the lazy dog and then it runs to the forest with a friend. ", count: 1)
    + "Many people have said that the weather of this town is nice, and that the food is good to eat with friends. "
    + "We went there in summer with our family and we stayed for two weeks because everything was lovely and quiet."
private let chinese = "今天天气很好，我们一起去公园散步。公园里有很多人在跑步和打球，孩子们在草地上玩耍。我觉得这是一个非常美好的周末，也希望下周还能再来这里。"

@Test func wordSplit() {
    #expect(WordSplit("我爱 NLP! 你好。").strings == ["我", "爱", "NLP!", "你", "好", "。"])
    #expect(WordSplit("  a  b\nc ").strings == ["a", "b", "c"])
    #expect(WordSplit("hi 👋🏽 there").strings == ["hi", "👋🏽", "there"])
    #expect(WordSplit("").words.isEmpty)
}

@Test func gopherQuality() {
    let g = GopherQuality()
    #expect(g.check(english) == nil)
    #expect(g.check(chinese) == nil)
    #expect(g.check("a b c d e f g h") == "gopher_quality: word count 8 < 50")
    let short = Array(repeating: "it is an ok to be on", count: 10).joined(separator: " ")
    #expect(g.check(short)?.hasPrefix("gopher_quality: mean word length 2 < 3") == true)
    let hashes = english + String(repeating: " #tag", count: 20)
    #expect(g.check(hashes)?.hasPrefix("gopher_quality: hash/word ratio") == true)
    let noStop = Array(repeating: "quantum chromodynamics describes strong interactions", count: 12).joined(separator: " ")
    #expect(g.check(noStop) == "gopher_quality: stop words 0 < 2")
    let bullets = (1...60).map { "- item number \($0) with the words" }.joined(separator: "\n")
    #expect(g.check(bullets)?.hasPrefix("gopher_quality: bullet lines ratio 1") == true)
    let emoji = english + String(repeating: " 😀", count: 40)
    #expect(g.check(emoji)?.hasPrefix("gopher_quality: alphabetic words ratio") == true)
}

@Test func gopherRepetition() {
    let r = GopherRepetition()
    #expect(r.check(english) == nil)
    #expect(r.check(chinese) == nil)
    let lines = Array(repeating: "the same line again", count: 5).joined(separator: "\n") + "\nother\nmore"
    #expect(r.check(lines)?.hasPrefix("gopher_repetition: duplicate line fraction 0.571") == true)
    let paras = "one para here\n\none para here\n\ntwo\n\nthree"
    #expect(r.check(paras)?.hasPrefix("gopher_repetition: duplicate paragraph") == true)
    let ngram = english + " " + String(repeating: "buy now ", count: 30)
    #expect(r.check(ngram)?.hasPrefix("gopher_repetition: top 2-gram char fraction") == true)
    let zh = chinese + String(repeating: "买买买买买", count: 20)
    #expect(r.check(zh)?.hasPrefix("gopher_repetition:") == true)
}

@Test func c4Rules() throws {
    let text =
        "This is a sentence that ends well.\nnav link\nAnother good line of text here! [1]\nUse javascript to view this.\nThird fine line is right here.\nWe use cookies on this site."
    #expect(try C4Filter().apply(text).get() == "This is a sentence that ends well.\nAnother good line of text here!\nThird fine line is right here.")
    #expect(throws: C4Drop.self) { try C4Filter().apply("lorem ipsum dolor sit amet.\nA b c d.\nE f g h.").get() }
    if case .failure(let e) = C4Filter().apply("Only one good sentence here.") { #expect(e.description == "c4: too few sentences 1 < 3") }
    if case .failure(let e) = C4Filter().apply("a b { c }.\nA b c d.\nE f g h.") { #expect(e.description == "c4: curly bracket") }
    #expect(try C4Filter().apply("今天天气很好。\n我们去公园散步！\n你来吗？\n导航").get() == "今天天气很好。\n我们去公园散步！\n你来吗？")
}

@Test func lengthScriptBadWords() {
    var l = LengthFilter(); l.minChars = 5; l.maxWords = 3
    #expect(l.check("abc") == "length: 3 chars < 5")
    #expect(l.check("中文很好吗") == "length: 5 words > 3")
    #expect(l.check("ok ok") == nil)
    let p = ScriptFilter.proportions("abc 中文")
    #expect(abs(p[.latin]! - 0.6) < 1e-9 && abs(p[.cjk]! - 0.4) < 1e-9)
    #expect(ScriptFilter().check("Привет мир hello") == "script: latin 0.357 < 0.5 (mostly cyrillic 0.643)")
    var s = ScriptFilter(); s.allowed = [.cjk]
    #expect(s.check(chinese) == nil && s.check(english) != nil)
    #expect(ScriptFilter().check("😀 123 !!!") == nil)
    let b = BadWordsFilter(words: ["damn", "坏话", "bad phrase"])
    #expect(b.hits("Damn, this is 坏话 and damned; a BAD PHRASE.") == 3)
    #expect(b.check("clean text") == nil && b.check("(damn)") == "bad_words: 1 hits > 0")
}

@Test func filterStages() throws {
    let stage = FilterStage.gopherQuality()
    if case .drop(let r) = try stage.process(Document(text: "too short", id: "x")) { #expect(r == "gopher_quality: word count 2 < 50") } else { Issue.record("kept") }
    if case .keep(let d) = try C4Stage().process(Document(text: "One fine line.\nTwo fine lines!\nThree lines now.\nbad", id: "y")) {
        #expect(d.text == "One fine line.\nTwo fine lines!\nThree lines now.")
    } else {
        Issue.record("dropped")
    }
}
