// WordNet: a reader of the WordNet 3.0 database (Debian `wordnet-base`): synsets of a lemma per part of
// speech, base forms through the exception lists and the detachment rules (WordNetMorphy.swift), and
// synonyms of a word (the other lemmas of its synsets, '_' read as a space, the word itself excluded).
// Opened databases are cached per folder and immutable, so one instance serves every thread.
import Foundation
import LLMIO
import LLMCore
import Synchronization

/// A part of speech as WordNet files it.
public enum WordNetPOS: String, Sendable, CaseIterable {
    case noun, verb, adj, adv

    /// Parses `noun|n`, `verb|v`, `adj|a|s|adjective`, `adv|r|adverb`.
    public static func parse(_ s: String) -> WordNetPOS? {
        switch s.lowercased() {
        case "noun", "n": return .noun
        case "verb", "v": return .verb
        case "adj", "a", "s", "adjective": return .adj
        case "adv", "r", "adverb": return .adv
        default: return nil
        }
    }
}

/// One synset: its byte offset in the POS's data file, its type letter (`n v a s r`), lemmas, gloss.
public struct WordNetSynset: Sendable, Equatable {
    /// Byte offset in `data.<pos>` (the synset's id within its POS, e.g. 2958343 for car.n.01).
    public let offset: Int
    /// `n`, `v`, `a`, `s` (adjective satellite) or `r`.
    public let type: Character
    /// Lemmas as stored (`motor_vehicle`: '_' joins words).
    public let lemmas: [String]
    /// Definition and examples.
    public let gloss: String
}

/// A WordNet failure: the database is missing or unreadable.
public struct WordNetError: UserFacingError, Equatable {
    public let description: String
}

/// The WordNet database of one folder.
///
/// ```swift
/// let wn = try WordNet.open()
/// wn.synonyms(of: "car", pos: .noun)   // ["auto", "automobile", "machine", "motorcar", "railcar", ...]
/// wn.morphy("geese", pos: .noun)       // "goose"
/// ```
public final class WordNet: Sendable {
    /// The folder the database was read from.
    public let directory: String
    let files: [WordNetPOS: WordNetPosFiles]
    let exceptions: [WordNetPOS: [String: [String]]]

    private static let cache = Mutex<[String: WordNet]>([:])

    /// The default folder: `$WNSEARCHDIR` when set, else `/usr/share/wordnet` (Debian `wordnet-base`).
    public static var defaultDirectory: String {
        ProcessInfo.processInfo.environment["WNSEARCHDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/share/wordnet"
    }

    /// Opens (or returns the cached) database in `directory` (default ``defaultDirectory``).
    /// - Throws: ``WordNetError`` naming the missing file and the package to install.
    public static func open(directory: String? = nil) throws -> WordNet {
        let dir = directory ?? defaultDirectory
        if let wn = cache.withLock({ $0[dir] }) { return wn }
        let wn = try WordNet(directory: dir)
        return cache.withLock { c in
            if let known = c[dir] { return known }
            c[dir] = wn
            return wn
        }
    }

    /// True when a database can be found in `directory` (default ``defaultDirectory``).
    public static func isAvailable(directory: String? = nil) -> Bool {
        Files.isRegularFile((directory ?? defaultDirectory) + "/index.noun")
    }

    /// Reads the database in `directory` (use ``open(directory:)`` to share one instance).
    public init(directory: String) throws {
        self.directory = directory
        func read(_ name: String, required: Bool) throws -> [UInt8] {
            let path = directory + "/" + name
            let bytes: [UInt8]
            do { bytes = try Files.readAll(path, maxBytes: 1 << 30, what: "wordnet") } catch let e as FileError {
                if e.denied { throw WordNetError(description: e.message) }  // the sandbox's denial, unchanged
                if !required { return [] }
                let what = Files.exists(path) ? "cannot read" : "not found"
                throw WordNetError(
                    description: "wordnet: database file \(what): \(path); install the Debian package "
                        + "'wordnet-base' (scripts/setup.sh does) or set WNSEARCHDIR to a WordNet 3.0 'dict' folder")
            }
            return bytes
        }
        var files: [WordNetPOS: WordNetPosFiles] = [:]
        var exc: [WordNetPOS: [String: [String]]] = [:]
        for pos in WordNetPOS.allCases {
            files[pos] = WordNetPosFiles(
                index: try read("index.\(pos.rawValue)", required: true),
                data: try read("data.\(pos.rawValue)", required: true))
            exc[pos] = parseWordNetExceptions(try read("\(pos.rawValue).exc", required: false))
        }
        self.files = files
        self.exceptions = exc
    }

    /// The lookup key of a word: lowercased, spaces as '_'.
    static func key(_ word: String) -> String {
        word.lowercased().split(separator: " ", omittingEmptySubsequences: true).joined(separator: "_")
    }

    /// True when `lemma` (already a key) has an entry in `pos`'s index.
    func hasLemma(_ lemma: String, _ pos: WordNetPOS) -> Bool {
        files[pos]?.indexLine(Array(lemma.utf8)) != nil
    }

    /// The synsets of `word` (its base forms through ``baseForms(_:pos:)``) in one POS or in all of them
    /// (noun, verb, adj, adv order; sense order within each).
    public func synsets(_ word: String, pos: WordNetPOS? = nil) -> [WordNetSynset] {
        var out: [WordNetSynset] = []
        var seen = Set<String>()
        for p in pos.map({ [$0] }) ?? WordNetPOS.allCases {
            guard let f = files[p] else { continue }
            for form in baseForms(word, pos: p) {
                for off in f.offsets(Array(form.utf8)) where seen.insert("\(p.rawValue)\(off)").inserted {
                    if let s = f.synset(at: off) { out.append(s) }
                }
            }
        }
        return out
    }

    /// The synset at `offset` of `pos`'s data file, if there is one.
    public func synset(offset: Int, pos: WordNetPOS) -> WordNetSynset? { files[pos]?.synset(at: offset) }

    /// Synonyms of `word`: the lemmas of its synsets ('_' as a space), in sense order, without
    /// duplicates and without the word itself or its base forms (compared case-insensitively).
    public func synonyms(of word: String, pos: WordNetPOS? = nil) -> [String] {
        let own = Set([WordNet.key(word)] + (pos.map { [$0] } ?? WordNetPOS.allCases).flatMap { baseForms(word, pos: $0) })
        var out: [String] = []
        var seen = own
        for s in synsets(word, pos: pos) {
            for l in s.lemmas where seen.insert(l.lowercased()).inserted {
                out.append(l.replacingOccurrences(of: "_", with: " "))
            }
        }
        return out
    }
}
