// Safetensors reader: parses and validates a whole header (`Layout`, shared with the streaming reader in
// SafetensorsStream.swift) before copying or reading any tensor's data, treating the file as
// hostile (formats-and-conventions.md A1, B1, S-03..S-11): header length capped and inside the file,
// strict JSON without duplicate keys, known dtypes, overflow-checked shapes, offsets that tile the data
// buffer exactly from 0 to EOF (no gaps, overlaps or trailing bytes). Errors name the tensor and the file.
// With a mapping to keep (`keeping`), float32 tensors whose data is 4-byte aligned in memory view the mapped
// bytes read-only instead of being copied (other dtypes and unaligned data are copied).
import LLMCore

/// The contents of a safetensors file.
public struct SafetensorsFile: @unchecked Sendable {
    /// Tensors by name (contiguous, owning their memory).
    public var tensors: [String: Tensor]
    /// Tensor names in the order of their data in the file.
    public var names: [String]
    /// The `__metadata__` map (empty when absent).
    public var metadata: [String: String]
}

/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors).
///
/// ```swift
/// try Safetensors.write(["w": w], metadata: ["format": "pt"], to: "model.safetensors")
/// let f = try Safetensors.read(path: "model.safetensors")   // f.tensors["w"]
/// ```
public enum Safetensors {
    /// Largest accepted header (the reference implementation's MAX_HEADER_SIZE).
    public static let maxHeaderBytes = 100_000_000

    /// The dtype strings llmscript reads and writes.
    public static let dtypeNames: [(String, DType)] = [
        ("F32", .float32), ("F16", .float16), ("BF16", .bfloat16),
        ("I64", .int64), ("I32", .int32), ("I8", .int8), ("U8", .uint8)
    ]
    static let knownUnsupported: Set<String> = ["BOOL", "F64", "I16", "U16", "U32", "U64", "F8_E5M2", "F8_E4M3"]

    /// The safetensors name of `d` (`F32`).
    public static func name(of d: DType) -> String { dtypeNames.first(where: { $0.1 == d })!.0 }

    /// Reads the file at `path`: streamed (header first, then each tensor's bytes read straight into its own
    /// storage: one copy in memory), or with `mmap` memory-mapped, aligned float32 tensors staying in the map
    /// (read-only), which lives as long as they do (other tensors are copied out).
    public static func read(path: String, mmap: Bool = false) throws -> SafetensorsFile {
        guard mmap else { return try readStreaming(path: path, what: "safetensors") }
        let map = try FileIO.map(path, what: "safetensors")
        return try decode(map.bytes, source: path, keeping: map)  // the map lives as long as a tensor in it
    }

    /// Parses a safetensors image held in memory; `source` names it in errors. With `keeping` (the owner of
    /// `bytes`, kept alive by the tensors), float32 tensors whose data is 4-byte aligned view `bytes` read-only.
    public static func decode(_ bytes: UnsafeRawBufferPointer, source: String, keeping: AnyObject? = nil) throws -> SafetensorsFile {
        let fail = failure(source)
        let headerLen = try headerLength(bytes, fileSize: bytes.count, fail: fail)
        let header = UnsafeBufferPointer(rebasing: bytes.bindMemory(to: UInt8.self)[8..<(8 + headerLen)])
        let layout = try Layout(header: header, fileSize: bytes.count, fail: fail)
        var tensors: [String: Tensor] = [:]
        for e in layout.entries {
            let at = e.end > e.begin ? bytes.baseAddress! + layout.bufferStart + e.begin : nil
            if let keeping, let at, e.dtype == .float32, Int(bitPattern: at) % 4 == 0 {
                tensors[e.name] = Tensor.mapped(at, shape: e.shape, dtype: e.dtype, keeping: keeping)
                continue
            }
            let t = try allocate(e, fail: fail)
            if let at { t.rawPointer.copyMemory(from: at, byteCount: e.end - e.begin) }
            tensors[e.name] = t
        }
        return layout.file(tensors)
    }

