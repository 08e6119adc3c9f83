import AgentAPI
import Faults
import Flavor
import Foundation
import Infrastructure
import MariaDB
import Source
import Testing

/// A managed source started the way a user does it — `toolkit up` — so that the agent, the
/// gateway and the server are the real processes. Torn down with `toolkit down --purge`.
final class AgentFixture: Sendable {
    let state: StateDirectory
    let port: Int
    let serverPort: Int
    let environment: [String: String]
    /// The state directory's own small file system, when asked for (`tmpfs`).
    let tmpfs: ScratchTmpfs?

    /// - Parameter tmpfs: a size ("200m") to put the whole state directory on a tmpfs of that size.
    init(name: String, backend: String = "gateway", listen: String = "127.0.0.1", upArguments: [String] = [],
         tmpfs size: String? = nil) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-agent-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: root)
        state = StateDirectory(root: root)
        // 0711: the server's account must be able to enter it.
        tmpfs = try size.map { try ScratchTmpfs(at: root, size: $0, mode: "0711") }
        port = PortProbe.ephemeral()
        var env = ProcessInfo.processInfo.environment
        env["TOOLKIT_HOME"] = root.path
        for name in ["MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PWD", "MYSQL_DATABASE", "MYSQL_ROOT_PASSWORD"] { env[name] = nil }
        environment = env
        let up = try Run.toolkit(["up", "--port", String(port), "--backend", backend, "--listen", listen, "--json"] + upArguments, environment: env)
        guard up.status == 0 else {
            tmpfs?.unmount()
            throw FixtureError("toolkit up failed: \(up.stderr)")
        }
        serverPort = try #require(try SourceConfig.load(from: state.configFile)).serverPort
    }

    func tearDown() {
        // --force: a run a failed test left behind must not keep the source up.
        _ = try? Run.toolkit(["down", "--purge", "--force"], environment: environment)
        tmpfs?.unmount()
        // `down --purge` removes what `up` created; the directory itself is the fixture's.
        try? FileManager.default.removeItem(at: state.root)
    }

    /// Runs `toolkit ARGS` against this source; fails the test on a non-zero exit unless told otherwise.
    @discardableResult
    func toolkit(_ arguments: [String], expect status: Int32 = 0, timeout: TimeInterval = 120) throws -> Run {
        let run = try Run.toolkit(arguments, environment: environment, timeout: timeout)
        #expect(run.status == status, "toolkit \(arguments.joined(separator: " ")): \(run.stderr)")
        return run
    }

    /// Polls the agent's status (bounded) until `condition` holds; returns that status.
    @discardableResult
    func waitForStatus(_ seconds: Double, _ what: String, until condition: (AgentStatus) -> Bool) throws -> AgentStatus {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let status = try agentStatus()
            if condition(status) { return status }
            guard Date() < deadline else { throw FixtureError("agent: waited \(seconds) s for \(what)") }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    func agentStatus() throws -> AgentStatus {
        let run = try toolkit(["network", "--status", "--json"])
        return try JSONDecoder().decode(AgentStatus.self, from: Data(run.stdout.utf8))
    }

    /// The toolkit's own admin connection: straight to the server's private port, never through the gateway.
    func direct() throws -> MariaDBConnection {
        try MariaDBConnection(ConnectionOptions(host: "127.0.0.1", port: serverPort, user: "root", password: "rootpassword",
                                                database: "testdb"))
    }

    var agentPID: pid_t? {
        (try? String(contentsOf: state.agentPIDFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A second `mariadbd`, configured as a replica of the source through the gateway: a real CDC
/// client written by others, whose `SHOW SLAVE STATUS` shows its errors and reconnects.
final class ReplicaFixture: Sendable {
    let state: StateDirectory
    let port: Int

    /// - Parameter sslCA: replicate over TLS (`MASTER_SSL=1`), verifying the source with this CA.
    init(name: String, sourcePort: Int, retrySeconds: Int = 1, netTimeoutSeconds: Int = 4, sslCA: String? = nil) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-replica-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: root)
        state = StateDirectory(root: root)
        port = PortProbe.ephemeral()
        let server = try ManagedServer.locate(state: state)
        try server.prepareDirectories()
        try server.writeOptionFile(port: port, flavor: .mariadb10_11, serverID: 2)
        try server.initializeIfNeeded()
        _ = try server.start()
        let connection = try connect()
        defer { connection.close() }
        try connection.execute("SET GLOBAL slave_net_timeout = \(netTimeoutSeconds)")
        let ssl = sslCA.map { ", MASTER_SSL=1, MASTER_SSL_CA=\(SQLText.literal($0)), MASTER_SSL_VERIFY_SERVER_CERT=1" } ?? ""
        try connection.execute(ServerFlavor.mariadb10_11.changeSourceStatement(
            host: "127.0.0.1", port: sourcePort, user: "hevo", password: "hevopassword", retrySeconds: retrySeconds) + ssl)
        try connection.execute("START SLAVE")
    }

    /// As root over the socket. Replicating the source's bootstrap gives the replica's root the
    /// source's password, so both are tried.
    func connect() throws -> MariaDBConnection {
        do {
            return try MariaDBConnection(ConnectionOptions(user: "root", password: "rootpassword", socket: state.socketFile.path))
        } catch {
            return try MariaDBConnection(ConnectionOptions(user: "root", password: "", socket: state.socketFile.path))
        }
    }

    func tearDown() {
        if let connection = try? connect() { _ = try? connection.execute("STOP SLAVE"); connection.close() }
        if let server = try? ManagedServer.locate(state: state) {
            try? server.stop()
            try? server.purge()
        }
    }

    /// `SHOW SLAVE STATUS` as column → value.
    func status() throws -> [String: String] {
        let connection = try connect()
        defer { connection.close() }
        return try connection.query("SHOW SLAVE STATUS").firstRowByColumn
    }

    /// Waits (bounded) until `condition` holds for the replica's status; returns the last status seen.
    @discardableResult
    func wait(for seconds: Double, _ what: String, until condition: ([String: String]) -> Bool) throws -> [String: String] {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [String: String] = [:]
        while Date() < deadline {
            last = (try? status()) ?? [:]
            if condition(last) { return last }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw FixtureError("replica: waited \(seconds) s for \(what); last status: IO=\(last["Slave_IO_Running"] ?? "?") SQL=\(last["Slave_SQL_Running"] ?? "?") errno=\(last["Last_IO_Errno"] ?? "?") \(last["Last_IO_Error"] ?? "")")
    }

    /// Waits until the replica's copy of `table` has exactly the source's rows (by tag).
    func waitUntilIdentical(to source: AgentFixture, table: String, seconds: Double = 60) throws {
        let deadline = Date().addingTimeInterval(seconds)
        var mine: [String] = [], theirs: [String] = []
        while Date() < deadline {
            theirs = try Self.emails(try source.direct(), table: table)
            if let connection = try? connect() {
                mine = (try? Self.emails(connection, table: "testdb.\(table)")) ?? []
                connection.close()
            }
            if mine == theirs { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw FixtureError("replica has \(mine.count) rows of \(table) (\(Set(mine).count) distinct), source has \(theirs.count)")
    }

    static func emails(_ connection: MariaDBConnection, table: String) throws -> [String] {
        defer { connection.close() }
        return try connection.query("SELECT email FROM \(table) ORDER BY id").rows.compactMap { $0[0] }
    }
}
