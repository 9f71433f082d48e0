// Cleaning: each cleaning function on English, Chinese and emoji text (normalization, controls, emoji
// sequences, HTML/entities, URLs, symbols, punctuation, whitespace, boilerplate), and the CleanStage
// options and its empty-document drop.
import Testing
@testable import LLMData

@Test func normalizeForms() {
    #expect(TextClean.normalize("ｆｕｌｌ①", form: .nfkc) == "full1")
    #expect(TextClean.normalize("e\u{301}", form: .nfc).unicodeScalars.count == 1)
    #expect(TextClean.normalize("ｆｕｌｌ", form: .nfc) == "ｆｕｌｌ")
    #expect(TextClean.normalize("中文，全角！", form: .nfkc) == "中文,全角!")
    #expect(TextClean.normalize("plain", form: .nfkc) == "plain")
}

@Test func controlAndInvisible() {
    #expect(TextClean.removeControl("a\u{200B}b\u{FEFF}\u{7}c\r\nd\re\tf") == "abc\nd\ne\tf")
    #expect(TextClean.removeControl("中\u{200E}文\u{AD}") == "中文")
    // a ZWJ inside an emoji sequence survives control removal (emoji removal is separate)
    #expect(TextClean.removeControl("👨\u{200D}👩") == "👨\u{200D}👩")
}

@Test func emojiRemoval() {
    #expect(TextClean.removeEmoji("hi 👋🏽 there") == "hi  there")
    #expect(TextClean.removeEmoji("family 👨‍👩‍👧 flag 🇨🇳 keycap 1️⃣ heart ❤️ ok ✔️") == "family  flag  keycap  heart  ok ")
    #expect(TextClean.removeEmoji("#1 * 2024 © → ★ 好的") == "#1 * 2024 © → ★ 好的")
    #expect(TextClean.removeEmoji("我爱你😀！") == "我爱你！")
}

@Test func htmlAndEntities() {
    #expect(
        TextClean.stripHTML("<p>Hi&nbsp;<b>there</b></p><script>x()<b></script>a < b &amp; c")
            == "\nHi\u{A0}there\na < b & c")
    #expect(TextClean.stripHTML("<div>你好<!-- note --></div><style>p{}</style>世界") == "\n你好\n世界")
    #expect(TextClean.decodeEntities("&#x1F600; &#169; &lt;x&gt; &unknown; &") == "😀 © <x> &unknown; &")
    #expect(TextClean.stripHTML("<p title=\"a>b\" data-x='<i>'>x</p>") == "\nx\n")
}

/// Where Python 3.11's html.parser departs from the HTML5 tokenizer, stripHTML follows HTML5 (see
/// scripts/reference/make_html_fixtures.py); the corpus comparison is in HTMLReferenceTests.swift.
@Test func htmlFollowsHTML5WhereHTMLParserDiffers() {
    #expect(TextClean.stripHTML("unterminated <b") == "unterminated ")  // EOF in tag: dropped
    #expect(TextClean.stripHTML("x <p title='a>b") == "x ")  // EOF in quoted value
    #expect(TextClean.stripHTML("a <!-- never closed <p>") == "a ")  // EOF in comment
    #expect(TextClean.stripHTML("x<!-->y<!--->z<!-- c --!>w") == "xyzw")  // abrupt and --!> ends
    #expect(TextClean.stripHTML("</p foo=\">\">t") == "\nt")  // end tags parse attributes
    #expect(TextClean.stripHTML("<script/>hidden</script>shown") == "shown")  // self-closing script is raw text
    #expect(TextClean.stripHTML("<script>a</script x=1>b<style>c</ style>d</style  >e") == "be")
    #expect(TextClean.stripHTML("<script>never closed <p>text") == "")
    #expect(TextClean.stripHTML("<b>a</") == "a</")  // `</` and `<` at EOF are text
    #expect(TextClean.stripHTML("<b>a<") == "a<")
    #expect(TextClean.stripHTML("<é>x<1>") == "<é>x<1>")  // a tag name starts with an ASCII letter
    #expect(TextClean.stripHTML("<" + String(repeating: "abc", count: 20) + " x='>'>y</p\t>") == "y\n")  // overlong name
    #expect(TextClean.stripHTML("&am<b>p;</b>") == "&amp;")  // references never span tags
}

