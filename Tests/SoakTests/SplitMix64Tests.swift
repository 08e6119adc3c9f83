import Soak
import Testing

@Suite("SplitMix64 and its uniform draws")
struct SplitMix64Tests {
    @Test("the reference outputs of SplitMix64 (as Java's SplittableRandom and the xoshiro authors' C code)")
    func referenceVector() {
        var seeded = SplitMix64(seed: 1_234_567)
        #expect((0..<5).map { _ in seeded.next() } == [
            6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
            4_593_380_528_125_082_431, 16_408_922_859_458_223_821,
        ])
        var zero = SplitMix64(seed: 0)
        #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
    }

    @Test func uniformStaysInRangeAndReachesBothEnds() {
        var random = SplitMix64(seed: 9)
        var seen = Set<Int>()
        for _ in 0..<2_000 {
            let value = random.uniform(in: -3...3)
            #expect((-3...3).contains(value))
            seen.insert(value)
        }
        #expect(seen == Set(-3...3))
        #expect(random.uniform(in: 5...5) == 5)
        _ = random.uniform(in: Int.min...Int.max)
    }
}
