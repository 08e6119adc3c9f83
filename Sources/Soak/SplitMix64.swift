/// A seeded random number generator: SplitMix64 (Steele, Lea and Flood, "Fast splittable
/// pseudorandom number generators", 2014; the seeding generator of xoshiro256**).
///
/// A soak schedule is kept in its report and replayed from its seed, so the numbers must be the
/// same on every platform and Swift version. `SystemRandomNumberGenerator` cannot be seeded, and the
/// standard library's `random(in:using:)` does not promise how it maps a generator's output onto a
/// range, so both the generator and the mapping (`uniform(in:)`) are written out here.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension RandomNumberGenerator {
    /// A whole number drawn uniformly from `range`, by rejection: the same draws from `next()`
    /// give the same number everywhere.
    public mutating func uniform(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(bitPattern: Int64(range.upperBound) &- Int64(range.lowerBound))
        if span == UInt64.max { return Int(truncatingIfNeeded: next()) }
        let count = span + 1
        // The largest multiple of `count` that fits: draws at or above it are thrown away.
        let limit = UInt64.max - (UInt64.max % count + 1) % count
        while true {
            let draw = next()
            if draw <= limit {
                return range.lowerBound &+ Int(truncatingIfNeeded: draw % count)
            }
        }
    }
}
