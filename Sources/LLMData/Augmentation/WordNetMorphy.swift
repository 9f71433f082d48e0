// WordNetMorphy: base forms of an inflected word, as WordNet's morphy(7WN) finds them (and as NLTK's
// `_morphy` does): the exception list first (`geese` -> `goose`, `bigger` -> `big`, then the word itself when
// it is a lemma too), else the word itself and the detachment rules applied once, keeping the forms the
// index knows; when none is known, the rules are applied again to the candidates (a few rounds at most).

extension WordNet {
    /// Detachment rules per POS: (suffix, replacement), in WordNet's order.
    static let substitutions: [WordNetPOS: [(String, String)]] = [
        .noun: [
            ("s", ""), ("ses", "s"), ("ves", "f"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
            ("men", "man"), ("ies", "y")
        ],
        .verb: [("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "")],
        .adj: [("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
        .adv: []
    ]

    /// Every base form of `word` in `pos` that the database knows (empty when none), best first.
    ///
    /// ```swift
    /// wn.baseForms("geese", pos: .noun)   // ["goose"]
    /// ```
    public func baseForms(_ word: String, pos: WordNetPOS) -> [String] {
        let form = WordNet.key(word)
        guard !form.isEmpty else { return [] }
        func known(_ forms: [String]) -> [String] {
            var out: [String] = [], seen = Set<String>()
            for f in forms where !f.isEmpty && hasLemma(f, pos) && seen.insert(f).inserted { out.append(f) }
            return out
        }
        if let exc = exceptions[pos]?[form] { return known(exc + [form]) }  // the listed base forms first, as morphy(7WN)
        let rules = WordNet.substitutions[pos] ?? []
        func apply(_ forms: [String]) -> [String] {
            var out: [String] = []
            for f in forms {
                for (old, new) in rules where f.hasSuffix(old) && f.count > old.count { out.append(String(f.dropLast(old.count)) + new) }
            }
            return out
        }
        var forms = apply([form])
        let first = known([form] + forms)
        if !first.isEmpty { return first }
        var rounds = 0
        while !forms.isEmpty && rounds < 3 {
            forms = apply(forms)
            let found = known(forms)
            if !found.isEmpty { return found }
            rounds += 1
        }
        return []
    }

    /// The first base form of `word` in `pos` (nil when the database knows none).
    ///
    /// ```swift
    /// wn.morphy("ran", pos: .verb)   // "run"
    /// ```
    public func morphy(_ word: String, pos: WordNetPOS) -> String? { baseForms(word, pos: pos).first }

    /// The first base form in any POS (noun, verb, adj, adv order).
    public func morphy(_ word: String) -> String? {
        for p in WordNetPOS.allCases { if let f = morphy(word, pos: p) { return f } }
        return nil
    }
}
