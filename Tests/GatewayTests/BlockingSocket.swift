#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain blocking POSIX TCP client on 127.0.0.1, to see exactly what the kernel reports
/// (ECONNREFUSED, ECONNRESET) without NIO in between. Every call is bounded by a timeout.
final class BlockingSocket {
    struct Failure: Error, Equatable, CustomStringConvertible {
        var call: String
        var errno: Int32
        var description: String { "\(call): \(String(cString: strerror(errno))) (errno \(errno))" }
    }

    enum ReadOutcome: Equatable {
        case data([UInt8])
        case endOfStream
        case timedOut
        case failed(errno: Int32)
    }

    private var fd: Int32

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// Connects to 127.0.0.1:`port`; throws `Failure` with the connect errno.
    static func connect(port: Int) throws(Failure) -> BlockingSocket {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(call: "socket", errno: errno) }
        let socket = BlockingSocket(fd: fd)
        var noDelay: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        socket.setTimeout(SO_SNDTIMEO, .seconds(10))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw Failure(call: "connect", errno: errno) }
        return socket
    }

    func send(_ bytes: [UInt8]) throws(Failure) {
        var sent = 0
        while sent < bytes.count {
            let result = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard result > 0 else { throw Failure(call: "send", errno: errno) }
            sent += result
        }
    }

    func send(_ text: String) throws(Failure) {
        try send(Array(text.utf8))
    }

    /// One `recv`, waiting at most `timeout`.
    func read(timeout: Duration, maxBytes: Int = 65536) -> ReadOutcome {
        setTimeout(SO_RCVTIMEO, timeout)
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        let result = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if result > 0 { return .data(Array(buffer[0..<result])) }
        if result == 0 { return .endOfStream }
        let error = errno
        return error == EAGAIN || error == EWOULDBLOCK ? .timedOut : .failed(errno: error)
    }

    /// Reads until `count` bytes arrived, the stream ends, an error, or `timeout` passed.
    func read(count: Int, timeout: Duration) -> (bytes: [UInt8], end: ReadOutcome?) {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var bytes: [UInt8] = []
        while bytes.count < count {
            let left = deadline - clock.now
            guard left > .zero else { return (bytes, .timedOut) }
            switch read(timeout: left, maxBytes: count - bytes.count) {
            case .data(let chunk): bytes += chunk
            case let other: return (bytes, other)
            }
        }
        return (bytes, nil)
    }

    /// Reads `text.utf8.count` bytes and returns them as a string ("" plus what ended it otherwise).
    func readText(_ count: Int, timeout: Duration = .seconds(5)) -> String {
        String(decoding: read(count: count, timeout: timeout).bytes, as: UTF8.self)
    }

    func shutdownWrite() {
        _ = shutdown(fd, Int32(SHUT_WR))
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    private func setTimeout(_ option: Int32, _ timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        if value.tv_sec == 0 && value.tv_usec == 0 { value.tv_usec = 1 }
        setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
    }
}
