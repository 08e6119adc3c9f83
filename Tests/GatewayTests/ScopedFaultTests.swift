import Testing

@testable import Gateway

#if canImport(Glibc)
import Glibc
#endif

/// The test tap calls a connection "replication" when the client's first byte is "R".
extension GatewaySocketTests {
    @Test("reject scoped to replication: listener stays, only replication connections are reset")
    func scopedRejectHitsOnlyReplication() async throws {
        try await GatewayFixture.run { fixture in
            let replica = try fixture.connectAndGreet()
            try replica.send("R dump")
            #expect(replica.readText(6) == "R dump")
            let query = try fixture.connectAndGreet()
            try query.send("Q select")
            #expect(query.readText(8) == "Q select")

            try await fixture.gateway.setConnectionFault(.reject, scope: .replication)
            #expect(fixture.gateway.listening)
            #expect(replica.read(timeout: .seconds(2)) == .failed(errno: ECONNRESET))
            try query.send("Q again")
            #expect(query.readText(7) == "Q again")

            // A new connection is reset as soon as it classifies, before its bytes reach the server.
            let receivedBefore = fixture.upstream.receivedBytes
            let newReplica = try fixture.connectAndGreet()
            try newReplica.send("R dump")
            #expect(newReplica.read(timeout: .seconds(2)) == .failed(errno: ECONNRESET))
            #expect(fixture.upstream.receivedBytes == receivedBefore)

            let newQuery = try fixture.connectAndGreet()
            try newQuery.send("Q new")
            #expect(newQuery.readText(5) == "Q new")
        }
    }

    @Test("timeout scoped to replication freezes only replication connections")
    func scopedTimeoutFreezesOnlyReplication() async throws {
        try await GatewayFixture.run { fixture in
            let replica = try fixture.connectAndGreet()
            try replica.send("R1")
            #expect(replica.readText(2) == "R1")
            let query = try fixture.connectAndGreet()
            try query.send("Q1")
            #expect(query.readText(2) == "Q1")

            try await fixture.gateway.setConnectionFault(.timeout, scope: .replication)
            try replica.send("R2")
            try query.send("Q2")
            #expect(query.readText(2) == "Q2")
            #expect(replica.read(timeout: .milliseconds(300)) == .timedOut)

            // A new connection is answered until it classifies, then held with its bytes.
            let newReplica = try fixture.connectAndGreet()
            let receivedBefore = fixture.upstream.receivedBytes
            try newReplica.send("R3")
            #expect(newReplica.read(timeout: .milliseconds(300)) == .timedOut)
            #expect(fixture.upstream.receivedBytes == receivedBefore)

            try await fixture.gateway.setConnectionFault(nil)
            #expect(replica.readText(2) == "R2")
            #expect(newReplica.readText(2) == "R3")
        }
    }

    @Test("reset scoped to queries leaves replication alone")
    func scopedResetHitsOnlyQueries() async throws {
        try await GatewayFixture.run { fixture in
            let replica = try fixture.connectAndGreet()
            try replica.send("R1")
            #expect(replica.readText(2) == "R1")
            let query = try fixture.connectAndGreet()
            try query.send("Q1")
            #expect(query.readText(2) == "Q1")

            await fixture.gateway.resetConnections(scope: .queries)
            #expect(query.read(timeout: .seconds(2)) == .failed(errno: ECONNRESET))
            try replica.send("R2")
            #expect(replica.readText(2) == "R2")
        }
    }
}
