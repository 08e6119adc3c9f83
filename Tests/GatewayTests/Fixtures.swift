import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import Gateway

extension Tag {
    /// Real sockets and real time.
    @Tag static var sockets: Self
    /// Moves hundreds of megabytes or hundreds of connections.
    @Tag static var slow: Self
}

/// Classifies a connection as replication when the client's first byte is "R".
final class FirstByteTap: ConnectionTap {
    private var firstByte: UInt8?
    private let observer: RecordingObserver

    init(observer: RecordingObserver) {
        self.observer = observer
    }

    func clientToServer(_ bytes: UnsafeRawBufferPointer) {
        if firstByte == nil, let byte = bytes.first { firstByte = byte }
    }

    func serverToClient(_ bytes: UnsafeRawBufferPointer) {}

    var isReplication: Bool { firstByte == UInt8(ascii: "R") }

    func closed(by cause: CloseCause, at: Date) {
        observer.closes.withLock { $0.append(cause) }
    }
}

final class RecordingObserver: GatewayObserver {
    let closes = Mutex<[CloseCause]>([])
    let upstreamFailures = Mutex<[String]>([])
    let clients = Mutex<[String]>([])

    func accepted(connectionID: UInt64, client: String) -> ConnectionTap? {
        clients.withLock { $0.append(client) }
        return FirstByteTap(observer: self)
    }

    func upstreamFailed(connectionID: UInt64, error: String) {
        upstreamFailures.withLock { $0.append(error) }
    }
}

/// A gateway on 127.0.0.1 and an ephemeral port in front of a `TestUpstream`.
struct GatewayFixture {
    let group: MultiThreadedEventLoopGroup
    let upstream: TestUpstream
    let gateway: Gateway
    let observer: RecordingObserver

    var port: Int { gateway.boundPort }

    static func run<T>(
        _ behaviour: UpstreamBehaviour = .greetAndEcho(greeting: "hello"),
        threads: Int = 2,
        _ body: (GatewayFixture) async throws -> T
    ) async throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let upstream = try await TestUpstream(behaviour, group: group)
        let observer = RecordingObserver()
        let gateway = Gateway(
            listenHost: "127.0.0.1", listenPort: 0,
            upstreamHost: "127.0.0.1", upstreamPort: upstream.port,
            group: group, observer: observer)
        let fixture = GatewayFixture(group: group, upstream: upstream, gateway: gateway, observer: observer)
        do {
            try await gateway.start()
            let result = try await body(fixture)
            await fixture.tearDown()
            return result
        } catch {
            await fixture.tearDown()
            throw error
        }
    }

    private init(group: MultiThreadedEventLoopGroup, upstream: TestUpstream, gateway: Gateway, observer: RecordingObserver) {
        self.group = group
        self.upstream = upstream
        self.gateway = gateway
        self.observer = observer
    }

    private func tearDown() async {
        await gateway.stop()
        await upstream.close()
        try? await group.shutdownGracefully()
    }

    /// Connects through the gateway and reads the upstream's greeting.
    func connectAndGreet(_ greeting: String = "hello") throws -> BlockingSocket {
        let socket = try BlockingSocket.connect(port: port)
        let received = socket.readText(greeting.utf8.count)
        #expect(received == greeting)
        return socket
    }
}

/// Polls `condition` every 10 ms for at most `timeout`.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
