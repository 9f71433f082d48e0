// ShardTests: token shards (u16/u32 layout, atomic write, hostile-file validation), the train/val split
// by document, and the loader (shapes, y = x shifted, permutation covers every window once per epoch,
// ranks disjoint, determinism, exact resume with prefetching).
import Foundation
import Testing
@testable import LLMData
import LLMCore

@Suite struct ShardTests {
    func tempFolder() throws -> String {
        let p = NSTemporaryDirectory() + "shards-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    @Test func roundTripU16AndU32() throws {
        let dir = try tempFolder()
        for (vocab, width) in [(1000, 2), (70_000, 4)] {
            let path = dir + "/s\(vocab).bin"
            try ShardFile.write(path: path, documents: [[1, 2, 3], [], [vocab - 1, 0]], vocabSize: vocab)
            let s = try ShardFile(path: path)
            #expect(s.width == width && s.tokenCount == 5 && s.documentCount == 3 && s.vocabSize == vocab)
            #expect((0..<5).map { s.token($0) } == [1, 2, 3, Int64(vocab - 1), 0])
        }
        #expect(throws: DataError.self) { try ShardFile.write(path: dir + "/bad.bin", documents: [[5]], vocabSize: 5) }
    }

    @Test func hostileFilesAreRejected() throws {
        let dir = try tempFolder(), path = dir + "/s.bin"
        try ShardFile.write(path: path, documents: [[1, 2, 3, 4]], vocabSize: 10)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        func check(_ data: Data, _ needle: String) throws {
            try data.write(to: URL(fileURLWithPath: path))
            do { _ = try ShardFile(path: path); Issue.record("accepted: \(needle)") } catch let e as DataError {
                #expect(e.description.contains(needle), "\(e)")
                #expect(e.description.contains(path))
            }
        }
        try check(good.prefix(10), "truncated")
        var magic = good; magic[0] = 0x41; try check(magic, "bad magic")
        var version = good; version[8] = 9; try check(version, "unsupported version")
        var width = good; width[12] = 3; try check(width, "unsupported token width")
        try check(good.dropLast(3), "does not match its header")
        var index = good; index[good.count - 8] = 0xFF; try check(index, "corrupt document index")
        #expect(throws: DataError.self) { _ = try ShardFile(path: dir + "/missing.bin") }
    }

    func makeSet(_ docs: Int, tokensPerDoc: Int, valFraction: Double = 0.2) throws -> String {
        let dir = try tempFolder()
        let w = try ShardSetWriter(folder: dir, vocabSize: 300, valFraction: valFraction, shardTokens: 200, seed: 7)
        for d in 0..<docs { try w.add((0..<tokensPerDoc).map { (d * 7 + $0) % 300 }) }
        try w.finish()
        return dir
    }

    @Test func splitIsByDocumentAndShardsAreCut() throws {
        let dir = try makeSet(50, tokensPerDoc: 30)
        let train = try ShardSplit(folder: dir, split: "train"), val = try ShardSplit(folder: dir, split: "val")
        let trainDocs = train.shards.reduce(0) { $0 + $1.documentCount }, valDocs = val.shards.reduce(0) { $0 + $1.documentCount }
        #expect(trainDocs + valDocs == 50)
        #expect(valDocs > 2 && valDocs < 20)
        #expect(train.shards.count > 1)  // 200-token shards
        #expect(train.shards.allSatisfy { $0.tokenCount % 30 == 0 })  // whole documents only
        #expect(throws: DataError.self) { _ = try ShardSplit(folder: dir, split: "test") }
    }

    @Test func loaderBatchesAreWindowsAndCoverAnEpoch() throws {
        let dir = try makeSet(40, tokensPerDoc: 25, valFraction: 0)
        let split = try ShardSplit(folder: dir, split: "train")
        let loader = try ShardLoader(split: split, batchSize: 4, blockSize: 8, seed: 1, prefetch: 3)
        var seen = Set<[Int64]>()
        for _ in 0..<loader.batchesPerEpoch {
            let b = try loader.next()
            #expect(b.x.shape == [4, 8] && b.y.shape == [4, 8])
            let x = b.x.toDoubles().map { Int64($0) }, y = b.y.toDoubles().map { Int64($0) }
            for r in 0..<4 {
                #expect(Array(x[(r * 8 + 1)..<(r * 8 + 8)]) == Array(y[(r * 8)..<(r * 8 + 7)]))  // y is x shifted
                seen.insert(Array(x[(r * 8)..<(r * 8 + 8)]))
            }
        }
        #expect(seen.count == loader.batchesPerEpoch * 4)  // no window twice within an epoch
        #expect(loader.position == .init(epoch: 1, batch: 0))
    }

    @Test func ranksAreDisjointAndResumeIsExact() throws {
        let dir = try makeSet(40, tokensPerDoc: 25, valFraction: 0)
        let split = try ShardSplit(folder: dir, split: "train")
        let r0 = try ShardLoader(split: split, batchSize: 2, blockSize: 8, seed: 3, rank: 0, worldSize: 2)
        let r1 = try ShardLoader(split: split, batchSize: 2, blockSize: 8, seed: 3, rank: 1, worldSize: 2)
        let a = try r0.next().x.toDoubles(), b = try r1.next().x.toDoubles()
        #expect(a != b)
        // resume: a loader restored to a saved position yields the same batches as the original
        let full = try ShardLoader(split: split, batchSize: 2, blockSize: 8, seed: 9, prefetch: 4)
        var reference: [[Double]] = []
        var saved = full.position
        for k in 0..<12 { if k == 5 { saved = full.position }; reference.append(try full.next().x.toDoubles()) }
        let resumed = try ShardLoader(split: split, batchSize: 2, blockSize: 8, seed: 9, prefetch: 2)
        try resumed.restore(saved)
        for k in 5..<12 { #expect(try resumed.next().x.toDoubles() == reference[k]) }
        #expect(throws: DataError.self) { try resumed.restore(.init(epoch: 0, batch: 10_000)) }
        #expect(throws: DataError.self) { _ = try ShardLoader(split: split, batchSize: 1000, blockSize: 8, seed: 0) }
    }
}
