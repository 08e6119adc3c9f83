import Flavor
import Foundation
import Infrastructure
import MariaDB

/// `toolkit status`: the server, its binary log, tables, replication clients and CDC readiness.
public struct StatusReport: Codable, Sendable {
    public struct Server: Codable, Sendable {
        public var running: Bool
        public var managed: Bool
        public var host: String
        public var port: Int
        public var flavor: String?
        public var version: String?
        /// The version the server reports, when it is not its own (MariaDB's `version=8.0.40-...`).
        public var reportedVersion: String?
        public var uptimeSeconds: Int?
        public var threadsConnected: Int?
        public var dataDirectory: String?
        public var dataDirectoryBytes: UInt64?
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case running, managed, host, port, flavor, version, error
            case reportedVersion = "reported_version"
            case uptimeSeconds = "uptime_seconds", threadsConnected = "threads_connected"
            case dataDirectory = "data_directory", dataDirectoryBytes = "data_directory_bytes"
        }
    }

    public struct ReplicationClient: Codable, Sendable {
        public var id: Int
        public var user: String
        public var host: String
        public var seconds: Int
        public var command: String
    }

    public struct Check: Codable, Sendable {
        public var name: String
        public var ok: Bool
        public var value: String
        public var fix: String?
    }

    /// The agent in front of the server: where ETL tools connect, and what is broken now.
    public struct Agent: Codable, Sendable {
        public var running: Bool
        public var pid: Int32?
        public var backend: String?
        public var listen: String?
        public var listening: Bool?
        public var connections: Int?
        public var faults: [String]
        public init(running: Bool, pid: Int32? = nil, backend: String? = nil, listen: String? = nil,
                    listening: Bool? = nil, connections: Int? = nil, faults: [String] = []) {
            self.running = running
            self.pid = pid
            self.backend = backend
            self.listen = listen
            self.listening = listening
            self.connections = connections
            self.faults = faults
        }
    }

    /// TLS of a managed source: what the toolkit does with it, the CA clients verify with, and
    /// whether the server serves TLS now (`have_ssl`).
    public struct TLS: Codable, Sendable {
        public var mode: TLSMode
        public var caCertificate: String?
        public var serverServesTLS: Bool?

        enum CodingKeys: String, CodingKey {
            case mode
            case caCertificate = "ca_certificate", serverServesTLS = "server_serves_tls"
        }
    }

    /// The tunnel that exposes the gateway to SaaS tools (`toolkit tunnel`), when one was started.
    public struct Tunnel: Codable, Sendable {
        public var provider: String
        public var pid: Int32
        public var running: Bool
        public var publicAddress: String?
        enum CodingKeys: String, CodingKey { case provider, pid, running, publicAddress = "public_address" }
        public init(provider: String, pid: Int32, running: Bool, publicAddress: String?) {
            (self.provider, self.pid, self.running, self.publicAddress) = (provider, pid, running, publicAddress)
        }
    }

    public var server: Server
    public var agent: Agent?
    public var tls: TLS?
    public var tunnel: Tunnel?
    public var binlog: BinlogState?
    public var database: String
    public var tables: [String: Int]
    public var replicationClients: [ReplicationClient]
    public var checks: [Check]

    enum CodingKeys: String, CodingKey {
        case server, agent, tunnel, binlog, database, tables, checks, tls
        case replicationClients = "replication_clients"
    }

    /// Reads everything from `target`; a server that cannot be reached gives `running: false` and the error.
    public static func read(_ target: Target) -> StatusReport {
        var server = Server(running: false, managed: target.state != nil, host: target.admin.host,
                            port: target.config?.publicPort ?? target.admin.port)
        var report = StatusReport(server: server, binlog: nil, database: target.database, tables: [:],
                                  replicationClients: [], checks: [])
        let connection: MariaDBConnection
        do {
            connection = try target.connect()
        } catch {
            report.server.error = "\(error)"
            return report
        }
        defer { connection.close() }
        do {
            server.running = true
            guard let flavor = try connection.identifyFlavor() else {
                throw ToolkitError("unrecognised server version '\(connection.serverVersion)'")
            }
            server.flavor = flavor.family.rawValue
            server.version = flavor.version
            // A server may call itself another version (MariaDB's `version=8.0.40-...`): both are shown.
            if !connection.serverVersion.hasPrefix(flavor.version) { server.reportedVersion = connection.serverVersion }
            let globals = try connection.query(
                "SHOW GLOBAL STATUS WHERE Variable_name IN ('Uptime', 'Threads_connected')")
            for row in globals.rows {
                if row[0] == "Uptime" { server.uptimeSeconds = Int(row[1] ?? "") }
                if row[0] == "Threads_connected" { server.threadsConnected = Int(row[1] ?? "") }
            }
            if let state = target.state {
                server.dataDirectory = state.dataDirectory.path
                server.dataDirectoryBytes = DirectorySize.bytes(at: state.dataDirectory)
            }
            report.server = server
            if let state = target.state, let config = target.config {
                let ca = ToolkitCA(state: state)
                let haveSSL = try? connection.query("SHOW GLOBAL VARIABLES LIKE 'have_ssl'").rows.first?[1]
                report.tls = TLS(mode: config.tlsMode, caCertificate: ca.exists ? ca.caCertificate.path : nil,
                                 serverServesTLS: haveSSL.map { $0 == "YES" })
            }
            report.binlog = try BinlogState.read(connection, flavor: flavor)
            report.tables = (try? TableCounts.read(connection, database: target.database)) ?? [:]
            report.replicationClients = try connection.query(flavor.dumpThreadsQuery).rows.map {
                ReplicationClient(id: Int($0[0] ?? "") ?? 0, user: $0[1] ?? "", host: $0[2] ?? "",
                                  seconds: Int($0[3] ?? "") ?? 0, command: $0[4] ?? "")
            }
            report.checks = try ReadinessChecks.run(connection, flavor: flavor, etlUser: target.etlUser)
        } catch {
            report.server = server
            report.server.error = "\(error)"
        }
        return report
    }

    public var isReady: Bool { server.running && checks.allSatisfy(\.ok) }
}

