import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum GatewayError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Another socket holds the listen address (EADDRINUSE).
    case addressInUse(host: String, port: Int)
    /// Binding the listen address failed for another reason.
    case listenFailed(host: String, port: Int, reason: String)
    /// `start()` was called twice, or after `stop()`.
    case alreadyStarted
    case stopped

    public var description: String {
        switch self {
        case .addressInUse(let host, let port):
            "cannot listen on \(host):\(port): address already in use (EADDRINUSE)"
        case .listenFailed(let host, let port, let reason):
            "cannot listen on \(host):\(port): \(reason)"
        case .alreadyStarted:
            "the gateway is already started"
        case .stopped:
            "the gateway is stopped"
        }
    }

    static func listen(host: String, port: Int, error: any Error) -> GatewayError {
        if let error = error as? IOError, error.errnoCode == EADDRINUSE {
            return .addressInUse(host: host, port: port)
        }
        return .listenFailed(host: host, port: port, reason: "\(error)")
    }
}
