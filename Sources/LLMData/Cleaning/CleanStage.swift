// CleanStage: the option-driven cleaner. `CleanOptions` turns each cleaning function on or off (with
// sensible defaults), `TextCleaner.clean` applies them in a fixed order (HTML -> normalization ->
// controls -> URLs -> emoji -> symbols -> punctuation -> boilerplate -> whitespace), and `CleanStage`
// runs it as a pipeline step that drops documents left empty.

/// Which cleaning steps run, and how.
public struct CleanOptions: Sendable {
    /// Unicode normalization form, or nil for none (default NFC).
    public var normalize: TextClean.Form? = .nfc
    /// Remove control and invisible characters (default true).
    public var removeControl = true
    /// Collapse whitespace (default true); `keepNewlines` keeps line and paragraph structure.
    public var collapseWhitespace = true
    public var keepNewlines = true
    /// Strip HTML tags and decode entities (default false).
    public var stripHTML = false
    /// URL handling: nil keeps URLs, "" removes them, any other string replaces each (default nil).
    public var urlReplacement: String? = nil
    /// Remove emoji and pictographs (default false).
    public var removeEmoji = false
    /// Scalars to remove (default none).
    public var symbols = ""
    /// Squash repeated punctuation to at most this many copies; nil leaves it (default nil).
    public var maxPunctuationRepeat: Int? = nil
    /// Boilerplate line patterns (lowercase substrings); nil turns line removal off (default nil).
    public var boilerplatePatterns: [String]? = nil
    /// With boilerplate removal on, also drop navigation-like lines (default true).
    public var navigationLines = true

    public init() {}
}

/// Applies ``CleanOptions`` to text.
///
/// ```swift
/// var o = CleanOptions(); o.removeEmoji = true; o.stripHTML = true
/// TextCleaner(o).clean("<b>Hi</b> 👋  there")   // "Hi there"
/// ```
public struct TextCleaner: Sendable {
    public let options: CleanOptions

    public init(_ options: CleanOptions = CleanOptions()) { self.options = options }

    /// The cleaned text.
    public func clean(_ text: String) -> String {
        let o = options
        var t = text
        if o.stripHTML { t = TextClean.stripHTML(t) }
        if let f = o.normalize { t = TextClean.normalize(t, form: f) }
        if o.removeControl { t = TextClean.removeControl(t, keepEmojiJoiners: !o.removeEmoji) }
        if let r = o.urlReplacement { t = TextClean.replaceURLs(t, with: r) }
        if o.removeEmoji { t = TextClean.removeEmoji(t) }
        if !o.symbols.isEmpty { t = TextClean.removeSymbols(t, symbols: o.symbols) }
        if let m = o.maxPunctuationRepeat { t = TextClean.squashPunctuation(t, maxRepeat: m) }
        if let p = o.boilerplatePatterns { t = TextClean.removeBoilerplate(t, patterns: p, navigation: o.navigationLines).text }
        if o.collapseWhitespace { t = TextClean.collapseWhitespace(t, keepNewlines: o.keepNewlines) }
        return t
    }
}

/// Pipeline step: cleans each document's text; a document left empty (or only whitespace) is dropped
/// with reason `clean: empty after cleaning`.
public struct CleanStage: DocumentStage {
    public let name: String
    public let cleaner: TextCleaner

    public init(_ options: CleanOptions = CleanOptions(), name: String = "clean") {
        self.cleaner = TextCleaner(options); self.name = name
    }

    public func process(_ doc: Document) throws -> StageOutcome {
        var d = doc
        d.text = cleaner.clean(doc.text)
        guard d.text.unicodeScalars.contains(where: { !Scalars.isSpace($0) && $0 != "\n" }) else {
            return .drop(reason: "\(name): empty after cleaning")
        }
        return .keep(d)
    }
}
