#!/usr/bin/env python3
"""Reference text of the HTML corpus Tests/Fixtures/html/*.html, from Python's html.parser (stdlib only).

Writes Tests/Fixtures/html/reference.json:
  python       the Python version that produced it
  blockTags    the tags whose start, end or self-closing form becomes "\\n" (llmscript's
               TextClean.blockTags must be the same set; the Swift test checks it)
  pages        [{"file", "text"}] the text of each page (the comparison rule below)
  unescape     [{"input", "output"}] html.unescape on tricky strings, on every HTML5 name (with and
               without a following letter) and on the numeric references 0..0x2FF plus edge values

The text of a page (what llm.data.clean.stripHTML must return, byte for byte): html.parser with
convert_charrefs=True fed the whole page, then the concatenation, in document order, of
  - every handle_data chunk (character references already decoded by html.unescape), except inside
    <script> and <style> (their raw text is dropped);
  - "\\n" for each start tag, end tag or self-closing tag (`<br/>`: one "\\n", not two) in blockTags;
  - nothing for other tags, comments, doctype/declarations, processing instructions, CDATA sections.

The corpus keeps to inputs where Python 3.11's html.parser agrees with the HTML5 tokenizer, which
llmscript follows. Where they differ, llmscript follows HTML5 and Tests/LLMDataTests/CleaningTests.swift
states the expected text directly: an unclosed tag, comment or quoted value cut off by the end of input
(html.parser keeps it as text, HTML5 drops it); `<!-->` and `<!--->` (empty comments in HTML5); `--!>`
closing a comment; `</p attr=">">` (html.parser ends the end tag at the first `>`); `<script/>` (raw
text in HTML5); `</script x>` and `</ script>` (html.parser needs `</script\\s*>`). Python 3.13+ changed
several of these towards HTML5, so regenerate with the Python recorded in the fixture when comparing.

Run: python3 scripts/reference/make_html_fixtures.py   (output is deterministic)
"""
import html
import html.entities
import json
import os
import sys
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "Tests", "Fixtures", "html")

BLOCK_TAGS = sorted([
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
    "table", "td", "th", "title", "tr", "ul",
])
RAW_TEXT = ("script", "style")


class TextExtractor(HTMLParser):
    """The comparison rule above."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = []
        self.raw = None

    def handle_starttag(self, tag, attrs):
        if tag in BLOCK_TAGS:
            self.out.append("\n")
        if tag in RAW_TEXT:
            self.raw = tag

    def handle_startendtag(self, tag, attrs):
        if tag in BLOCK_TAGS:
            self.out.append("\n")

    def handle_endtag(self, tag):
        if tag in BLOCK_TAGS:
            self.out.append("\n")
        if tag == self.raw:
            self.raw = None

    def handle_data(self, data):
        if self.raw is None:
            self.out.append(data)


def page_text(source):
    p = TextExtractor()
    p.feed(source)
    p.close()
    return "".join(p.out)


def unescape_cases():
    tricky = [
        "&amp; &amp &AMP; &AMP &Amp;", "&notit; &notin; &not &noti", "&ampx &ampamp; &amp;amp;",
        "&eacute &eacutex &Eacute; &EACUTE;", "&frac12; &frac12x &frac1", "&#65 &#x41 &#X41; &#0065; &#x;",
        "&# &#; &#a; &#x-1;", "& &; &&; &&&amp;", "&" + "a" * 40 + ";", "&amp" + "b" * 40,
        "&NotEqualTilde; &fjlig; &bne; &nvlt; &ThickSpace;", "&CounterClockwiseContourIntegral;",
        "&#99999999999999999999; &#x110000; &#x10FFFF; &#xFFFF; &#xFDD0; &#x1FFFE;",
        "&#xD800; &#xDFFF; &#x0; &#0; &#13; &#x0D; &#10; &#9; &#11; &#127; &#128; &#159; &#160;",
        "tab&\tx &\nx &\fx & x &<x", "caf\u00e9&eacute;\u4e2d&#x4E2D;\U0001F600&#x1F600;", "&ampé &lté",
    ]
    names = sorted(html.entities.html5)
    every = " ".join("&" + n for n in names)
    every_plus = " ".join("&" + n + "q" for n in names if not n.endswith(";"))
    numeric = "".join(f"&#{v};" for v in range(0x300)) + "&#x" + ";&#x".join(
        f"{v:X}" for v in (0xFFFD, 0xFEFF, 0x1F600, 0xE000, 0xF8FF, 0x10FFFD, 0x2028)) + ";"
    return [{"input": s, "output": html.unescape(s)} for s in tricky + [every, every_plus, numeric]]


def main():
    pages = []
    for name in sorted(os.listdir(CORPUS)):
        if name.endswith(".html"):
            with open(os.path.join(CORPUS, name), encoding="utf-8") as f:
                pages.append({"file": name, "text": page_text(f.read())})
    doc = {"python": sys.version.split()[0], "blockTags": BLOCK_TAGS, "pages": pages, "unescape": unescape_cases()}
    out = os.path.join(CORPUS, "reference.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {out}: {len(pages)} pages, {len(doc['unescape'])} unescape cases")


if __name__ == "__main__":
    main()
