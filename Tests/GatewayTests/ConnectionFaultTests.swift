import Testing

@testable import Gateway

#if canImport(Glibc)
import Glibc
#endif

extension GatewaySocketTests {
    @Test("reject: new connects are refused by the kernel, established ones reset; up reopens the same port")
    func rejectRefusesAndResets() async throws {
        try await GatewayFixture.run { fixture in
            let port = fixture.port
            let established = try fixture.connectAndGreet()

            try await fixture.gateway.setConnectionFault(.reject)
            #expect(!fixture.gateway.listening)
            #expect(throws: BlockingSocket.Failure(call: "connect", errno: ECONNREFUSED)) {
                try BlockingSocket.connect(port: port)
            }
            #expect(established.read(timeout: .seconds(2)) == .failed(errno: ECONNRESET))
            #expect(await eventually { fixture.observer.closes.withLock { $0 } == [.fault(.reject)] })

            try await fixture.gateway.setConnectionFault(nil)
            #expect(fixture.gateway.listening)
            #expect(fixture.gateway.boundPort == port)
            let again = try fixture.connectAndGreet()
            try again.send("after")
            #expect(again.readText(5) == "after")
        }
    }

    @Test("a client the kernel reset is found by its address and closed on the gateway's side as kernel_reset")
    func kernelResetClosesOnlyThatClient() async throws {
        try await GatewayFixture.run { fixture in
            let lost = try fixture.connectAndGreet()
            let other = try fixture.connectAndGreet()
            let clients = fixture.observer.clients.withLock { $0 }
            #expect(clients.count == 2)
            let id = try #require(fixture.gateway.connectionID(client: clients[0]))
            #expect(fixture.gateway.connectionID(client: "192.0.2.1:1") == nil)
            #expect(fixture.gateway.clientWasReset(client: "192.0.2.1:1") == nil)

            #expect(fixture.gateway.clientWasReset(client: clients[0]) == id)
            #expect(lost.read(timeout: .seconds(2)) == .failed(errno: ECONNRESET))
            #expect(await eventually { fixture.observer.closes.withLock { $0 } == [.fault(.kernelReset)] })
            #expect(await eventually { fixture.gateway.connectionCount == 1 })
            #expect(fixture.gateway.connectionID(client: clients[0]) == nil)
            try other.send("on")
            #expect(other.readText(2) == "on")
        }
    }

    @Test("reset: established connections get an RST once, new ones are fine")
    func resetIsOneShot() async throws {
        try await GatewayFixture.run { fixture in
            let first = try fixture.connectAndGreet()
            let second = try fixture.connectAndGreet()
            await fixture.gateway.resetConnections()
            #expect(first.read(timeout: .seconds(2)) == .failed(errno: ECONNRESET))
            #expect(second.read(timeout: .seconds(2)) == .failed(errno: ECONNRESET))
            #expect(fixture.gateway.listening)

            let fresh = try fixture.connectAndGreet()
            try fresh.send("still here")
            #expect(fresh.readText(10) == "still here")
            #expect(await eventually { fixture.observer.closes.withLock { $0 } == [.fault(.reset), .fault(.reset)] })
        }
    }

    @Test("timeout: connects succeed but nothing is answered; after up the held bytes flow")
    func timeoutHoldsNewConnections() async throws {
        try await GatewayFixture.run { fixture in
            try await fixture.gateway.setConnectionFault(.timeout)
            #expect(fixture.gateway.listening)
            let socket = try BlockingSocket.connect(port: fixture.port)
            try socket.send("ping")
            #expect(socket.read(timeout: .milliseconds(300)) == .timedOut)
            #expect(fixture.upstream.acceptedCount == 0)
            #expect(fixture.upstream.receivedBytes == 0)

            try await fixture.gateway.setConnectionFault(nil)
            #expect(socket.readText(9) == "helloping")
            #expect(fixture.upstream.acceptedCount == 1)
        }
    }

    @Test("timeout: established connections freeze both ways and resume on up")
    func timeoutFreezesEstablishedConnections() async throws {
        try await GatewayFixture.run { fixture in
            let socket = try fixture.connectAndGreet()
            try socket.send("before")
            #expect(socket.readText(6) == "before")
            let receivedBefore = fixture.upstream.receivedBytes

            try await fixture.gateway.setConnectionFault(.timeout)
            try socket.send("during")
            #expect(socket.read(timeout: .milliseconds(300)) == .timedOut)
            #expect(fixture.upstream.receivedBytes == receivedBefore)
            #expect(fixture.gateway.connectionCount == 1)  // the socket stays open

            try await fixture.gateway.setConnectionFault(nil)
            #expect(socket.readText(6) == "during")
            #expect(fixture.upstream.receivedBytes == receivedBefore + 6)
        }
    }

    @Test("timeout and reject combine with shaping, and up clears both")
    func restoreClearsEverything() async throws {
        try await GatewayFixture.run { fixture in
            await fixture.gateway.setShaping(latency: .milliseconds(40), bandwidth: 1_000_000)
            try await fixture.gateway.setConnectionFault(.timeout)
            let status = fixture.gateway.status
            #expect(status.connectionFault == .timeout)
            #expect(status.shaping == [ScopedShaping(TrafficShaping(latency: .milliseconds(40), bytesPerSecond: 1_000_000))])

            try await fixture.gateway.restore()
            #expect(fixture.gateway.status.connectionFault == nil)
            #expect(fixture.gateway.status.shaping.isEmpty)
            #expect(fixture.gateway.listening)
            let socket = try fixture.connectAndGreet()
            try socket.send("x")
            #expect(socket.readText(1) == "x")
        }
    }
}
