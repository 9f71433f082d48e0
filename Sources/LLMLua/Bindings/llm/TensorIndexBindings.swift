// Index bindings: indexSelect, gather, scatterAdd, embedding, oneHot, tril/triu. Dims are 1-based;
// index *tensors* hold 0-based ids (like token ids and every file format), as argmax returns them.
import CLua
import CLuaShim
import LLMCore

enum TensorIndexBindings {
    static let methods: [LuaBinding] = [
        LuaBinding("indexSelect", "t:indexSelect(dim: int, index: Tensor) -> Tensor", "Slices along dim picked by a 1-D tensor of 0-based indices.") { a in
            let t = try a.tensor(1)
            a.push(try t.indexSelect(a.dim(2, rank: t.rank), a.tensor(3))); return 1
        },
        LuaBinding("gather", "t:gather(dim: int, index: Tensor) -> Tensor", "Values picked along dim by 0-based indices (out has the index's shape).") { a in
            let t = try a.tensor(1)
            a.push(try t.gather(a.dim(2, rank: t.rank), index: a.tensor(3))); return 1
        },
        LuaBinding("scatterAdd", "t:scatterAdd(dim: int, index: Tensor, source: Tensor) -> Tensor", "A copy of t with source added at the 0-based indices along dim.") { a in
            let t = try a.tensor(1)
            a.push(try t.scatterAdd(a.dim(2, rank: t.rank), index: a.tensor(3), source: a.tensor(4))); return 1
        },
        LuaBinding("tril", "t:tril([diagonal: int]) -> Tensor", "Lower triangle of the last two dims (others zeroed); diagonal shifts it.") { a in
            a.push(try a.tensor(1).triangular(upper: false, diagonal: a.optInteger(2, 0))); return 1
        },
        LuaBinding("triu", "t:triu([diagonal: int]) -> Tensor", "Upper triangle of the last two dims (others zeroed); diagonal shifts it.") { a in
            a.push(try a.tensor(1).triangular(upper: true, diagonal: a.optInteger(2, 0))); return 1
        },
        LuaBinding("oneHot", "ids:oneHot(classes: int) -> Tensor", "One-hot float32 rows for 0-based class ids: shape (ids..., classes).") { a in
            a.push(try Tensor.oneHot(a.tensor(1), classes: a.integer(2))); return 1
        }
    ]

    static let functions: [LuaBinding] = [
        LuaBinding("embedding", "llm.embedding(weight: Tensor, ids: Tensor) -> Tensor", "Rows of weight (vocab, dim) for 0-based ids: shape (ids..., dim).") { a in
            a.push(try Tensor.embedding(a.tensor(1), a.tensor(2))); return 1
        }
    ]
}
