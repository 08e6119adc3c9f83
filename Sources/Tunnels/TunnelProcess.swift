import Foundation
import Infrastructure

/// The tunnel this state directory started (`run/tunnel.json`, mode 0600): enough to show its
/// public address and to stop exactly that process — by pid, checked against its start time so
/// that a recycled pid is never signalled.
public struct TunnelRecord: Codable, Sendable, Equatable {
    public var provider: TunnelProvider
    public var pid: Int32
    /// Field 22 of /proc/PID/stat when it started (clock ticks since boot).
    public var startTime: UInt64
    public var program: String
    public var publicHost: String?
    public var publicPort: Int?
    public var gatewayPort: Int
    public var started: Date

    enum CodingKeys: String, CodingKey {
        case provider, pid, program, started
        case startTime = "start_time", publicHost = "public_host", publicPort = "public_port", gatewayPort = "gateway_port"
    }

    /// `host:port`, or the host alone when the provider has no public port.
    public var publicAddress: String? {
        guard let publicHost else { return nil }
        return publicPort.map { "\(publicHost):\($0)" } ?? publicHost
    }
}

/// What `tunnel --status` and `status` show.
public struct TunnelState: Codable, Sendable, CustomStringConvertible {
    public var running: Bool
    public var record: TunnelRecord?

    public init(running: Bool, record: TunnelRecord?) {
        self.running = running
        self.record = record
    }

    public var description: String {
        guard let record else { return "Tunnel     none (start one with `toolkit tunnel --provider ssh|ngrok|cloudflare`)" }
        let address = record.publicAddress ?? "(address unknown)"
        if running {
            return "Tunnel     \(record.provider.rawValue), pid \(record.pid): ETL tools connect to \(address) → gateway port \(record.gatewayPort)"
        }
        return "Tunnel     \(record.provider.rawValue) pid \(record.pid) is NOT RUNNING (was \(address)); see \(record.provider.rawValue) log"
    }
}

/// Starts, finds and stops the tunnel program. Only the process recorded in `run/tunnel.json` is
/// ever signalled.
public enum TunnelProcess {
    public static func recordFile(_ state: StateDirectory) -> URL { state.runDirectory.appendingPathComponent("tunnel.json") }
    public static func logFile(_ state: StateDirectory) -> URL { state.logDirectory.appendingPathComponent("tunnel.log") }

    public static func record(state: StateDirectory) -> TunnelRecord? {
        guard let data = try? OwnedPath.readTrusted(recordFile(state)) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(TunnelRecord.self, from: data)
    }

    /// The recorded tunnel, and whether that very process still runs.
    public static func state(_ state: StateDirectory) -> TunnelState {
        guard let record = record(state: state) else { return TunnelState(running: false, record: nil) }
        return TunnelState(running: isOurs(record), record: record)
    }

    static func isOurs(_ record: TunnelRecord) -> Bool {
        ProcessIdentity(pid: record.pid, startTicks: record.startTime).isRunning
    }

    /// Starts `plan` with `executable`, waits (bounded) until it is up, and records it. On failure
    /// the process is stopped and the error quotes the end of its log.
    public static func start(_ plan: TunnelPlan, executable: String, gatewayPort: Int, state: StateDirectory,
                             ngrokAPI: (host: String, port: Int) = ("127.0.0.1", 4040),
                             timeout: Duration = .seconds(30)) throws -> TunnelRecord {
        try state.prepareOwnDirectories()
        let log = logFile(state)
        try? FileManager.default.removeItem(at: log)
        var environment = ProcessInfo.processInfo.environment
        environment.merge(plan.environment) { $1 }
        let pid = try ChildProcess.spawn(executable, plan.arguments, log: log, detached: true, environment: environment)
        var record = TunnelRecord(provider: plan.provider, pid: pid, startTime: ProcessIdentity.of(pid)?.startTicks ?? 0,
                                  program: executable, publicHost: plan.publicHost, publicPort: plan.publicPort,
                                  gatewayPort: gatewayPort, started: Date())
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var ready = false
        while !ready && clock.now < deadline {
            guard ChildProcess.isAlive(pid) else { break }
            if let marker = plan.readyMarker {
                ready = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains(marker)
            } else if let body = LoopbackHTTP.get(host: ngrokAPI.host, port: ngrokAPI.port, path: "/api/tunnels"),
                      let address = NgrokTunnels.publicAddress(from: body) {
                (record.publicHost, record.publicPort) = (address.host, address.port)
                ready = true
            }
            if !ready { Thread.sleep(forTimeInterval: 0.1) }
        }
        guard ready else {
            let alive = ChildProcess.isAlive(pid)
            stop(pid: pid)
            let tail = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n")
                .filter { !$0.hasPrefix("debug") }.suffix(3).joined(separator: " | ")
            throw ToolkitError("the \(plan.provider.rawValue) tunnel \(alive ? "was not up within \(timeout)" : "exited"): \(tail.isEmpty ? "no output" : tail) (log: \(log.path))")
        }
        try save(record, state: state)
        return record
    }

    static func save(_ record: TunnelRecord, state: StateDirectory) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try OwnedPath.createPrivate(recordFile(state), contents: encoder.encode(record))
    }

    /// Stops the recorded tunnel if that process still runs, and forgets it. Returns what was stopped.
    @discardableResult
    public static func stop(state: StateDirectory) -> TunnelRecord? {
        guard let record = record(state: state) else { return nil }
        if isOurs(record) { stop(pid: record.pid) }
        try? FileManager.default.removeItem(at: recordFile(state))
        return record
    }

    /// SIGTERM, then SIGKILL after 5 s.
    static func stop(pid: pid_t) {
        kill(pid, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(5))
        while ChildProcess.isAlive(pid) && clock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if ChildProcess.isAlive(pid) { kill(pid, SIGKILL) }
    }
}

/// A plain HTTP/1.0 GET to a loopback address (ngrok's local API); nil on any failure. Bounded by
/// a 2 s socket timeout.
enum LoopbackHTTP {
    static func get(host: String, port: Int, path: String) -> [UInt8]? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: \(host)\r\nAccept: application/json\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while response.count < 1_048_576 {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        guard let headerEnd = response.firstRange(of: Array("\r\n\r\n".utf8)),
              String(decoding: response[..<headerEnd.lowerBound], as: UTF8.self).hasPrefix("HTTP/1.") ,
              String(decoding: response[..<min(12, response.count)], as: UTF8.self).contains(" 200") else { return nil }
        return Array(response[headerEnd.upperBound...])
    }
}
