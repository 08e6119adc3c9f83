import Foundation
import Measurements
import Testing

/// Clients that talk TLS to the source, through the gateway that terminates it with the toolkit's
/// certificate: they verify it with the toolkit's CA, and their logins, binlog dumps and positions
/// reach the journal like a plain client's.
@Suite("TLS clients: terminated by the gateway, observed", .tags(.integration), .serialized)
final class TLSClientsTests {
    let source: AgentFixture

    init() throws {
        source = try AgentFixture(name: "tls")
    }

    deinit { source.tearDown() }

    var ca: String { source.state.root.appendingPathComponent("tls/ca.pem").path }

    func events() throws -> [JournalEvent] {
        try source.toolkit(["events", "--json", "--last", "0"]).stdout
            .split(separator: "\n").compactMap { try? JSONDecoder().decode(JournalEvent.self, from: Data($0.utf8)) }
    }

    /// The login of the last TLS connection the gateway terminated, with its events.
    func lastTerminatedConnection(user: String) throws -> (conn: UInt64, events: [JournalEvent]) {
        let all = try events()
        #expect(!all.contains { ($0.detail ?? "").contains("not observable") },
                "\(all.filter { $0.kind == .note }.compactMap(\.detail))")
        let terminated = try #require(all.last { $0.kind == .note && $0.detail == "tls terminated by the gateway" })
        let conn = try #require(terminated.conn)
        let mine = all.filter { $0.conn == conn }
        let login = try #require(mine.first { $0.kind == .handshake })
        #expect(login.user == user)
        #expect(mine.contains { $0.kind == .authOK })
        return (conn, mine)
    }

    @Test("up prints the CA; status shows TLS terminated, the server serving it, and the CA")
    func caIsShown() throws {
        #expect(FileManager.default.fileExists(atPath: ca))
        var info = stat()
        #expect(stat(source.state.root.appendingPathComponent("tls/ca-key.pem").path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let status = try source.toolkit(["status", "--json"]).stdout
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any])
        let tls = try #require(json["tls"] as? [String: Any])
        #expect(tls["mode"] as? String == "terminate")
        #expect(tls["ca_certificate"] as? String == ca)
        #expect(tls["server_serves_tls"] as? Bool == true)
    }

    @Test("mariadb --ssl-verify-server-cert through the gateway: TLS on both legs, login journaled")
    func mariadbClient() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["MYSQL_PWD"] = "hevopassword"
        let client = try Run.program("/usr/bin/mariadb", [
            "-h", "127.0.0.1", "-P", String(source.port), "-u", "hevo", "--ssl", "--ssl-ca=\(ca)",
            "--ssl-verify-server-cert", "--connect-timeout=10", "-N",
            "-e", "SHOW SESSION STATUS LIKE 'Ssl_version'; SELECT 41 + 1",
        ], environment: environment, timeout: 60)
        #expect(client.status == 0, "mariadb --ssl through the gateway: \(client.stderr)")
        // The server's view of the session: the gateway's own TLS leg to it.
        #expect(client.stdout.contains("Ssl_version\tTLSv1."), "\(client.stdout)")
        #expect(client.stdout.contains("42"))
        let (conn, _) = try lastTerminatedConnection(user: "hevo")
        // After COM_QUIT the client closes its socket without a TLS close_notify, and the server
        // closes its side too; whichever the gateway sees first, it is a normal close, not an error.
        var closed: JournalEvent?
        try Poll.until(seconds: 10, "the connection's close in the journal") {
            closed = (try? events())?.first { $0.conn == conn && $0.kind == .connClosed }
            return closed != nil
        }
        #expect(["client", "server"].contains(closed?.detail ?? ""), "\(closed?.detail ?? "no close")")
    }

    @Test("an account that REQUIRE SSL logs in with TLS through the gateway, and is refused without")
    func accountRequiringTLS() throws {
        let admin = try source.direct()
        defer { admin.close() }
        try admin.execute("SET SESSION sql_log_bin = 0")
        try admin.execute("CREATE USER IF NOT EXISTS 'tlsonly'@'%' IDENTIFIED BY 'tlsonlypassword' REQUIRE SSL")
        try admin.execute("GRANT SELECT ON testdb.* TO 'tlsonly'@'%'")
        var environment = ProcessInfo.processInfo.environment
        environment["MYSQL_PWD"] = "tlsonlypassword"
        let base = ["-h", "127.0.0.1", "-P", String(source.port), "-u", "tlsonly", "--connect-timeout=10", "-N", "-e", "SELECT 6 * 7"]
        let withTLS = try Run.program("/usr/bin/mariadb", base + ["--ssl", "--ssl-ca=\(ca)", "--ssl-verify-server-cert"],
                                      environment: environment, timeout: 60)
        #expect(withTLS.status == 0, "\(withTLS.stderr)")
        #expect(withTLS.stdout.contains("42"))
        _ = try lastTerminatedConnection(user: "tlsonly")
        let plain = try Run.program("/usr/bin/mariadb", base + ["--skip-ssl"], environment: environment, timeout: 60)
        #expect(plain.status != 0)
        #expect(plain.stderr.contains("1045"), "\(plain.stderr)")
    }

    @Test("a client that does not ask for TLS is relayed plain, and observed")
    func plainClient() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["MYSQL_PWD"] = "hevopassword"
        let client = try Run.program("/usr/bin/mariadb", [
            "-h", "127.0.0.1", "-P", String(source.port), "-u", "hevo", "--skip-ssl", "--connect-timeout=10", "-N",
            "-e", "SHOW SESSION STATUS LIKE 'Ssl_version'",
        ], environment: environment, timeout: 60)
        #expect(client.status == 0, "\(client.stderr)")
        #expect(client.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "Ssl_version", "\(client.stdout)")
        let all = try events()
        let login = try #require(all.last { $0.kind == .handshake })
        #expect(!all.contains { $0.conn == login.conn && $0.kind == .note })
    }

    @Test("PyMySQL with ssl={'ca': ...}: TLS session, login and binlog dump journaled")
    func pymysqlWithCA() throws {
        #expect(FileManager.default.isExecutableFile(atPath: ObservedClientsTests.pymysql), "run scripts/test-deps")
        let script = """
            import os, ssl, struct, sys, pymysql
            conn = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="hevo",
                                   password=os.environ["TOOLKIT_TEST_PASSWORD"], database="testdb",
                                   ssl={"ca": sys.argv[2]}, connect_timeout=5)
            assert conn.server_capabilities & pymysql.constants.CLIENT.SSL, "the gateway offers no TLS"
            assert isinstance(conn._sock, ssl.SSLSocket), "the session is not TLS"
            cur = conn.cursor()
            cur.execute("SET @master_binlog_checksum = 'NONE'")
            conn._execute_command(0x12, struct.pack("<IHI", 4, 1, 4343) + b"mysql-bin.000001")
            events = 0
            while True:
                packet = conn._read_packet()
                if packet.is_eof_packet():
                    break
                events += 1
            print("events", events)
            conn.close()
            """
        var env = ProcessInfo.processInfo.environment
        env["TOOLKIT_TEST_PASSWORD"] = "hevopassword"
        let run = try Run.program(ObservedClientsTests.pymysql, ["-c", script, String(source.port), ca],
                                  environment: env, timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        let (_, mine) = try lastTerminatedConnection(user: "hevo")
        let dump = try #require(mine.first { $0.kind == .binlogDump })
        #expect(dump.serverID == 4343)
        #expect(dump.file == "mysql-bin.000001")
        #expect(mine.contains { $0.kind == .binlogFirstEvent })
    }

    @Test("mysqlbinlog --ssl-ca through the gateway: its dump and the last position sent are journaled")
    func mysqlbinlogWithCA() throws {
        let reader = BinlogReader(port: source.port, user: "hevo", password: "hevopassword",
                                  options: ["--ssl", "--ssl-ca=\(ca)", "--ssl-verify-server-cert"])
        let reading = try reader.read(from: "mysql-bin.000001")
        let last = try #require(reading.lastEndPosition)
        let (_, mine) = try lastTerminatedConnection(user: "hevo")
        #expect(mine.contains { $0.kind == .binlogDump && $0.file == "mysql-bin.000001" })
        let conn = mine[0].conn
        var closed: JournalEvent?
        try Poll.until(seconds: 10, "the connection's close in the journal") {
            closed = (try? events())?.first { $0.conn == conn && $0.kind == .connClosed }
            return closed != nil
        }
        #expect(closed?.position == last, "journal \(closed?.position.map(String.init) ?? "nil"), mysqlbinlog \(last)")
    }
}

