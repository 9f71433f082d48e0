// Safetensors writer: header JSON `{"__metadata__":{...sorted},"name":{"dtype","shape","data_offsets"},...}`
// with tensors in byte order of their names, padded with spaces to a multiple of 8 bytes, then each
// tensor's contiguous row-major little-endian bytes in the same order. Files are replaced atomically.
import LLMCore

extension Safetensors {
    /// Names sorted by their UTF-8 bytes (the order Python's `sorted` gives).
    static func sortedNames<S: Sequence>(_ names: S) -> [String] where S.Element == String {
        names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// The padded header bytes (length prefix included) and the contiguous tensors in file order.
    static func layout(_ tensors: [String: Tensor], metadata: [String: String]?) throws -> (header: [UInt8], order: [(String, Tensor)]) {
        var members: [JSONMember] = []
        if let metadata {
            members.append(JSONMember("__metadata__", .object(sortedNames(metadata.keys).map { JSONMember($0, .string(metadata[$0]!)) })))
        }
        var order: [(String, Tensor)] = []
        var offset = 0
        for name in sortedNames(tensors.keys) {
            guard name != "__metadata__" else { throw FormatError("safetensors: '__metadata__' cannot be a tensor name") }
            let t0 = tensors[name]!
            let t = t0.isContiguous ? t0 : try t0.contiguous()
            let bytes = t.count * t.dtype.itemSize
            members.append(
                JSONMember(
                    name,
                    .object([
                        JSONMember("dtype", .string(Safetensors.name(of: t.dtype))),
                        JSONMember("shape", .array(t.shape.map { .int(Int64($0)) })),
                        JSONMember("data_offsets", .array([.int(Int64(offset)), .int(Int64(offset + bytes))]))
                    ])))
            order.append((name, t))
            offset += bytes
        }
        var json: [UInt8] = []
        try JSONWriter.write(.object(members), into: &json)
        while json.count % 8 != 0 { json.append(0x20) }
        var header: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { header.append(contentsOf: $0) }
        header.append(contentsOf: json)
        return (header, order)
    }

    /// The complete file image (for tests and small files; ``write(_:metadata:to:)`` streams instead).
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String]? = nil) throws -> [UInt8] {
        let (header, order) = try layout(tensors, metadata: metadata)
        var out = header
        for (_, t) in order {
            out.append(contentsOf: UnsafeRawBufferPointer(start: t.rawPointer, count: t.count * t.dtype.itemSize))
        }
        return out
    }

    /// Writes `tensors` (and `metadata` as `__metadata__` when given) to `path`, atomically: a temp file
    /// in the same directory is written, fsynced and renamed over `path`, then the directory is fsynced.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String]? = nil, to path: String) throws {
        try FileIO.writeAtomically(path, what: "safetensors") { w in try stream(tensors, metadata: metadata, into: &w) }
    }

    static func stream(_ tensors: [String: Tensor], metadata: [String: String]?, into w: inout FileWriter) throws {
        #if _endian(big)
            throw FormatError("safetensors: writing on a big-endian machine is not supported")
        #else
            let (header, order) = try layout(tensors, metadata: metadata)
            try w.write(header)
            for (_, t) in order {
                try w.write(UnsafeRawBufferPointer(start: t.rawPointer, count: t.count * t.dtype.itemSize))
            }
        #endif
    }
}
