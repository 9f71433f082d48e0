// Format: PyTorch-style printing. Values share one format per tensor (integers as "1.", fixed 4 decimals,
// or scientific when the range demands); tensors over 1000 elements show the first and last 3 entries
// of each dim around "..." and their shape, so printing is bounded.
import Foundation

extension Tensor: CustomStringConvertible {
    /// Readable, bounded text: `tensor([[1., 2.], [3., 4.]])`, plus dtype/shape/grad notes.
    public var description: String {
        let summarize = count > 1000
        let edge = 3
        let sample = sampleValues(summarize: summarize, edge: edge)
        let fmt = NumberFormat(sample, floating: dtype.isFloatingPoint)
        var body = ""
        let indent = String(repeating: " ", count: "tensor(".count)
        func render(_ dim: Int, _ base: Int) -> String {
            if rank == 0 { return fmt.string(value(at: offset)) }
            let n = shape[dim]
            var idx: [Int?] = []
            if summarize && n > 2 * edge { idx = Array(0..<edge).map { $0 } + [nil] + Array((n - edge)..<n).map { $0 } } else { idx = Array(0..<n).map { $0 } }
            if dim == rank - 1 {
                let items = idx.map { i in i.map { fmt.string(value(at: base + $0 * strides[dim])) } ?? "..." }
                return "[" + items.joined(separator: ", ") + "]"
            }
            let sep = "," + String(repeating: "\n", count: rank - dim - 1) + indent + String(repeating: " ", count: dim + 1)
            let items = idx.map { i in i.map { render(dim + 1, base + $0 * strides[dim]) } ?? "..." }
            return "[" + items.joined(separator: sep) + "]"
        }
        body = shape.contains(0) ? "[]" : render(0, offset)
        var notes: [String] = []
        if summarize || shape.contains(0) { notes.append("shape=\(shapeString(shape))") }
        if dtype != .float32 { notes.append("dtype=\(dtype.rawValue)") }
        if let n = gradNode { notes.append("gradFn=\(n.op.kind.rawValue)") } else if requiresGrad { notes.append("requiresGrad=true") }
        return "tensor(" + body + notes.map { ", " + $0 }.joined() + ")"
    }

    /// An element for printing: exact integers for integer dtypes.
    private func value(at o: Int) -> PrintedValue {
        dtype.isFloatingPoint ? .real(load(at: o)) : .integer(loadInteger(at: o))
    }

    /// The values that will be printed (for choosing a common format).
    private func sampleValues(summarize: Bool, edge: Int) -> [Double] {
        if !summarize { return toDoubles() }
        var out: [Double] = []
        var coords = [Int](repeating: 0, count: rank)
        func visit(_ dim: Int) {
            if dim == rank {
                var o = offset
                for a in 0..<rank { o += coords[a] * strides[a] }
                out.append(load(at: o)); return
            }
            let n = shape[dim]
            let idx = n > 2 * edge ? Array(0..<edge) + Array((n - edge)..<n) : Array(0..<n)
            for i in idx { coords[dim] = i; visit(dim + 1) }
        }
        visit(0)
        return out
    }
}

/// A printed element: exact integers stay integers.
enum PrintedValue { case real(Double), integer(Int64) }

/// One number format shared by all printed elements of a tensor.
struct NumberFormat {
    enum Style { case integer, fixed, scientific, intType }
    let style: Style
    let width: Int

    init(_ values: [Double], floating: Bool) {
        let finite = values.filter { $0.isFinite }
        if !floating {
            style = .intType
        } else if finite.allSatisfy({ $0 == $0.rounded() && Swift.abs($0) < 1e8 }) {
            style = .integer
        } else {
            let nz = finite.map { Swift.abs($0) }.filter { $0 > 0 }
            let maxA = nz.max() ?? 0, minA = nz.min() ?? 0
            style = (maxA >= 1e8 || (minA > 0 && minA < 1e-4) || (minA > 0 && maxA / minA > 1e3 && maxA >= 1e3)) ? .scientific : .fixed
        }
        var w = 0
        let s0 = style
        for v in values { w = Swift.max(w, NumberFormat.raw(v, s0).count) }
        width = w
    }

    func string(_ v: PrintedValue) -> String {
        switch v {
        case .real(let d): return string(d)
        case .integer(let i):
            let s = String(i)
            return String(repeating: " ", count: Swift.max(0, width - s.count)) + s
        }
    }

    static func raw(_ v: Double, _ style: Style) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        switch style {
        case .intType: return String(format: "%.0f", v)
        case .integer: return String(format: "%.0f", v) + "."
        case .fixed: return String(format: "%.4f", v)
        case .scientific: return String(format: "%.4e", v)
        }
    }

    func string(_ v: Double) -> String {
        let s = NumberFormat.raw(v, style)
        return String(repeating: " ", count: Swift.max(0, width - s.count)) + s
    }
}