@Suite("TLS passthrough: relayed blind", .tags(.integration), .serialized)
final class TLSPassthroughTests {
    let source: AgentFixture

    init() throws {
        source = try AgentFixture(name: "tls-pass", upArguments: ["--tls", "passthrough"])
    }

    deinit { source.tearDown() }

    @Test("--tls passthrough: mariadb --ssl-verify-server-cert works end to end; the journal says not observable: tls")
    func passthrough() throws {
        let ca = source.state.root.appendingPathComponent("tls/ca.pem").path
        var environment = ProcessInfo.processInfo.environment
        environment["MYSQL_PWD"] = "hevopassword"
        let client = try Run.program("/usr/bin/mariadb", [
            "-h", "127.0.0.1", "-P", String(source.port), "-u", "hevo", "--ssl", "--ssl-ca=\(ca)",
            "--ssl-verify-server-cert", "--connect-timeout=10", "-N", "-e", "SELECT 41 + 1",
        ], environment: environment, timeout: 60)
        #expect(client.status == 0, "\(client.stderr)")
        #expect(client.stdout.contains("42"))
        let events = try source.toolkit(["events", "--json", "--last", "0"]).stdout
            .split(separator: "\n").compactMap { try? JSONDecoder().decode(JournalEvent.self, from: Data($0.utf8)) }
        #expect(events.contains { $0.kind == .note && $0.detail == "connection not observable: tls" })
        #expect(!events.contains { $0.detail == "tls terminated by the gateway" })
    }
}

