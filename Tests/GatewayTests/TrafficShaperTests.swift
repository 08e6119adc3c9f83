import NIOCore
import Testing

@testable import Gateway

@Suite("TrafficShaper and TrafficShaping")
struct TrafficShaperTests {
    let start = NIODeadline.uptimeNanoseconds(9_000_000_000)

    /// As netem on the server's egress and Toxiproxy's latency toxic: the source's bytes are N late,
    /// the client's go at once (a round trip still costs N more). It used to be N/2 each way.
    @Test func latencyDelaysTheSourcesBytesByAllOfIt() {
        let shaping = TrafficShaping(latency: .milliseconds(100), jitter: .milliseconds(20))
        #expect(shaping.towardsClient == DirectionShaping(delay: .milliseconds(100), jitter: .milliseconds(20)))
        #expect(shaping.towardsServer == nil)
        let both = TrafficShaping(latency: .milliseconds(100), bytesPerSecond: 4096)
        #expect(both.towardsClient == DirectionShaping(delay: .milliseconds(100), jitter: .zero, bytesPerSecond: 4096))
        #expect(both.towardsServer == DirectionShaping(delay: .zero, jitter: .zero, bytesPerSecond: 4096))
        #expect(TrafficShaping.none.towardsClient == nil && TrafficShaping.none.towardsServer == nil)
        #expect(TrafficShaping(latency: .milliseconds(-5), bytesPerSecond: 0) == .none)
    }

    @Test func latencyOnlyGivesOnePiecePerChunk() {
        var generator = SeededGenerator(state: 1)
        var shaper = TrafficShaper(
            DirectionShaping(delay: .milliseconds(50), jitter: .zero), now: start, lastRelease: start)
        let pieces = shaper.schedule(byteCount: 100_000, arrivedAt: start, using: &generator)
        #expect(pieces == [ScheduledPiece(length: 100_000, releaseAt: start + .milliseconds(50))])
    }

    @Test func bandwidthSplitsChunksAndPacesThem() {
        var generator = SeededGenerator(state: 1)
        var shaper = TrafficShaper(
            DirectionShaping(delay: .zero, jitter: .zero, bytesPerSecond: 10_000), now: start, lastRelease: start)
        // Capacity is 1024 bytes (the floor), so 4096 bytes leave as 4 pieces ~102 ms apart.
        let pieces = shaper.schedule(byteCount: 4096, arrivedAt: start, using: &generator)
        #expect(pieces.map(\.length) == [1024, 1024, 1024, 1024])
        #expect(pieces[0].releaseAt == start)
        #expect(pieces[1].releaseAt == start + .nanoseconds(102_400_000))
        #expect(pieces[3].releaseAt == start + .nanoseconds(307_200_000))
    }

    @Test func latencyAndBandwidthCombineWithoutReordering() {
        var generator = SeededGenerator(state: 7)
        var shaper = TrafficShaper(
            DirectionShaping(delay: .milliseconds(10), jitter: .milliseconds(5), bytesPerSecond: 50_000),
            now: start, lastRelease: start)
        var previous = start
        for step in 0..<200 {
            let arrival = start + .milliseconds(Int64(step))
            for piece in shaper.schedule(byteCount: 700, arrivedAt: arrival, using: &generator) {
                #expect(piece.releaseAt >= previous)
                #expect(piece.releaseAt >= arrival + .milliseconds(10))
                previous = piece.releaseAt
            }
        }
        let marker = shaper.scheduleMarker(arrivedAt: start, using: &generator)
        #expect(marker >= previous)
    }

    @Test func aReplacementShaperKeepsTheOrderOfTheOldOne() {
        var generator = SeededGenerator(state: 3)
        var shaper = TrafficShaper(DirectionShaping(delay: .seconds(1), jitter: .zero), now: start, lastRelease: start)
        let old = shaper.schedule(byteCount: 10, arrivedAt: start, using: &generator)[0].releaseAt
        var replacement = TrafficShaper(
            DirectionShaping(delay: .milliseconds(1), jitter: .zero), now: start, lastRelease: shaper.lastRelease)
        let new = replacement.schedule(byteCount: 10, arrivedAt: start, using: &generator)[0].releaseAt
        #expect(new >= old)
    }
}

@Suite("OutboundQueue")
struct OutboundQueueTests {
    let start = NIODeadline.uptimeNanoseconds(1_000)

    @Test func popsOnlyDueItemsFirstInFirstOut() {
        var queue = OutboundQueue()
        queue.append(.bytes(ByteBuffer(string: "ab")), releaseAt: start + .milliseconds(10))
        queue.append(.bytes(ByteBuffer(string: "c")), releaseAt: start + .milliseconds(5))
        queue.append(.endOfStream, releaseAt: start + .milliseconds(10))
        #expect(queue.byteCount == 3)
        #expect(queue.popDue(now: start + .milliseconds(5)) == nil)  // "c" waits behind "ab"
        #expect(queue.popDue(now: start + .milliseconds(10)) == .bytes(ByteBuffer(string: "ab")))
        #expect(queue.popDue(now: start + .milliseconds(10)) == .bytes(ByteBuffer(string: "c")))
        #expect(queue.popDue(now: start + .milliseconds(10)) == .endOfStream)
        #expect(queue.isEmpty && queue.byteCount == 0)
    }

    @Test func releaseAllMakesEverythingDue() {
        var queue = OutboundQueue()
        queue.append(.bytes(ByteBuffer(string: "x")), releaseAt: start + .seconds(60))
        queue.append(.close, releaseAt: start + .seconds(61))
        queue.releaseAll(now: start)
        #expect(queue.popDue(now: start) == .bytes(ByteBuffer(string: "x")))
        #expect(queue.popDue(now: start) == .close)
    }
}
