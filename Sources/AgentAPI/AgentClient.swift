import Foundation
import Measurements

/// The one client of the agent's control API: a typed method per operation (`AgentRequest`), over
/// its Unix socket or (when the agent was asked for TCP) loopback TCP with a bearer token. Calls
/// block, one request per connection: its callers are synchronous (the CLI's commands, on the main
/// thread), never a task on Swift's cooperative pool.
public struct AgentClient: Sendable {
    public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        case unix(path: String)
        case tcp(host: String, port: Int, token: String)

        public var description: String {
            switch self {
            case .unix(let path): path
            case .tcp(let host, let port, _): "\(host):\(port)"
            }
        }
    }

    public let endpoint: Endpoint
    public var timeoutSeconds: Int

    public init(endpoint: Endpoint, timeoutSeconds: Int = 30) {
        self.endpoint = endpoint
        self.timeoutSeconds = timeoutSeconds
    }

    public enum Failure: Error, CustomStringConvertible {
        /// Nothing answers: the agent is not running, or this account may not reach it.
        case unreachable(String)
        /// The agent answered with an error.
        case refused(AgentFailure)
        case malformed(String)

        /// Nothing (or only part of an answer) came back: whether a request took effect, only
        /// the agent's status and journal can tell.
        public var isUnreachable: Bool { if case .unreachable = self { true } else { false } }

        public var description: String {
            switch self {
            case .unreachable(let reason): "the agent does not answer: \(reason)"
            case .refused(let failure): failure.message
            case .malformed(let reason): "the agent's answer could not be read: \(reason)"
            }
        }
    }

    // MARK: The operations (`AgentRequest`), each with its typed answer

    public func status() throws(Failure) -> AgentStatus { try call(.status) }

    /// A fault command (`--down`, `--flap`, `--slow`, `--up`...); answers the status after it.
    public func apply(_ command: FaultCommand) throws(Failure) -> AgentStatus { try call(.faults(command)) }

    /// `network --up`: every fault ended, whatever the state.
    public func restoreAll() throws(Failure) -> AgentStatus { try apply(FaultCommand(action: .up)) }

    public func events(since: UInt64) throws(Failure) -> EventPage { try call(.events(since: since)) }

    public func window(_ id: Int) throws(Failure) -> WindowReport { try call(.window(id: id)) }

    @discardableResult
    public func note(_ note: JournalNote) throws(Failure) -> JournalNote { try call(.note(note)) }

    @discardableResult
    public func shutdown() throws(Failure) -> AgentStatus { try call(.shutdown) }

    /// The control API's OpenAPI document, as the agent serves it.
    public func openAPIDocument() throws(Failure) -> Data {
        let (status, payload) = try exchange(.openAPI)
        guard status < 400 else { throw Self.failure(status, payload) }
        return payload
    }

    private func call<Answer: Decodable>(_ request: AgentRequest) throws(Failure) -> Answer {
        let (status, payload) = try exchange(request)
        guard status < 400 else { throw Self.failure(status, payload) }
        do { return try JSONDecoder().decode(Answer.self, from: payload) } catch { throw .malformed("\(error)") }
    }

    private static func failure(_ status: Int, _ payload: Data) -> Failure {
        .refused((try? JSONDecoder().decode(AgentFailure.self, from: payload))
            ?? AgentFailure(status: status, message: String(decoding: payload, as: UTF8.self)))
    }

    private func exchange(_ request: AgentRequest) throws(Failure) -> (Int, Data) {
        let encoded: (method: String, target: String, body: Data)
        do { encoded = try request.encoded() } catch { throw .malformed("\(error)") }
        return try exchange(encoded.method, encoded.target, body: encoded.body)
    }

    private func exchange(_ method: String, _ target: String, body: Data) throws(Failure) -> (Int, Data) {
        let fd = try connected()
        defer { close(fd) }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        if case .tcp(_, _, let token) = endpoint { head += "Authorization: Bearer \(token)\r\n" }
        head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        var outgoing = Data(head.utf8)
        outgoing.append(body)
        let sent = outgoing.withUnsafeBytes { bytes -> Bool in
            var offset = 0
            while offset < bytes.count {
                let written = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                if written <= 0 { return false }
                offset += written
            }
            return true
        }
        guard sent else { throw .unreachable(String(cString: strerror(errno))) }
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw .unreachable("reading: \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            response.append(contentsOf: buffer[0..<count])
        }
        // Closed before a whole header: the agent went away while answering (killed, restarting).
        guard let split = response.range(of: Data("\r\n\r\n".utf8)) else {
            throw .unreachable(response.isEmpty ? "it closed the connection without answering" : "it closed the connection in the middle of its answer")
        }
        let header = String(decoding: response[..<split.lowerBound], as: UTF8.self)
        let parts = header.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { throw .malformed("bad status line") }
        return (status, Data(response[split.upperBound...]))
    }

    /// A socket connected to the agent, with send and receive timeouts.
    private func connected() throws(Failure) -> Int32 {
        let family = if case .unix = endpoint { AF_UNIX } else { AF_INET }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .unreachable(String(cString: strerror(errno))) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result: Int32
        switch endpoint {
        case .unix(let path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                close(fd)
                throw .unreachable("the socket path \(path) is longer than the system allows")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        case .tcp(let host, let port, _):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr(host)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            if code == EACCES || code == EPERM {
                throw .unreachable("\(endpoint): permission denied; only the account that started the agent can drive it")
            }
            throw .unreachable("\(endpoint): \(String(cString: strerror(code)))")
        }
        return fd
    }
}