/// Hostile inputs stay linear: long runs of `<`, unterminated constructs and `&` never rescan.
@Test func htmlScannerIsLinearOnHostileInput() {
    let n = 200_000
    #expect(TextClean.stripHTML(String(repeating: "<a", count: n)) == "")
    #expect(TextClean.stripHTML(String(repeating: "<", count: n)) == String(repeating: "<", count: n))
    #expect(TextClean.stripHTML(String(repeating: "<!--", count: n)) == "")
    #expect(TextClean.stripHTML("<script>" + String(repeating: "</scrip", count: n)) == "")
    #expect(TextClean.decodeEntities(String(repeating: "&amp", count: n)) == String(repeating: "&", count: n))
    #expect(TextClean.decodeEntities(String(repeating: "&" + String(repeating: "z", count: 40), count: 5000)).utf8.count == 41 * 5000)
}

@Test func urls() {
    #expect(TextClean.replaceURLs("see https://x.org/a?b=1. ok", with: "<URL>") == "see <URL>. ok")
    #expect(TextClean.replaceURLs("visit www.foo.com/x, now") == "visit , now")
    #expect(TextClean.replaceURLs("访问http://a.cn/b页面", with: "<URL>") == "访问<URL>页面")
    #expect(TextClean.replaceURLs("awww.nope and http:/broken") == "awww.nope and http:/broken")
}

@Test func symbolsPunctuationWhitespace() {
    #expect(TextClean.removeSymbols("★ top ■ 中", symbols: "★■") == " top  中")
    #expect(TextClean.squashPunctuation("wow!!!!! ok..... 什么？？？ fine") == "wow! ok... 什么？ fine")
    #expect(TextClean.squashPunctuation("a!!!b", maxRepeat: 2) == "a!!b")
    #expect(TextClean.collapseWhitespace("  a \t b\n\n\n\nc  \u{3000}d ") == "a b\n\nc d")
    #expect(TextClean.collapseWhitespace("a\n\nb c", keepNewlines: false) == "a b c")
}

@Test func boilerplateLines() {
    let (t, n) = TextClean.removeBoilerplate("Home | About | Blog\nReal text.\n© 2024 All rights reserved.\n本网站版权所有\n正文内容。")
    #expect(t == "Real text.\n正文内容。" && n == 3)
    #expect(TextClean.removeBoilerplate("yes | no", patterns: []).removed == 0)
    #expect(TextClean.removeBoilerplate("Breadcrumb > Shoes > Red ones\nx", patterns: ["nothing"]).text == "x")
}

@Test func cleanStage() throws {
    var o = CleanOptions()
    o.stripHTML = true; o.removeEmoji = true; o.urlReplacement = "<URL>"; o.maxPunctuationRepeat = 1
    o.boilerplatePatterns = TextClean.defaultBoilerplatePatterns
    let stage = CleanStage(o)
    guard case .keep(let d) = try stage.process(Document(text: "<b>Hi</b> 👋  there!!! see http://x.y\nWe use cookies.", id: "1")) else {
        Issue.record("dropped"); return
    }
    #expect(d.text == "Hi there! see <URL>" && d.id == "1")
    guard case .drop(let reason) = try stage.process(Document(text: "😀 \u{200B} 🎉", id: "2")) else { Issue.record("kept"); return }
    #expect(reason == "clean: empty after cleaning")
    #expect(TextCleaner().clean("  ｆｕｌｌ\u{200B}  中文  ") == "ｆｕｌｌ 中文")
}
