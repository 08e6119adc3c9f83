import Foundation

/// The bearer token a TCP control API demands: 32 random bytes from the kernel, as hex.
enum ControlToken {
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }
}

/// The agent's descriptor limit: raised to the hard limit at start, so that a flood of connections
/// (bounded by the control API's own cap) leaves the gateway room to accept and relay.
enum FileLimit {
    static func raiseToHard() {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
}
