import Breakage
import Testing

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("corrupt: which bytes change")
struct CorruptionPlanTests {
    @Test("truncate cuts the given percentage off the end", arguments: [(1000, 50, 500), (1000, 1, 990), (1000, 100, 0), (3, 10, 2)])
    func truncate(size: UInt64, percentage: Int, expected: UInt64) throws {
        var rng = SplitMix64(state: 1)
        let plan = try CorruptionPlan.make(.truncate, size: size, percentage: percentage, count: 10, using: &rng)
        #expect(plan.newSize == expected)
        #expect(plan.edits.isEmpty)
    }

    @Test("random-bytes: count distinct offsets after the magic number, masks never zero, same seed same plan")
    func randomBytes() throws {
        var rng = SplitMix64(state: 42)
        let plan = try CorruptionPlan.make(.randomBytes, size: 5000, percentage: 50, count: 200, using: &rng)
        #expect(plan.edits.count == 200)
        #expect(Set(plan.edits.map(\.offset)).count == 200)
        #expect(plan.edits.allSatisfy { $0.offset >= 4 && $0.offset < 5000 && $0.mask != 0 })
        #expect(plan.edits.map(\.offset) == plan.edits.map(\.offset).sorted())
        var again = SplitMix64(state: 42)
        #expect(try CorruptionPlan.make(.randomBytes, size: 5000, percentage: 50, count: 200, using: &again) == plan)
        // A small file: every byte after the magic, no more.
        var small = SplitMix64(state: 7)
        #expect(try CorruptionPlan.make(.randomBytes, size: 8, percentage: 50, count: 10, using: &small).edits.map(\.offset) == [4, 5, 6, 7])
    }

    @Test("magic-number inverts the first four bytes; files too small are refused")
    func magicNumber() throws {
        var rng = SplitMix64(state: 1)
        let plan = try CorruptionPlan.make(.magicNumber, size: 256, percentage: 50, count: 10, using: &rng)
        #expect(plan.edits.map(\.offset) == [0, 1, 2, 3])
        #expect(CorruptionPlan.magic.map { $0 ^ 0xFF } != CorruptionPlan.magic)
        #expect(throws: CorruptionPlan.Problem.tooSmall(size: 3, needed: 4)) {
            try CorruptionPlan.make(.magicNumber, size: 3, percentage: 50, count: 1, using: &rng)
        }
        #expect(hexString([0xFE, 0x62, 0x69, 0x6E]) == "fe 62 69 6e")
    }

    @Test("binlog file names: plain names only", arguments: [
        ("mysql-bin.000001", true), ("mariadb-bin.123456", true), ("../../etc/passwd", false), ("/etc/passwd", false),
        ("..", false), (".hidden", false), ("a/b", false), ("", false), ("mysql-bin.index", true),
    ])
    func fileNames(name: String, valid: Bool) {
        #expect(BinlogFileName.isValid(name) == valid)
    }
}
