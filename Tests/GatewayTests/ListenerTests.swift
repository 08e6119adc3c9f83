import NIOCore
import NIOPosix
import Testing

@testable import Gateway

extension GatewaySocketTests {
    @Test("a busy listen port is a clear EADDRINUSE error from start()")
    func busyPortIsAClearError() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let occupant = try await TestUpstream(.echo, group: group)
        let gateway = Gateway(
            listenHost: "127.0.0.1", listenPort: occupant.port,
            upstreamHost: "127.0.0.1", upstreamPort: occupant.port, group: group)
        await #expect(throws: GatewayError.addressInUse(host: "127.0.0.1", port: occupant.port)) {
            try await gateway.start()
        }
        #expect(!gateway.listening)
        #expect(GatewayError.addressInUse(host: "127.0.0.1", port: 1).description.contains("EADDRINUSE"))
        await gateway.stop()
        await occupant.close()
        try await group.shutdownGracefully()
    }

    @Test("an upstream that sends garbage and closes does not stop the listener")
    func garbageUpstreamDoesNotStopTheListener() async throws {
        try await GatewayFixture.run(.garbageThenClose) { fixture in
            for _ in 0..<20 {
                let socket = try BlockingSocket.connect(port: fixture.port)
                let (bytes, end) = socket.read(count: 100, timeout: .seconds(5))
                #expect(bytes == [0xFF, 0x00, 0x13, 0x37])
                #expect(end == .endOfStream)
            }
            #expect(fixture.gateway.listening)
            #expect(await eventually { fixture.gateway.connectionCount == 0 })
        }
    }

    @Test("an upstream that resets every connection does not stop the listener")
    func resettingUpstreamDoesNotStopTheListener() async throws {
        try await GatewayFixture.run(.resetAtOnce) { fixture in
            for _ in 0..<20 {
                let socket = try BlockingSocket.connect(port: fixture.port)
                #expect(socket.read(timeout: .seconds(5)) == .endOfStream)
            }
            #expect(fixture.gateway.listening)
            #expect(await eventually { fixture.gateway.connectionCount == 0 })
            let causes = fixture.observer.closes.withLock { $0 }
            #expect(causes.count == 20)
            #expect(causes.allSatisfy { if case .error = $0 { true } else { false } }, "\(causes)")
        }
    }

    @Test("an upstream that is down closes the client and is reported; the listener stays")
    func unreachableUpstreamIsReported() async throws {
        try await GatewayFixture.run { fixture in
            await fixture.upstream.close()
            for _ in 0..<5 {
                let socket = try BlockingSocket.connect(port: fixture.port)
                #expect(socket.read(timeout: .seconds(5)) == .endOfStream)
            }
            #expect(fixture.gateway.listening)
            #expect(fixture.observer.upstreamFailures.withLock { $0.count } == 5)
            #expect(await eventually { fixture.gateway.connectionCount == 0 })
            let causes = fixture.observer.closes.withLock { $0 }
            #expect(causes.count == 5)
            #expect(causes.allSatisfy { if case .error = $0 { true } else { false } })
        }
    }

    @Test("stop closes the listener and every connection")
    func stopClosesEverything() async throws {
        try await GatewayFixture.run { fixture in
            let port = fixture.port
            let socket = try fixture.connectAndGreet()
            await fixture.gateway.stop()
            #expect(!fixture.gateway.listening)
            #expect(fixture.gateway.connectionCount == 0)
            #expect(socket.read(timeout: .seconds(2)) == .endOfStream)
            #expect(throws: BlockingSocket.Failure.self) { try BlockingSocket.connect(port: port) }
        }
    }
}
