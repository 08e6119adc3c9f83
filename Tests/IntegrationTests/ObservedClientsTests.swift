import AgentAPI
import Foundation
import MariaDB
import Measurements
import Testing

/// Clients whose handshakes are unusual but whose sessions are plain text must be observed like
/// any other: their logins, binlog dumps and positions reach the journal.
@Suite("Observed clients: real client libraries through the gateway", .tags(.integration), .serialized)
final class ObservedClientsTests {
    let source: AgentFixture

    init() throws {
        // PyMySQL's ssl option must meet a source that offers no TLS: TLS is on by default.
        source = try AgentFixture(name: "observed", upArguments: ["--tls", "off"])
    }

    deinit { source.tearDown() }

    /// PyMySQL 1.1 (the version pipelinewise-tap-mysql pins) sets CLIENT_SSL in its login packet
    /// whenever it is given an `ssl` option, even when the server offered no TLS; the session
    /// then stays plain text. From scripts/test-deps.
    static let pymysql = (ProcessInfo.processInfo.environment["TOOLKIT_TEST_VENVS"] ?? "/opt/toolkit-test-venvs")
        + "/pymysql/bin/python"

    static let script = """
        import os, struct, sys, pymysql
        conn = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="hevo",
                               password=os.environ["TOOLKIT_TEST_PASSWORD"], database="testdb",
                               ssl={"check_hostname": False}, connect_timeout=5)
        assert conn.client_flag & pymysql.constants.CLIENT.SSL, "PyMySQL did not set CLIENT_SSL"
        assert not (conn.server_capabilities & pymysql.constants.CLIENT.SSL), "the source offers TLS"
        cur = conn.cursor()
        cur.execute("SELECT COUNT(*) FROM users")
        print("rows", cur.fetchone()[0])
        cur.execute("SET @master_binlog_checksum = 'NONE'")
        # COM_BINLOG_DUMP from the first binlog, non-blocking: the server sends what it has, then EOF.
        conn._execute_command(0x12, struct.pack("<IHI", 4, 1, 4242) + b"mysql-bin.000001")
        events = 0
        while True:
            packet = conn._read_packet()
            if packet.is_eof_packet():
                break
            events += 1
        print("events", events)
        conn.close()
        """