extension StatusReport: CustomStringConvertible {
    public var description: String {
        var lines: [String] = []
        let name = server.flavor == "mysql" ? "MySQL" : "MariaDB"
        if server.running {
            lines.append("Server     running — \(name) \(server.version ?? "?")\(server.reportedVersion.map { " (reports \($0))" } ?? "") at \(server.host):\(server.port)\(server.managed ? " (managed)" : "")")
            lines.append("           uptime \(Duration.seconds(server.uptimeSeconds ?? 0).shortText), \(server.threadsConnected ?? 0) threads connected")
            if let directory = server.dataDirectory {
                lines.append("           data \(directory) (\(ByteCount.text(server.dataDirectoryBytes ?? 0)))")
            }
        } else {
            lines.append("Server     NOT RUNNING at \(server.host):\(server.port)")
            if let error = server.error { lines.append("           \(error)") }
            return lines.joined(separator: "\n")
        }
        if let error = server.error { lines.append("           error: \(error)") }
        if let agent {
            if agent.running {
                let faults = agent.faults.isEmpty ? "network clear" : "FAULTS: " + agent.faults.joined(separator: ", ")
                lines.append("Agent      pid \(agent.pid ?? 0), \(agent.backend ?? "?") backend, ETL tools connect to \(agent.listen ?? "?")\(agent.listening == false ? " (not listening)" : ""); \(faults)")
            } else {
                lines.append("Agent      NOT RUNNING — no gateway, no faults (start it with `toolkit up`)")
            }
        }
        if let tls {
            let serving = tls.serverServesTLS.map { $0 ? "server serves TLS" : "server offers NO TLS" } ?? "server TLS unknown"
            let gateway = switch tls.mode {
            case .terminate: "gateway terminates TLS (observed)"
            case .passthrough: "gateway relays TLS blind (not observable)"
            case .off: "TLS off"
            }
            lines.append("TLS        \(gateway); \(serving); CA \(tls.caCertificate ?? "(none)")")
        }
        if let tunnel {
            let address = tunnel.publicAddress ?? "(address unknown)"
            lines.append(tunnel.running ? "Tunnel     \(tunnel.provider), pid \(tunnel.pid): public address \(address)"
                                        : "Tunnel     \(tunnel.provider) pid \(tunnel.pid) NOT RUNNING (was \(address))")
        }
        if let binlog {
            if binlog.enabled {
                lines.append("Binlog     \(binlog.file ?? "?"):\(binlog.position ?? 0)  GTID \(binlog.gtid?.isEmpty == false ? binlog.gtid! : "(none)")")
                lines.append("           \(binlog.filesCount) files, \(ByteCount.text(binlog.totalBytes))")
            } else {
                lines.append("Binlog     OFF")
            }
        }
        let tableText = tables.keys.sorted().map { "\($0) \(tables[$0]!)" }.joined(separator: ", ")
        lines.append("Tables     \(database): \(tableText.isEmpty ? "(none)" : tableText)")
        if replicationClients.isEmpty {
            lines.append("Readers    none connected")
        } else {
            for client in replicationClients {
                lines.append("Readers    #\(client.id) \(client.user)@\(client.host), \(client.command), \(client.seconds) s")
            }
        }
        lines.append("CDC checks")
        for check in checks {
            lines.append("  \(check.ok ? "ok " : "NOT") \(check.name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(check.value)\(check.ok ? "" : " — fix: \(check.fix ?? "")")")
        }
        return lines.joined(separator: "\n")
    }
}

/// Total size of the files under a directory (what we can read of it).
enum DirectorySize {
    static func bytes(at url: URL) -> UInt64 {
        guard let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.fileSizeKey]) else { return 0 }
        var total: UInt64 = 0
        for case let file as URL in walker {
            total += UInt64((try? file.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0)
        }
        return total
    }
}

public enum ByteCount {
    public static func text(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}

extension Duration {
    var shortText: String {
        let total = Int(components.seconds)
        if total < 60 { return "\(total) s" }
        if total < 3600 { return "\(total / 60) min \(total % 60) s" }
        return "\(total / 3600) h \(total % 3600 / 60) min"
    }
}
