import Foundation

/// Whether a TCP port on loopback can be bound, and which nearby one can.
public enum PortProbe {
    public static func isFree(_ port: Int, host: String = "127.0.0.1") -> Bool {
        bound(port, host: host) { _ in true } ?? false
    }

    /// Fails with a one-line error naming --port and a free port to try instead.
    public static func requireFree(_ port: Int) throws {
        guard !isFree(port) else { return }
        let hint = suggestion(after: port).map { "; try --port \($0)" } ?? ""
        throw ToolkitError("--port \(port) is already in use on 127.0.0.1\(hint)")
    }

    /// The first free port after `port` (within 100), for "try --port N" suggestions.
    public static func suggestion(after port: Int) -> Int? {
        (port + 1...min(port + 100, 65535)).first { isFree($0) }
    }

    /// A port the kernel picks as free right now.
    public static func ephemeral() -> Int {
        bound(0, host: "127.0.0.1") { fd in
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            return Int(UInt16(bigEndian: address.sin_port))
        } ?? 0
    }

    /// Binds a TCP socket to `host:port` (SO_REUSEADDR), runs `body` on it and closes it;
    /// nil when the port cannot be bound.
    private static func bound<T>(_ port: Int, host: String, _ body: (Int32) -> T) -> T? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0 ? body(fd) : nil
    }
}
