import MySQLProtocol
import Testing

@Suite("Command phase")
struct CommandTests {
    @Test("COM_QUERY text; result sets and ERR from the server")
    func query() {
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.query("SELECT id, note FROM orders"))
        // Column count, two column definitions, rows (one starting with NULL = 0xFB), OK-as-EOF.
        conversation.server(Wire.packet(1, [0x02]))
        conversation.server(Wire.packet(2, Wire.lenencString("def") + Wire.lenencString("shop") + Array(repeating: 0, count: 20)))
        conversation.server(Wire.packet(3, Wire.lenencString("def") + Wire.lenencString("shop") + Array(repeating: 0, count: 20)))
        conversation.server(Wire.packet(4, Wire.lenencString("1") + [0xFB]))
        conversation.server(Wire.packet(5, [0xFB] + Wire.lenencString("x")))
        conversation.server(Wire.packet(6, [0xFE, 0, 0, 2, 0, 0, 0]))
        conversation.client(Wire.query("SELECT * FROM missing"))
        conversation.server(Wire.err(1, code: 1146, sqlState: "42S02", message: "Table 'shop.missing' doesn't exist"))
        let result = observeAllWays(conversation)
        #expect(
            result.observations == Conversation.loggedInObservations + [
                .query("SELECT id, note FROM orders"),
                .queryAnswered(ok: true),
                .query("SELECT * FROM missing"),
                .serverError(code: 1146, message: "Table 'shop.missing' doesn't exist"),
                .queryAnswered(ok: false),
            ])
    }

    @Test("the tables a SELECT reads, as a query-based sync's reads are recognised")
    func selectedTables() {
        let cases: [(String, [String]?)] = [
            ("SELECT users.id, users.name FROM users WHERE users.updated_at >= '2026-12-04 05:00:00' ORDER BY users.updated_at", ["users"]),
            ("select * from `testdb`.`users` u join orders o on o.user_id = u.id", ["testdb.users", "orders"]),
            ("SELECT a.x FROM a, b AS bee, `c d` WHERE a.id = b.id", ["a", "b", "c d"]),
            ("/* dlt */ SELECT COUNT(*) FROM testdb.users -- trailing", ["testdb.users"]),
            ("SELECT * FROM (SELECT id FROM inner_t) AS sub LEFT OUTER JOIN other ON 1", ["inner_t", "other"]),
            ("SELECT 'FROM fake' AS s, \"JOIN x\" FROM real_t", ["real_t"]),
            ("SELECT t.from FROM t", ["t"]),
            ("WITH r AS (SELECT * FROM base) SELECT * FROM r", ["base", "r"]),
            ("SELECT * FROM information_schema.tables", []),
            ("SELECT @@version", []),
            ("SELECT 1 FROM dual", []),
            ("SHOW TABLES", nil),
            ("INSERT INTO t SELECT * FROM s", nil),
            ("", nil),
            ("SELECT * FROM", []),
            // Keywords in any case; words that only look like them are names.
            ("SeLeCt * FrOm A STRAIGHT_JOIN b ON 1 LEFT JOIN fromage USING (id)", ["A", "b", "fromage"]),
            ("SELECT * FROM a Straight_Join b", ["a", "b"]),
            ("SELECT * FROM selection, joins j WHERE 1", ["selection", "joins"]),
            ("SELECTED * FROM t", nil),
            ("SELECT * FROM MySQL.user, Information_Schema.TABLES, DUAL", []),
        ]
        for (text, expected) in cases {
            #expect(SelectedTables.parse(text) == expected, "\(text)")
        }
    }

    @Test("the statements that ask where the binlog stands, as a binlog reader asks before its snapshot")
    func binlogStatusQuery() {
        let asks = ["SHOW MASTER STATUS", "show master status;", "SHOW BINARY LOG STATUS", "/* dbz */ Show Binlog Status",
                    "SHOW\n  MASTER\tSTATUS -- where the stream starts"]
        let others = ["SHOW MASTER LOGS", "SHOW BINARY LOGS", "SHOW SLAVE STATUS", "SHOW MASTER STATUS LIKE 'x'", "SHOW STATUS",
                      "SELECT 'SHOW MASTER STATUS'", "SHOW MASTER STATUS; SELECT 1", "SHOWMASTER STATUS", "SHOW BINARY STATUS", ""]
        for text in asks { #expect(BinlogStatusQuery.matches(text), "\(text)") }
        for text in others { #expect(!BinlogStatusQuery.matches(text), "\(text)") }
    }

    @Test("query text is cut at 1 KiB, before a multi-byte character")
    func longQuery() {
        var conversation = Conversation.loggedIn()
        let text = "SELECT '" + String(repeating: "a", count: 1015) + "é" + String(repeating: "b", count: 5000) + "'"
        conversation.client(Wire.query(text))
        let result = observeAllWays(conversation)
        let expected = "SELECT '" + String(repeating: "a", count: 1015)  // 1023 bytes; "é" would end at 1025
        #expect(result.observations.last == .query(expected))
    }

    @Test("a query larger than 16 MiB spans packets and is still reported once", .tags(.slow))
    func hugeQuery() {
        var conversation = Conversation.loggedIn()
        let text = "INSERT INTO t VALUES ('" + String(repeating: "z", count: 0xFF_FFFF + 10) + "')"
        conversation.client(Wire.query(text))
        conversation.server(Wire.ok(2))
        conversation.client(Wire.query("SELECT 1"))
        let result = observeAllWays(conversation)
        #expect(result == run(conversation, .fixed(65536)))
        #expect(
            result.observations == Conversation.loggedInObservations + [
                .query(String(text.utf8.prefix(1024))!), .queryAnswered(ok: true), .query("SELECT 1"),
            ])
    }

    @Test("query attributes prefix (MySQL 8.0.23+) is skipped")
    func queryAttributes() {
        let capabilities = Wire.serverCapabilities | Wire.queryAttributes
        var conversation = Conversation.loggedIn(
            serverCapabilities: capabilities, clientCapabilities: Wire.clientCapabilities | Wire.queryAttributes)
        conversation.client(Wire.query("SELECT 1", attributesPrefix: [0x00, 0x01]))
        var withParameters: [UInt8] = [0x02, 0x01]  // two parameters, one set
        withParameters += [0b0000_0010, 0x01]  // second is NULL; bind flag
        withParameters += Wire.le16(0xFE) + Wire.lenencString("trace_id")  // STRING
        withParameters += Wire.le16(0x08) + Wire.lenencString("span")  // LONGLONG
        withParameters += Wire.lenencString("abc-123")  // value of the first only
        conversation.client(Wire.query("SELECT 2", attributesPrefix: withParameters))
        let result = observeAllWays(conversation)
        #expect(result.observations == Conversation.loggedInObservations + [.query("SELECT 1"), .query("SELECT 2")])
    }

    @Test("query attributes are not assumed when only one side has them")
    func queryAttributesOneSided() {
        var conversation = Conversation.loggedIn(clientCapabilities: Wire.clientCapabilities | Wire.queryAttributes)
        conversation.client(Wire.query("SELECT 1"))
        let result = observeAllWays(conversation)
        #expect(result.observations.last == .query("SELECT 1"))
    }

    @Test("SET @slave_connect_state is reported")
    func slaveConnectState() {
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.query("SET @slave_connect_state='0-1-5'"))
        conversation.server(Wire.ok(1))
        let result = observeAllWays(conversation)
        #expect(
            result.observations == Conversation.loggedInObservations + [
                .query("SET @slave_connect_state='0-1-5'"), .slaveConnectState("0-1-5"), .queryAnswered(ok: true),
            ])
    }

    @Test("with reportsQueryText off, queries are not reported but the replica's GTID state still is")
    func queryTextCanBeSwitchedOff() {
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.query("SELECT 1"))
        conversation.server(Wire.ok(1))
        conversation.client(Wire.query("SET @slave_connect_state='0-1-5'"))
        conversation.server(Wire.ok(1))
        var observer = MySQLConnectionObserver()
        observer.reportsQueryText = false
        var observations: [ProtocolObservation] = []
        for step in conversation.steps {
            observations += step.side == .client ? observer.clientToServer(step.bytes) : observer.serverToClient(step.bytes)
        }
        #expect(observations == Conversation.loggedInObservations
            + [.queryAnswered(ok: true), .slaveConnectState("0-1-5"), .queryAnswered(ok: true)])
    }

    @Test(
        "slave_connect_state spelling variants",
        arguments: [
            ("SET @slave_connect_state='0-1-5'", "0-1-5"),
            ("set @SLAVE_CONNECT_STATE = \"0-1-5,1-2-9\"", "0-1-5,1-2-9"),
            ("  SET @`slave_connect_state` := '0-1-5'", "0-1-5"),
            ("SET @slave_gtid_strict_mode=1, @slave_connect_state='3-7-100'", "3-7-100"),
            ("SET @slave_connect_state=''", ""),
            ("SET\n@slave_connect_state='0-1-5';", "0-1-5"),
            ("SET @slave_connect_state='it''s'", "it's"),
        ])
    func slaveConnectStateVariants(statement: String, expected: String) {
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.query(statement))
        let result = observeAllWays(conversation)
        #expect(result.observations.last == .slaveConnectState(expected))
    }

    @Test(
        "statements that are not slave_connect_state assignments",
        arguments: [
            "SELECT @slave_connect_state",
            "SET @slave_connect_state_backup='0-1-5'",
            "SET @slave_connect_state",
            "SETX @slave_connect_state='1'",
        ])
    func notSlaveConnectState(statement: String) {
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.query(statement))
        let result = observeAllWays(conversation)
        #expect(result.observations.last == .query(statement))
    }

    @Test("COM_REGISTER_SLAVE then COM_BINLOG_DUMP")
    func binlogDump() {
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.registerSlave(serverID: 3))
        conversation.server(Wire.ok(1))
        conversation.client(Wire.binlogDump(file: "mysql-bin.000007", position: 1234, serverID: 3))
        let result = observeAllWays(conversation)
        #expect(
            result.observations == Conversation.loggedInObservations + [
                .registerSlave(serverID: 3),
                .binlogDump(file: "mysql-bin.000007", position: 1234, serverID: 3),
            ])
        #expect(result.isReplication)
        #expect(result.lastForwarded == nil)
    }

    @Test("COM_BINLOG_DUMP_GTID with a two-sid GTID set")
    func binlogDumpGTID() {
        let first = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
        let second = "9b2d3a4c-0f1e-11ef-8a7b-0242ac120002"
        let encoded = Wire.encodedGTIDSet([
            (Wire.uuid(first), [(1, 6), (7, 8)]),
            (Wire.uuid(second), [(1, 4)]),
        ])
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.binlogDumpGTID(file: "", position: 4, serverID: 9, encodedSet: encoded))
        let result = observeAllWays(conversation)
        #expect(
            result.observations == Conversation.loggedInObservations + [
                .binlogDumpGTID(file: "", position: 4, serverID: 9, gtidSet: "\(first):1-5:7,\(second):1-3")
            ])
        #expect(result.isReplication)
    }

    @Test("COM_BINLOG_DUMP_GTID with a file, an empty set and no BINLOG_THROUGH_GTID flag")
    func binlogDumpGTIDEmptySet() {
        var conversation = Conversation.loggedIn()
        conversation.client(
            Wire.binlogDumpGTID(file: "binlog.000002", position: 157, serverID: 9, encodedSet: Wire.le64(0), flags: 0))
        let result = observeAllWays(conversation)
        #expect(result.observations.last == .binlogDumpGTID(file: "binlog.000002", position: 157, serverID: 9, gtidSet: ""))
    }

    @Test("LOAD DATA LOCAL INFILE data is not mistaken for commands when sequence ids wrap")
    func localInfile() {
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.query("LOAD DATA LOCAL INFILE 'rows.csv' INTO TABLE t"))
        conversation.server(Wire.packet(1, [0xFB] + Array("rows.csv".utf8)))
        for index in 0..<300 {
            let sequence = UInt8(truncatingIfNeeded: 2 + index)
            // The packet that wraps to sequence id 0 looks like COM_BINLOG_DUMP.
            let data: [UInt8] = sequence == 0 ? [0x12] + Wire.le32(4) + Wire.le16(0) + Wire.le32(1) + Array("x".utf8) : Array("1,2\n".utf8)
            conversation.client(Wire.packet(sequence, data))
        }
        conversation.client(Wire.packet(UInt8(truncatingIfNeeded: 302), []))
        conversation.server(Wire.ok(UInt8(truncatingIfNeeded: 303)))
        conversation.client(Wire.query("SELECT COUNT(*) FROM t"))
        let result = observeAllWays(conversation)
        #expect(
            result.observations == Conversation.loggedInObservations + [
                .query("LOAD DATA LOCAL INFILE 'rows.csv' INTO TABLE t"), .query("SELECT COUNT(*) FROM t"),
            ])
        #expect(!result.isReplication)
    }

    @Test("a MariaDB progress report (ERR code 0xFFFF) is not an error")
    func progressReport() {
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.query("ALTER TABLE t ENGINE=InnoDB"))
        conversation.server(Wire.packet(1, [0xFF, 0xFF, 0xFF, 0x01, 0x01, 0x02, 0x10, 0x27, 0x00, 0x00]))
        conversation.server(Wire.ok(2))
        let result = observeAllWays(conversation)
        #expect(result.observations == Conversation.loggedInObservations + [.query("ALTER TABLE t ENGINE=InnoDB"), .queryAnswered(ok: true)])
    }
}
