import Flavor
import Foundation
import Infrastructure
import MariaDB
import Source

/// `toolkit break`: what happens to an ETL tool's connections and binlog stream on the server
/// side, and `--undo`, which brings the settings of a fresh source back (see `Bootstrap`).
public struct ConnectionBreakage {
    public struct Request: Sendable {
        public var killETLConnections = false
        public var waitTimeout: Int?
        public var revokeReplication = false
        public var rowImage: String?
        public var undo = false
        public init() {}
    }

    public struct Settings: Codable, Sendable {
        public var waitTimeout: String?
        public var binlogRowImage: String?
        public var etlHasReplication: Bool
        enum CodingKeys: String, CodingKey {
            case waitTimeout = "wait_timeout", binlogRowImage = "binlog_row_image", etlHasReplication = "etl_has_replication"
        }
    }

    public struct Result: Codable, Sendable, CustomStringConvertible {
        public var actions: [String]
        public var killedConnections: [String]
        public var before: Settings
        public var after: Settings
        public var notes: [String]
        enum CodingKeys: String, CodingKey {
            case actions, before, after, notes
            case killedConnections = "killed_connections"
        }
        public var description: String {
            var lines = ["break"]
            lines += actions.map { "  ran: \($0)" }
            if !killedConnections.isEmpty { lines.append("  killed: " + killedConnections.joined(separator: "; ")) }
            func show(_ settings: Settings) -> String {
                "wait_timeout \(settings.waitTimeout ?? "?"), binlog_row_image \(settings.binlogRowImage ?? "?"), "
                    + "ETL user \(settings.etlHasReplication ? "has" : "lacks") REPLICATION SLAVE"
            }
            lines.append("  before: " + show(before))
            lines.append("  after:  " + show(after))
            lines += notes.map { "  \($0)" }
            return lines.joined(separator: "\n")
        }
    }

    let target: Target
    public init(target: Target) { self.target = target }

    func settings(_ connection: MariaDBConnection, accounts: [String]) throws -> Settings {
        try doing("reading the server's settings") {
            var hasReplication = !accounts.isEmpty
            for account in accounts {
                let grants = try connection.query("SHOW GRANTS FOR \(account)").rows.compactMap { $0[0] }
                if !grants.contains(where: { $0.uppercased().contains("REPLICATION SLAVE") || $0.uppercased().contains("ALL PRIVILEGES ON *.*") }) {
                    hasReplication = false
                }
            }
            return Settings(waitTimeout: try connection.globalVariable("wait_timeout"),
                            binlogRowImage: try connection.globalVariable("binlog_row_image"), etlHasReplication: hasReplication)
        }
    }

    public func run(_ request: Request) throws -> Result {
        let connection = try target.connect()
        defer { connection.close() }
        let flavor = connection.flavor
        let accounts = try doing("finding the ETL user's accounts") {
            try connection.query("SELECT User, Host FROM mysql.user WHERE User = ? ORDER BY Host", [.text(target.etlUser)])
                .rows.map { SQLText.account($0[0] ?? "", $0[1] ?? "") }
        }
        let before = try settings(connection, accounts: accounts)
        var result = Result(actions: [], killedConnections: [], before: before, after: before, notes: [])
        func run(_ sql: String) throws {
            do { try connection.execute(sql) } catch { throw ToolkitError.server("running \(sql)", error) }
            result.actions.append(sql)
        }
        func kill(where condition: String, _ parameters: [Value]) throws {
            let rows = try doing("listing connections") {
                try connection.query("SELECT ID, USER, HOST, COMMAND FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND \(condition) ORDER BY ID", parameters).rows
            }
            for row in rows {
                guard let id = row[0].flatMap({ UInt64($0) }) else { continue }
                if let error = ReplicationScenario.attempt({ () throws(MariaDBError) in _ = try connection.execute("KILL CONNECTION \(id)") }) {
                    if error.number == 1094 { continue }  // gone meanwhile
                    throw ToolkitError.server("running KILL CONNECTION \(id)", error)
                }
                result.actions.append("KILL CONNECTION \(id)")
                result.killedConnections.append("\(id) \(row[1] ?? "?")@\(row[2] ?? "?") (\(row[3] ?? "?"))")
            }
        }

        if request.undo {
            try run("SET GLOBAL wait_timeout = \(Bootstrap.waitTimeoutSeconds)")
            try run("SET GLOBAL binlog_row_image = \(SQLText.literal(Bootstrap.binlogRowImage))")
            for account in accounts { try run(Bootstrap.etlGlobalGrant(flavor: flavor, account: account)) }
            result.notes.append("sessions opened while the settings were changed keep their own wait_timeout and binlog_row_image until they reconnect")
        }
        if let waitTimeout = request.waitTimeout {
            try run("SET GLOBAL wait_timeout = \(waitTimeout)")
            result.notes.append("new connections are closed by the server after \(waitTimeout) s idle; open ones keep their session value")
        }
        if let rowImage = request.rowImage {
            try run("SET GLOBAL binlog_row_image = \(SQLText.literal(rowImage.uppercased()))")
            result.notes.append("new sessions log \(rowImage.uppercased()) row images; open ones keep theirs")
        }
        if request.revokeReplication {
            guard !accounts.isEmpty else { throw ToolkitError("the ETL user '\(target.etlUser)' has no account on this server") }
            for account in accounts {
                try run("REVOKE \(flavor.replicationPrivileges.joined(separator: ", ")) ON *.* FROM \(account)")
            }
            // A running binlog dump is not re-checked: drop it so that the reconnect meets the missing privilege.
            try kill(where: "USER = ? AND COMMAND IN ('Binlog Dump', 'Binlog Dump GTID')", [.text(target.etlUser)])
        }
        if request.killETLConnections {
            try kill(where: "USER = ?", [.text(target.etlUser)])
        }
        result.after = try settings(connection, accounts: accounts)
        ActionJournal.note(target, command: "break", result.actions.joined(separator: "; "))
        return result
    }
}