    /// The error maker for the file `source`: `safetensors: <message> in '<source>'`.
    static func failure(_ source: String) -> (String) -> FormatError {
        { m in FormatError("safetensors: \(m) in '\(source)'") }
    }

    /// The header length from the file's first bytes (`prefix`, at least the 8-byte length when the file has
    /// them), checked against the limit and the file's size.
    static func headerLength(_ prefix: UnsafeRawBufferPointer, fileSize: Int, fail: (String) -> FormatError) throws -> Int {
        guard fileSize >= 8, prefix.count >= 8 else {
            throw fail("file is too short (\(fileSize) bytes; a safetensors file starts with an 8-byte header length)")
        }
        let n = UInt64(littleEndian: prefix.loadUnaligned(as: UInt64.self))
        guard n <= UInt64(maxHeaderBytes) else { throw fail("header length \(n) exceeds the limit of \(maxHeaderBytes) bytes") }
        guard Int(n) <= fileSize - 8 else { throw fail("header length \(n) is larger than the file (\(fileSize) bytes)") }
        return Int(n)
    }

    /// A tensor of `e`'s shape and dtype with uninitialised storage (for its data to be copied or read in).
    static func allocate(_ e: Entry, fail: (String) -> FormatError) throws -> Tensor {
        do { return try Tensor(shape: e.shape, dtype: e.dtype, zeroed: false) } catch { throw fail("tensor '\(e.name)': \(error)") }
    }

    /// A validated header: the entries in data order, tiling the data buffer exactly, and the metadata.
    struct Layout {
        /// Entries sorted by offset; their ranges tile [0, fileSize - bufferStart).
        let entries: [Entry]
        let metadata: [String: String]
        /// Where the data buffer starts in the file (8 + header length).
        let bufferStart: Int

        /// Parses and checks the JSON `header` of a file of `fileSize` bytes.
        init(header: UnsafeBufferPointer<UInt8>, fileSize: Int, fail: (String) -> FormatError) throws {
            guard header.first == UInt8(ascii: "{") else { throw fail("the JSON header must start with '{'") }
            guard String(validating: header, as: UTF8.self) != nil else { throw fail("the header is not valid UTF-8") }
            let json: JSONValue
            do { json = try JSONParser.parse(header, maxDepth: 8) } catch let e as FormatError {
                throw fail("invalid JSON header: \(e.message)")
            }
            guard let members = json.members else { throw fail("the header must be a JSON object") }
            bufferStart = 8 + header.count
            let bufferLen = fileSize - bufferStart

            var metadata: [String: String] = [:]
            var entries: [Entry] = []
            for m in members {
                if m.key == "__metadata__" {
                    guard let ms = m.value.members else { throw fail("__metadata__ must be an object of strings") }
                    for e in ms {
                        guard let s = e.value.string else { throw fail("__metadata__ value '\(e.key)' must be a string, got \(e.value.kindName)") }
                        metadata[e.key] = s
                    }
                    continue
                }
                do { entries.append(try Entry(name: m.key, m.value, bufferLen: bufferLen)) } catch let e as FormatError {
                    throw fail("tensor '\(m.key)': \(e.message)")
                }
            }

            // The ranges must tile [0, bufferLen) in offset order: no gap, no overlap, nothing after the last.
            entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
            var expected = 0
            var previous: Entry? = nil
            for e in entries {
                if e.begin < expected, let p = previous {
                    throw fail("tensor '\(e.name)': data_offsets [\(e.begin), \(e.end)] overlap tensor '\(p.name)' [\(p.begin), \(p.end)]")
                }
                if e.begin > expected {
                    throw fail("tensor '\(e.name)': data_offsets [\(e.begin), \(e.end)] leave a gap of \(e.begin - expected) bytes before it")
                }
                expected = e.end
                previous = e
            }
            if expected != bufferLen {
                throw fail("\(bufferLen - expected) bytes after the last tensor's data (the data must end at the end of the file)")
            }
            self.entries = entries
            self.metadata = metadata
        }