    @Test("PyMySQL with an ssl option to a source without TLS: login and binlog dump are journaled, not 'not observable: tls'")
    func pymysqlSSLFlagWithoutTLS() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.pymysql), "run scripts/test-deps: \(Self.pymysql) is missing")
        var env = ProcessInfo.processInfo.environment
        env["TOOLKIT_TEST_PASSWORD"] = "hevopassword"
        let run = try Run.program(Self.pymysql, ["-c", Self.script, String(source.port)], environment: env, timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("rows "))
        let events = try source.toolkit(["events", "--json", "--last", "0"]).stdout
            .split(separator: "\n").compactMap { try? JSONDecoder().decode(JournalEvent.self, from: Data($0.utf8)) }
        #expect(!events.contains { $0.kind == .note && ($0.detail ?? "").contains("not observable") },
                "\(events.filter { $0.kind == .note }.compactMap(\.detail))")
        let login = try #require(events.last { $0.kind == .handshake })
        #expect(login.user == "hevo")
        #expect(events.contains { $0.kind == .authOK && $0.conn == login.conn })
        let dump = try #require(events.last { $0.kind == .binlogDump })
        #expect(dump.conn == login.conn)
        #expect(dump.serverID == 4242)
        #expect(dump.file == "mysql-bin.000001")
        #expect(events.contains { $0.kind == .binlogFirstEvent && $0.conn == login.conn })
    }

    /// A binlog reader's snapshot asks where the binlog stands, then reads the tables: the `mariadb`
    /// client doing both as the ETL user journals a `binlog_status` and a `tables_read` on its
    /// connection; a statement that only looks like it journals nothing.
    @Test("the mariadb client asking SHOW MASTER STATUS and reading a table: binlog_status and tables_read on its connection")
    func aSnapshotsBinlogStatusIsJournaled() throws {
        let client = try Run.program("/usr/bin/mariadb", [
            "--protocol=tcp", "-h", "127.0.0.1", "-P", String(source.port), "-u", "hevo", "-N", "-B", "testdb", "-e",
            "SHOW BINARY LOGS; SELECT 'SHOW MASTER STATUS'; SHOW MASTER STATUS; SELECT COUNT(*) FROM users",
        ], environment: ["MYSQL_PWD": "hevopassword", "PATH": "/usr/bin:/bin"], timeout: 30)
        #expect(client.status == 0, "\(client.stderr)")
        #expect(client.stdout.contains("mysql-bin."), "\(client.stdout)")
        let events = try source.toolkit(["events", "--json", "--last", "0"]).stdout
            .split(separator: "\n").compactMap { try? JSONDecoder().decode(JournalEvent.self, from: Data($0.utf8)) }
        let login = try #require(events.last { $0.kind == .handshake && $0.user == "hevo" })
        let status = events.filter { $0.kind == .binlogStatus && $0.conn == login.conn }
        #expect(status.count == 1 && status.first?.user == "hevo", "\(events.filter { $0.conn == login.conn })")
        let read = try #require(events.last { $0.kind == .tablesRead && $0.conn == login.conn })
        #expect(read.detail == "testdb.users" && read.code == nil)
        #expect(try #require(status.first).at <= read.at)
    }

    /// A poller such as pg_chameleon resumes a few events before the commit it was already sent:
    /// a re-read of no row events, which must not read as a duplicate risk. One that resumes
    /// before the rows re-reads them: the window says how many row events, of which table.
    @Test("mysqlbinlog resuming before a commit re-reads no rows (maintained); before the rows, reread names them")
    func rereadsAreCountedByRowEvents() throws {
        let direct = try source.direct()
        defer { direct.close() }
        _ = try direct.execute("INSERT INTO users (name, email) VALUES ('a', 'reread-a@toolkit.test'), ('b', 'reread-b@toolkit.test')")
        let file = try #require(try direct.query("SHOW MASTER STATUS").value("File"))
        let events = try direct.query("SHOW BINLOG EVENTS IN '\(file)'")
        let types = events.rows.indices.map { events.value("Event_type", row: $0) }
        let xid = try #require(types.lastIndex(of: "Xid"))
        let tableMap = try #require(types.lastIndex(of: "Table_map"))
        let commitStart = try #require(events.value("Pos", row: xid).flatMap { UInt64($0) })
        let rowsStart = try #require(events.value("Pos", row: tableMap).flatMap { UInt64($0) })
        #expect(rowsStart < commitStart)

        let reader = BinlogReader(port: source.port, user: "hevo", password: "hevopassword")
        _ = try reader.read(from: file)
        try source.toolkit(["network", "--down", "--type", "reject"])
        try source.toolkit(["network", "--up"])
        _ = try reader.read(from: file, position: commitStart)
        try source.toolkit(["network", "--down", "--type", "reject"])
        try source.toolkit(["network", "--up"])
        let rows = try reader.read(from: file, position: rowsStart)
        #expect(rows.insertedRows(database: "testdb", table: "users") == 2)

        let windows = try source.agentStatus().windows.filter { $0.fault.type == .reject }.suffix(2)
        let commitResume = try #require(windows.first?.resume.first { $0.client == "hevo@127.0.0.1" })
        #expect(commitResume.verdict == .maintained, "\(commitResume)")
        #expect(commitResume.rereadRowEvents == 0)
        let rowsResume = try #require(windows.last?.resume.first { $0.client == "hevo@127.0.0.1" })
        #expect(rowsResume.verdict == .reread, "\(rowsResume)")
        #expect(rowsResume.rereadRowEvents == 1)
        #expect(rowsResume.rereadTables == ["testdb.users"])
    }
}
