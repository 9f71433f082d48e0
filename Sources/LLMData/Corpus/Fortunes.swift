// Fortunes: the fortune file format (a line holding only `%` separates quotes) and the default corpus,
// the Debian `fortunes` package under /usr/share/games/fortunes. Quotes keep their inner line breaks;
// the line break before each `%` and blank quotes are dropped. A missing package is a clear error.
import Foundation

/// Reader for fortune files.
public enum Fortunes {
    /// Where Debian's `fortunes` package installs its files.
    public static let defaultDirectory = "/usr/share/games/fortunes"

    /// Splits fortune-file text into quotes.
    ///
    /// ```swift
    /// Fortunes.split("one\n%\ntwo\nlines\n%\n")   // ["one", "two\nlines"]
    /// ```
    public static func split(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        let n = bytes.count
        var docs: [String] = []
        bytes.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            var docStart = 0, lineStart = 0
            func flush(_ end: Int) {
                var e = end
                while e > docStart && (base[e - 1] == 0x0A || base[e - 1] == 0x0D) { e -= 1 }
                let doc = String(decoding: UnsafeBufferPointer(start: base + docStart, count: e - docStart), as: UTF8.self)
                if TextCorpus.hasText(doc) { docs.append(doc) }
            }
            while lineStart < n {
                let nl = memchr(base + lineStart, 0x0A, n - lineStart)
                let lineEnd = nl.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? n
                let len = lineEnd - lineStart
                if base[lineStart] == 0x25 && (len == 1 || (len == 2 && base[lineStart + 1] == 0x0D)) {
                    flush(lineStart)
                    docStart = min(lineEnd + 1, n)
                }
                lineStart = lineEnd + 1
            }
            if docStart < n { flush(n) }
        }
        return docs
    }

    /// Reads every fortune file of `directory` (default: the Debian package's folder).
    ///
    /// ```swift
    /// let text = try Fortunes.corpus().text()
    /// ```
    /// - Throws: ``DataError/corpus(_:)`` telling the user to install `fortunes` when the folder is missing or empty.
    public static func corpus(
        directory: String = defaultDirectory,
        maxBytes: Int = TextCorpus.defaultMaxBytes
    ) throws -> TextCorpus {
        let hint =
            directory == defaultDirectory
            ? "install the Debian package 'fortunes' (apt-get install fortunes) or pass another folder"
            : "pass a folder of fortune files"
        guard CorpusFiles.kind(of: directory) == .directory else {
            throw DataError.corpus("fortunes: no such directory: \(directory); \(hint)")
        }
        do {
            return try TextCorpus(paths: [directory], format: .fortunes, maxBytes: maxBytes)
        } catch DataError.corpus(let m) where m.hasPrefix("corpus: empty") {
            throw DataError.corpus("fortunes: no fortune files in \(directory); \(hint)")
        }
    }
}