/// The same outage measured with a replica that replicates over TLS and with one that does not:
/// termination must not change what the windows say.
@Suite("TLS replica: windows equal a plain replica's", .tags(.integration, .slow), .serialized)
final class TLSReplicaWindowTests {
    let source: AgentFixture
    let table = "users"

    init() throws {
        source = try AgentFixture(name: "tls-window")
    }

    deinit { source.tearDown() }

    /// A timed reject with only `replica` connected: the window it opened, once the replica caught up.
    func rejectWindow(with replica: ReplicaFixture) throws -> WindowReport {
        try replica.wait(for: 60, "the replica to connect") { $0["Slave_IO_Running"] == "Yes" && $0["Slave_SQL_Running"] == "Yes" }
        try source.toolkit(["generate-data", "--count", "50", "--table", table])
        try replica.waitUntilIdentical(to: source, table: table)
        // Timed by the agent, so that the outage lasts the same in both runs; the replica's
        // errors during it are the window's detection and attempts.
        try source.toolkit(["network", "--down", "--type", "reject", "--duration", "3"])
        try source.toolkit(["generate-data", "--count", "50", "--table", table])
        try Poll.until(seconds: 30, "the timed reject to end") {
            (try? source.agentStatus().faults.isEmpty) == true
        }
        try replica.wait(for: 30, "reconnection") { $0["Slave_IO_Running"] == "Yes" }
        try replica.waitUntilIdentical(to: source, table: table)
        var window: WindowReport?
        try Poll.until(seconds: 20, "the window's resumed replication") {
            window = try? source.agentStatus().windows.last
            return window?.replicationResumedAfter != nil && window?.resume.isEmpty == false
        }
        let report = try #require(window)
        #expect(report.fault.type == .reject)
        return report
    }

    @Test("reject with a MASTER_SSL=1 replica: detection, reconnect and resume within 0.2 s of a plain replica's, same verdict")
    func tlsReplicaMeasuredLikePlain() throws {
        let ca = source.state.root.appendingPathComponent("tls/ca.pem").path
        // MariaDB's I/O thread retries at once and then every MASTER_CONNECT_RETRY seconds from the
        // reset: with 2 s and a 3 s outage the restore falls midway between two retries, so the
        // reconnect is ~1 s after it for both replicas, whatever the machine's load.
        let plainReplica = try ReplicaFixture(name: "tls-window-plain", sourcePort: source.port, retrySeconds: 2)
        let plain: WindowReport
        do {
            defer { plainReplica.tearDown() }
            plain = try rejectWindow(with: plainReplica)
        }
        let tlsReplica = try ReplicaFixture(name: "tls-window-tls", sourcePort: source.port, retrySeconds: 2, sslCA: ca)
        defer { tlsReplica.tearDown() }
        let tls = try rejectWindow(with: tlsReplica)
        let status = try tlsReplica.status()
        #expect(status["Master_SSL_Allowed"] == "Yes")
        let events = try source.toolkit(["events", "--json", "--last", "0"]).stdout
            .split(separator: "\n").compactMap { try? JSONDecoder().decode(JournalEvent.self, from: Data($0.utf8)) }
        #expect(events.contains { $0.detail == "tls terminated by the gateway" })
        #expect(!events.contains { ($0.detail ?? "").contains("not observable") })

        let plainDetection = try #require(plain.detection?.after)
        let tlsDetection = try #require(tls.detection?.after)
        #expect(abs(plainDetection - tlsDetection) <= 0.2, "detection: plain \(plainDetection) s, TLS \(tlsDetection) s")
        let plainReconnect = try #require(plain.reconnectedAfter)
        let tlsReconnect = try #require(tls.reconnectedAfter)
        #expect(abs(plainReconnect - tlsReconnect) <= 0.2, "reconnect: plain \(plainReconnect) s, TLS \(tlsReconnect) s")
        let plainResumed = try #require(plain.replicationResumedAfter)
        let tlsResumed = try #require(tls.replicationResumedAfter)
        #expect(abs(plainResumed - tlsResumed) <= 0.2, "resumed: plain \(plainResumed) s, TLS \(tlsResumed) s")
        #expect(plain.resume.map(\.verdict) == tls.resume.map(\.verdict), "plain \(plain.resume), TLS \(tls.resume)")
        print("TLS window measurements: detection \(plainDetection)/\(tlsDetection) s, reconnect \(plainReconnect)/\(tlsReconnect) s, resumed \(plainResumed)/\(tlsResumed) s (plain/TLS)")
    }
}