        /// The file's contents once `tensors` holds every entry's tensor.
        func file(_ tensors: [String: Tensor]) -> SafetensorsFile {
            SafetensorsFile(tensors: tensors, names: entries.map(\.name), metadata: metadata)
        }
    }
}

/// One validated header entry.
struct Entry {
    let name: String
    let dtype: DType
    let shape: [Int]
    let begin: Int, end: Int

    init(name: String, _ v: JSONValue, bufferLen: Int) throws {
        self.name = name
        guard let ms = v.members else { throw FormatError("entry must be an object, got \(v.kindName)") }
        for m in ms where !["dtype", "shape", "data_offsets"].contains(m.key) {
            throw FormatError("unknown field '\(m.key)' (expected dtype, shape, data_offsets)")
        }
        guard let dv = v["dtype"] else { throw FormatError("missing 'dtype'") }
        guard let ds = dv.string else { throw FormatError("'dtype' must be a string, got \(dv.kindName)") }
        if let d = Safetensors.dtypeNames.first(where: { $0.0 == ds })?.1 {
            dtype = d
        } else {
            let known = Safetensors.dtypeNames.map(\.0).joined(separator: ", ")
            throw FormatError(
                Safetensors.knownUnsupported.contains(ds)
                    ? "dtype '\(ds)' is not supported (llmscript reads \(known))" : "unknown dtype '\(ds)' (expected one of \(known))")
        }
        guard let sv = v["shape"] else { throw FormatError("missing 'shape'") }
        guard let dims = sv.array else { throw FormatError("'shape' must be an array of integers, got \(sv.kindName)") }
        guard dims.count <= 64 else { throw FormatError("'shape' has \(dims.count) dimensions (at most 64)") }
        var shape: [Int] = []
        for d in dims {
            guard let x = d.int else { throw FormatError("'shape' must be an array of integers, found \(d.kindName)") }
            guard x >= 0 else { throw FormatError("shape \(JSONValue.array(dims).compactText) has a negative dimension") }
            shape.append(Int(x))
        }
        self.shape = shape
        var nonzero = 1  // product of the non-zero dims, so [0, 2^62, 2^62] is rejected too
        for d in shape {
            let (p, o) = nonzero.multipliedReportingOverflow(by: max(d, 1))
            guard !o else { throw FormatError("shape \(shapeString(shape)) is too large (its element count overflows)") }
            nonzero = p
        }
        let numel = shape.contains(0) ? 0 : nonzero
        let (byteCount, o) = numel.multipliedReportingOverflow(by: dtype.itemSize)
        guard !o else { throw FormatError("shape \(shapeString(shape)) is too large (its byte size overflows)") }

        guard let ov = v["data_offsets"] else { throw FormatError("missing 'data_offsets'") }
        guard let offs = ov.array, offs.count == 2, let b = offs[0].int, let e = offs[1].int else {
            throw FormatError("'data_offsets' must be an array of two integers, got \(ov.compactText)")
        }
        guard b >= 0, e >= 0 else { throw FormatError("data_offsets [\(b), \(e)] must not be negative") }
        guard b <= e else { throw FormatError("data_offsets [\(b), \(e)] end before they begin") }
        guard e <= Int64(bufferLen) else {
            throw FormatError("data_offsets [\(b), \(e)] are out of bounds (the data buffer has \(bufferLen) bytes)")
        }
        begin = Int(b); end = Int(e)
        guard end - begin == byteCount else {
            throw FormatError("data_offsets [\(b), \(e)] do not match shape \(shapeString(shape)) (\(ds), \(byteCount) bytes)")
        }
    }
}

extension JSONValue {
    /// Compact JSON text for messages (best effort).
    var compactText: String { (try? JSONWriter.string(self)) ?? kindName }
}
