import Testing

@testable import Gateway

extension GatewaySocketTests {
    /// Round-trip times of `count` one-byte ping-pongs.
    private func roundTrips(_ socket: BlockingSocket, count: Int) throws -> [Duration] {
        let clock = ContinuousClock()
        return try (0..<count).map { _ in
            let started = clock.now
            try socket.send("p")
            #expect(socket.readText(1, timeout: .seconds(5)) == "p")
            return clock.now - started
        }
    }

    @Test("latency 100 ms adds at least 100 ms to every round trip, and goes away on up")
    func latencyAddsToEveryRoundTrip() async throws {
        try await GatewayFixture.run { fixture in
            let socket = try fixture.connectAndGreet()
            let baseline = try roundTrips(socket, count: 5)
            #expect(baseline.allSatisfy { $0 < .milliseconds(100) })

            await fixture.gateway.setShaping(latency: .milliseconds(100))
            let delayed = try roundTrips(socket, count: 5)
            #expect(delayed.allSatisfy { $0 >= .milliseconds(100) }, "\(delayed)")
            #expect(delayed.allSatisfy { $0 < .seconds(1) }, "\(delayed)")

            // A new connection is shaped too: the source's greeting arrives the whole latency late
            // (as netem on the server's egress; it used to be half).
            let clock = ContinuousClock()
            let started = clock.now
            let fresh = try fixture.connectAndGreet()
            #expect(clock.now - started >= .milliseconds(100))
            #expect(try roundTrips(fresh, count: 2).allSatisfy { $0 >= .milliseconds(100) })

            await fixture.gateway.setShaping()
            #expect(try roundTrips(socket, count: 5).allSatisfy { $0 < .milliseconds(100) })
        }
    }

    @Test("latency scoped to replication leaves query connections alone, and follows a connection that becomes replication")
    func scopedLatency() async throws {
        try await GatewayFixture.run { fixture in
            let query = try fixture.connectAndGreet()
            try query.send("Q")
            #expect(query.readText(1) == "Q")
            let replica = try fixture.connectAndGreet()
            try replica.send("R")
            #expect(replica.readText(1) == "R")

            await fixture.gateway.setShaping(latency: .milliseconds(400), scope: .replication)
            // Wide margins: milliseconds against 400 ms.
            #expect(try roundTrips(query, count: 3).allSatisfy { $0 < .milliseconds(150) })
            #expect(try roundTrips(replica, count: 2).allSatisfy { $0 >= .milliseconds(400) })

            // A new connection greets and answers fast until it classifies as replication.
            let clock = ContinuousClock()
            let started = clock.now
            let fresh = try fixture.connectAndGreet()
            #expect(clock.now - started < .milliseconds(150))
            try fresh.send("R")
            #expect(fresh.readText(1, timeout: .seconds(5)) == "R")
            #expect(try roundTrips(fresh, count: 2).allSatisfy { $0 >= .milliseconds(400) })

            // Shaping of two scopes adds up for the connections in both.
            await fixture.gateway.setShaping([
                ScopedShaping(TrafficShaping(latency: .milliseconds(200)), scope: .all),
                ScopedShaping(TrafficShaping(latency: .milliseconds(200)), scope: .queries),
            ])
            #expect(try roundTrips(query, count: 2).allSatisfy { $0 >= .milliseconds(400) })
            #expect(try roundTrips(replica, count: 2).allSatisfy { $0 >= .milliseconds(200) && $0 < .milliseconds(390) })
            #expect(fixture.gateway.status.shaping.count == 2)

            await fixture.gateway.setShaping([])
            #expect(try roundTrips(replica, count: 3).allSatisfy { $0 < .milliseconds(150) })
        }
    }

    @Test("bandwidth limits each direction to about the configured rate")
    func bandwidthLimitsThroughput() async throws {
        try await GatewayFixture.run { fixture in
            let socket = try fixture.connectAndGreet()
            await fixture.gateway.setShaping(bandwidth: 100_000)
            let payload = [UInt8](repeating: 0x41, count: 50_000)
            let clock = ContinuousClock()
            let started = clock.now
            try socket.send(payload)
            let (bytes, end) = socket.read(count: payload.count, timeout: .seconds(10))
            let elapsed = clock.now - started
            #expect(end == nil)
            #expect(bytes == payload)
            // 50 kB at 100 kB/s is 0.5 s each way, less the 5 kB bursts; the two directions overlap.
            #expect(elapsed >= .milliseconds(400), "\(elapsed)")
            #expect(elapsed < .seconds(5), "\(elapsed)")
        }
    }
}
