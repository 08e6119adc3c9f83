#if canImport(Glibc)
import Glibc
#endif
import Foundation
// The packets it hands out are NetfilterLog's values.
import NetfilterLog
import Synchronization

/// Receives what the kernel logs to one NFLOG group, on a thread of its own (a blocking
/// `recv`, never on an event loop), and hands each client packet to `handler`.
///
/// Needs CAP_NET_ADMIN (not CAP_NET_RAW): it works in a container that may change iptables.
/// A group has one reader per network namespace; the agent uses its public port as the group,
/// so concurrent agents never share one.
public final class NflogReader: Sendable {
    public let group: UInt16
    private let socket: Int32
    private let stopped = Atomic<Bool>(false)

    /// Binds a netlink socket to `group`, copying the first 80 bytes of each packet (IP and
    /// TCP headers) and delivering every packet at once. Throws when the kernel refuses.
    public init(group: UInt16) throws {
        self.group = group
        let fd = Glibc.socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 12) // NETLINK_NETFILTER
        guard fd >= 0 else { throw NflogFailure("socket(AF_NETLINK, NETLINK_NETFILTER): \(String(cString: strerror(errno)))") }
        socket = fd
        do {
            // struct sockaddr_nl { sa_family_t nl_family; u16 pad; u32 nl_pid; u32 nl_groups }, all zero
            // but the family: the kernel picks our port id.
            var address = [UInt8](repeating: 0, count: 12)
            withUnsafeBytes(of: sa_family_t(AF_NETLINK)) { address.replaceSubrange(0..<2, with: $0) }
            let bound = address.withUnsafeBytes {
                bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(12))
            }
            guard bound == 0 else { throw NflogFailure("bind netlink socket: \(String(cString: strerror(errno)))") }
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer: Int32 = 1 << 20
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
            try request(NflogMessage.config(group: group, command: .bind, sequence: 1), what: "bind NFLOG group \(group)")
            try request(NflogMessage.config(group: group, copyRange: 80, queueThreshold: 1, sequence: 2),
                        what: "configure NFLOG group \(group)")
        } catch {
            close(fd)
            throw error
        }
    }

    private func request(_ message: [UInt8], what: String) throws {
        let sent = message.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) }
        guard sent == message.count else { throw NflogFailure("\(what): \(String(cString: strerror(errno)))") }
        var reply = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<10 {
            let count = reply.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            guard count > 0 else { break }
            if let code = NflogMessage.acknowledgement(Array(reply[0..<count])) {
                guard code == 0 else { throw NflogFailure("\(what): \(String(cString: strerror(-code)))") }
                return
            }
        }
        throw NflogFailure("\(what): no answer from the kernel")
    }

    /// Starts the reading thread. `handler` gets each packet and the time it was received
    /// (seconds since 1970), on that thread.
    public func start(_ handler: @escaping @Sendable (ClientPacket, Double) -> Void) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while !stopped.load(ordering: .acquiring) {
                let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { continue }
                let received = Date().timeIntervalSince1970
                for packet in NflogMessage.packets(Array(buffer[0..<count])) { handler(packet, received) }
            }
            close(socket)
        }
        thread.name = "nflog-\(group)"
        thread.start()
    }

    /// Stops the thread (within its 0.2 s receive timeout) and closes the socket.
    public func stop() {
        stopped.store(true, ordering: .releasing)
    }
}

public struct NflogFailure: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
