// Split: a train/validation split of a 1-D token tensor. Like nanoGPT, the split is contiguous: the
// first (1 - valFraction) of the tokens train, the rest validate (so no window straddles both and the
// validation text is unseen prose, not shuffled fragments). The parts are views of the same storage.
import LLMCore

/// Train/validation splitting of token ids.
public enum DataSplit {
    /// Splits `tokens` at `round(n * (1 - valFraction))`.
    ///
    /// ```swift
    /// let (train, val) = try DataSplit.split(ids, valFraction: 0.1)   // 90% / 10%
    /// ```
    /// - Throws: ``DataError/batch(_:)`` when `tokens` is not 1-D integer ids or `valFraction` is outside [0, 1).
    public static func split(_ tokens: Tensor, valFraction: Double) throws -> (train: Tensor, val: Tensor) {
        guard valFraction >= 0 && valFraction < 1 else {
            throw DataError.batch("Invalid 'valFraction': expected a number in [0, 1), got \(valFraction)")
        }
        let src = try TokenSource(tokens, what: "split").tokens
        let n = src.count
        let nVal = min(n, Int((Double(n) * valFraction).rounded()))
        let nTrain = n - nVal
        guard nTrain > 0 else { throw DataError.batch("split: no tokens left for training (\(n) tokens)") }
        let train = src.view(shape: [nTrain], strides: [1], offset: src.offset)
        let val = src.view(shape: [nVal], strides: [1], offset: src.offset + nTrain)
        return (train, val)
    }
}
