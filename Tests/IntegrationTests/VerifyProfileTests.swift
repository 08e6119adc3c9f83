import Foundation
import MariaDB
import PostgreSQL
import Testing
import Verification

/// Destinations as the ETL tools that cannot run here write them, built from each vendor's
/// documentation (the pages are cited on `Profile`), and the normalisation table end to end.
@Suite("verify: profiles, change logs, CSV and the normalisation table", .tags(.integration),
       .enabled(if: PostgresFixture.isAvailable, "PostgreSQL (initdb) and the postgres account are needed"))
struct VerifyProfileTests {
    /// One JSON object per line, keys in the order given (Singer's records do not keep one order).
    static func jsonl(_ records: [[(String, Any?)]]) -> String {
        records.map { pairs in
            "{" + pairs.map { key, value -> String in
                let encoded: String
                switch value {
                case nil: encoded = "null"
                case let text as String: encoded = String(decoding: try! JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed]), as: UTF8.self)
                default: encoded = "\(value!)"
                }
                return "\"\(key)\": \(encoded)"
            }.joined(separator: ", ") + "}"
        }.joined(separator: "\n") + "\n"
    }

    static func isoTime(_ text: String?) -> String? { text.map { $0.replacingOccurrences(of: " ", with: "T") + "Z" } }

    @Test("Singer target-jsonl: rotated files folded in name order, a redelivered line counted, _sdc_deleted_at honoured")
    func singerChangeLog() throws {
        var scenario = try VerifyScenario(kind: .jsonl, count: 12)
        defer { scenario.cleanUp() }
        try FileManager.default.createDirectory(at: scenario.files, withIntermediateDirectories: true)
        // https://github.com/singer-io/getting-started/blob/master/docs/SYNC_MODE.md and target-jsonl:
        // every insert, update and delete appended as a full record with `_sdc_` columns.
        func record(_ row: [String: String?], _ sdc: [(String, Any?)], reversed: Bool = false) -> [(String, Any?)] {
            var pairs: [(String, Any?)] = [("id", Int(row["id"]!!)!), ("name", row["name"]!), ("email", row["email"]!),
                                           ("status", row["status"]!), ("created_at", Self.isoTime(row["created_at"]!)),
                                           ("updated_at", Self.isoTime(row["updated_at"]!))]
            pairs += sdc
            return reversed ? pairs.reversed() : pairs
        }
        let extracted: [(String, Any?)] = [("_sdc_extracted_at", "2026-11-25T10:00:00.000000Z"), ("_sdc_batched_at", "2026-11-25T10:00:01.000000Z")]
        let first = scenario.rows.map { record($0, extracted) }
        // The source moves on: row 3 deleted, row 5 updated.
        try scenario.deleteAtSource(id: 3)
        let connection = try scenario.source.connect()
        try connection.execute("UPDATE \(scenario.table) SET name = 'Renamed', updated_at = '2026-11-25 11:00:00' WHERE id = 5")
        connection.close()
        var renamed = scenario.rows[4]
        renamed["name"] = "Renamed"; renamed["updated_at"] = "2026-11-25 11:00:00"
        let second = [
            record(scenario.rows[6], [("_sdc_extracted_at", "2026-11-25T11:00:00.000000Z")], reversed: true), // redelivered
            record(renamed, [("_sdc_received_at", "2026-11-25T11:00:02.000000Z")]),
            record(scenario.rows[2], [("_sdc_deleted_at", "2026-11-25T11:00:00.000000Z"), ("_sdc_sequence", 2)]),
        ]
        let directory = scenario.files
        try Self.jsonl(first).write(to: directory.appendingPathComponent("\(scenario.table)-20261125T100000.jsonl"), atomically: true, encoding: .utf8)
        try Self.jsonl(second).write(to: directory.appendingPathComponent("\(scenario.table)-20261125T110000.jsonl"), atomically: true, encoding: .utf8)
        var (report, status, stderr) = try scenario.verify()
        #expect(status == 0, "\(stderr)")
        var table = try #require(report.tables.first)
        #expect(table.profile == .singer && table.redelivered == 1)
        #expect(table.sourceRows == 11 && table.matched == 11)

        // A delete the source never made: the key is missing, named by its tag.
        let third = [record(scenario.rows[9], [("_sdc_deleted_at", "2026-11-25T12:00:00.000000Z")])]
        try Self.jsonl(third).write(to: directory.appendingPathComponent("\(scenario.table)-20261125T120000.jsonl"), atomically: true, encoding: .utf8)
        (report, status, stderr) = try scenario.verify()
        #expect(status == 1)
        table = try #require(report.tables.first)
        #expect(table.missing == 1 && table.examples["missing"] == [scenario.tag(ofID: 10)])
    }

    /// target-jsonl itself writes the files, named after the Singer stream with a timestamp
    /// (`testdb-users-20261202T201500.jsonl`): verify reads them as the table's, with exact counts,
    /// for `--table` too; a destination with no file of any source table is an error, not a MATCH.
    @Test("files target-jsonl wrote, named after the stream, are read; an empty destination is an error")
    func targetJsonlFiles() throws {
        var scenario = try VerifyScenario(kind: .jsonl, count: 9)
        defer { scenario.cleanUp() }
        try FileManager.default.createDirectory(at: scenario.files, withIntermediateDirectories: true)
        // Every table of the source, as a user runs it.
        func verifyAll() throws -> (report: VerifyReport, status: Int32, stderr: String) {
            let run = try Run.toolkit(["verify", "--destination", scenario.destination, "--json"], environment: scenario.source.environment)
            return (try JSONDecoder().decode(VerifyReport.self, from: Data(run.stdout.utf8)), run.status, run.stderr)
        }
        // Nothing written yet: every table "not replicated" used to be a MATCH.
        var (report, status, stderr) = try verifyAll()
        #expect(status == 1, "\(stderr)")
        #expect(report.verdict == .error)
        #expect(report.error?.hasPrefix("no table of the source is at the destination: looked for ") == true, "\(report.error ?? "")")
        #expect(report.error?.hasSuffix("found no tables") == true)

        let stream = "testdb-\(scenario.table)"
        var messages = [#"{"type": "SCHEMA", "stream": "\#(stream)", "key_properties": ["id"], "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": ["null", "string"]}, "email": {"type": ["null", "string"]}, "status": {"type": ["null", "string"]}, "created_at": {"type": ["null", "string"], "format": "date-time"}, "updated_at": {"type": ["null", "string"], "format": "date-time"}}}}"#]
        for row in scenario.rows {
            let record: [(String, Any?)] = [("id", Int(row["id"]!!)!), ("name", row["name"]!), ("email", row["email"]!), ("status", row["status"]!),
                                            ("created_at", Self.isoTime(row["created_at"]!)), ("updated_at", Self.isoTime(row["updated_at"]!))]
            messages.append(#"{"type": "RECORD", "stream": "\#(stream)", "record": "# + Self.jsonl([record]).trimmingCharacters(in: .newlines) + "}")
        }
        let input = scenario.files.deletingLastPathComponent().appendingPathComponent("\(scenario.table)-singer.jsonl")
        let config = scenario.files.deletingLastPathComponent().appendingPathComponent("\(scenario.table)-target.json")
        defer { try? FileManager.default.removeItem(at: input); try? FileManager.default.removeItem(at: config) }
        try (messages.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
        try #"{"destination_path": "\#(scenario.files.path)"}"#.write(to: config, atomically: true, encoding: .utf8)
        let target = ToolVenvs.path("singer", "bin/target-jsonl")
        let wrote = try Run.program("/bin/sh", ["-c", "exec \"$0\" --config \"$1\" < \"$2\"", target, config.path, input.path])
        #expect(wrote.status == 0, "target-jsonl: \(wrote.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: scenario.files.path)
        #expect(files.count == 1 && files[0].range(of: #"^testdb-\#(scenario.table)-\d{8}T\d{6}\.jsonl$"#, options: .regularExpression) != nil, "\(files)")

        for (report, status, stderr) in [try verifyAll(), try scenario.verify()] {
            #expect(status == 0, "\(stderr)")
            #expect(report.tables.map(\.table) == [scenario.table])
            let table = try #require(report.tables.first)
            #expect(table.sourceRows == 9 && table.destinationRows == 9 && table.matched == 9, "\(table)")
        }
    }

    @Test("Debezium's unwrapped change events: __op and the string __deleted, the last event per key wins")
    func debeziumChangeLog() throws {
        let scenario = try VerifyScenario(kind: .jsonl, count: 8)
        defer { scenario.cleanUp() }
        try FileManager.default.createDirectory(at: scenario.files, withIntermediateDirectories: true)
        try scenario.deleteAtSource(id: 2)
        // https://debezium.io/documentation/reference/stable/transformations/event-flattening.html:
        // delete.handling.mode=rewrite adds __deleted "true"/"false"; add.fields=op,source.ts_ms.
        func event(_ row: [String: String?], op: String, deleted: Bool) -> [(String, Any?)] {
            [("id", Int(row["id"]!!)!), ("name", row["name"]!), ("email", row["email"]!), ("status", row["status"]!),
             ("created_at", Self.isoTime(row["created_at"]!)), ("updated_at", Self.isoTime(row["updated_at"]!)),
             ("__op", op), ("__source_ts_ms", 1_795_600_800_000), ("__deleted", deleted ? "true" : "false")]
        }
        var events = scenario.rows.map { event($0, op: "r", deleted: false) }
        events.append(event(scenario.rows[1], op: "d", deleted: true))
        events.append(event(scenario.rows[3], op: "u", deleted: false))
        try Self.jsonl(events).write(to: scenario.files.appendingPathComponent("\(scenario.table).jsonl"), atomically: true, encoding: .utf8)
        let (report, status, stderr) = try scenario.verify(["--profile", "debezium"])
        #expect(status == 0, "\(stderr)")
        let table = try #require(report.tables.first)
        #expect(table.profile == .debezium && table.sourceRows == 7 && table.matched == 7 && table.redelivered == 1)
    }

    @Test("Fivetran history mode in PostgreSQL: only the _fivetran_active version of a key is live")
    func fivetranHistoryMode() throws {
        let scenario = try VerifyScenario(kind: .postgres, count: 6)
        let connection = try PostgresFixture.shared.connect()
        defer { connection.close() }
        // https://fivetran.com/docs/core-concepts/system-columns-and-tables (history mode):
        // _fivetran_start, _fivetran_end, _fivetran_active; an old version stays, inactive.
        try connection.execute("""
            CREATE TABLE \(scenario.table) (id bigint, name text, email text, status text, created_at timestamptz, updated_at timestamptz,
              _fivetran_start timestamptz, _fivetran_end timestamptz, _fivetran_active boolean, _fivetran_synced timestamptz)
            """)
        var values: [String] = []
        for row in scenario.rows {
            let columns = VerifyScenario.columns.map { VerifyScenario.pgLiteral(row[$0] ?? nil, timestamp: $0.hasSuffix("_at")) }
            values.append("(\(columns.joined(separator: ", ")), now(), '9999-12-31', true, now())")
            if row["id"] == "4" {
                var old = columns
                old[1] = "'An Older Name'"
                values.append("(\(old.joined(separator: ", ")), now() - interval '1 day', now(), false, now())")
            }
        }
        try connection.execute("INSERT INTO \(scenario.table) VALUES \(values.joined(separator: ", "))")
        let (report, status, stderr) = try scenario.verify()
        #expect(status == 0, "\(stderr)")
        let table = try #require(report.tables.first)
        #expect(table.profile == .fivetran && table.matched == 6 && table.destinationRows == 6 && table.duplicates == 0)
    }

    /// A source table with one column of every kind of the normalisation table.
    static func typedSource() throws -> (SourceFixture, String) {
        let source = SourceFixture.shared
        let table = SourceFixture.table("typed")
        let connection = try source.connect()
        defer { connection.close() }
        try connection.execute("SET time_zone = '+00:00'")
        try connection.execute("""
            CREATE TABLE \(table) (id INT PRIMARY KEY, note VARCHAR(20) NULL, amount DECIMAL(10,2), ratio DOUBLE, flag TINYINT(1),
              born DATE, doc JSON, raw VARBINARY(8), at DATETIME(3), stamp TIMESTAMP(6) NULL, kind ENUM('a','b'), length TIME)
            """)
        try connection.execute("""
            INSERT INTO \(table) VALUES
              (1, NULL, 1.50, 0.1, 1, '2026-01-02', '{"b": [1, 2.50], "a": "x"}', 0xDEAD00, '2026-11-25 10:00:00.123',
               '2026-11-25 10:00:00.123456', 'a', '10:00:00'),
              (2, '', 2.00, -1e300, 0, NULL, NULL, NULL, NULL, NULL, 'b', '-01:30:00'),
              (3, 'Ünïcode ✓', -0.01, 3, 0, '1999-12-31', '[]', '', '1970-01-01 00:00:00.000', '2038-01-19 03:14:07.999999', NULL, NULL)
            """)
        return (source, table)
    }

    @Test("CSV: NULL is an empty unquoted field or \\N, \"\" is the empty string; every value kind normalised")
    func csvNormalisation() throws {
        let (source, table) = try Self.typedSource()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-verify-csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("\(table).csv")
        let good = """
            id,note,amount,ratio,flag,born,doc,raw,at,stamp,kind,length,_airbyte_extracted_at
            1,,1.5,0.1,true,2026-01-02,"{""a"":""x"",""b"":[1,2.5]}",3q0A,2026-11-25T10:00:00.123Z,2026-11-25T12:00:00.123456+02:00,a,10:00:00.000,2026-11-25T10:00:00Z
            2,"",2,-1E+300,false,\\N,,,,,b,-01:30:00,2026-11-25T10:00:00Z
            3,"Ünïcode ✓",-0.010,3.0,0,1999-12-31T00:00:00Z,[],"",1970-01-01T00:00:00Z,2038-01-19 03:14:07.999999,,,2026-11-25T10:00:00Z

            """
        try good.write(to: file, atomically: true, encoding: .utf8)
        var environment = source.environment
        environment["TOOLKIT_DEST_PASSWORD"] = ""
        var run = try Run.toolkit(["verify", "--destination", "csv:\(file.path)", "--table", table, "--json"], environment: environment)
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        // NULL and '' swapped in row 1 and 2, a decimal off by a cent, a microsecond lost in row 3.
        let bad = good.replacingOccurrences(of: "1,,1.5,", with: "1,\"\",1.5,").replacingOccurrences(of: "2,\"\",2,", with: "2,,2.01,")
            .replacingOccurrences(of: "03:14:07.999999", with: "03:14:07.999998")
        try bad.write(to: file, atomically: true, encoding: .utf8)
        run = try Run.toolkit(["verify", "--destination", "csv:\(file.path)", "--table", table, "--json"], environment: environment)
        #expect(run.status == 1)
        let report = try JSONDecoder().decode(VerifyReport.self, from: Data(run.stdout.utf8))
        let result = try #require(report.tables.first)
        #expect(result.changed == 3)
        #expect(result.changedColumns == ["note": 2, "amount": 1, "stamp": 1])
    }

    @Test("PostgreSQL types: numeric, double, boolean, date, jsonb, bytea, timestamp(3), timestamptz, enum as text, time")
    func postgresTypes() throws {
        let (source, table) = try Self.typedSource()
        let connection = try PostgresFixture.shared.connect()
        defer { connection.close() }
        try connection.execute("""
            CREATE TABLE \(table) (id int PRIMARY KEY, note text, amount numeric(12,4), ratio double precision, flag boolean, born date,
              doc jsonb, raw bytea, at timestamp(3), stamp timestamptz, kind text, length interval);
            INSERT INTO \(table) VALUES
              (1, NULL, 1.5000, 0.1, true, '2026-01-02', '{"a": "x", "b": [1, 2.5]}', '\\xdead00', '2026-11-25 10:00:00.123',
               '2026-11-25 12:00:00.123456+02', 'a', '10:00:00'),
              (2, '', 2, -1e300, false, NULL, NULL, NULL, NULL, NULL, 'b', '-01:30:00'),
              (3, 'Ünïcode ✓', -0.01, 3, false, '1999-12-31', '[]', '\\x', '1970-01-01 00:00:00', '2038-01-19 03:14:07.999999+00', NULL, NULL)
            """)
        let run = try Run.toolkit(["verify", "--destination", PostgresFixture.shared.url, "--table", table, "--json"],
                                  environment: source.environment)
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
    }

    @Test("tables and columns the destination lacks are not replicated, not differences; a named absent table is all missing")
    func notReplicated() throws {
        let scenario = try VerifyScenario(kind: .postgres, count: 5)
        let schema = "nr_\(UInt32.random(in: 0...UInt32.max))"
        let connection = try PostgresFixture.shared.connect()
        defer { connection.close() }
        try connection.execute("CREATE SCHEMA \(schema)")
        // Spelled differently from the source: the table and a column in capitals (matched case-insensitively).
        try connection.execute("CREATE TABLE \(schema).\"\(scenario.table.uppercased())\" (id bigint, \"NAME\" text, email text, status text, created_at timestamptz)")
        let values = scenario.rows.map { row in
            "(" + ["id", "name", "email", "status", "created_at"].map { VerifyScenario.pgLiteral(row[$0] ?? nil, timestamp: $0 == "created_at") }
                .joined(separator: ", ") + ")"
        }
        try connection.execute("INSERT INTO \(schema).\"\(scenario.table.uppercased())\" VALUES \(values.joined(separator: ", "))")
        let destination = "\(PostgresFixture.shared.url)?schema=\(schema)"
        var run = try Run.toolkit(["verify", "--destination", destination, "--json"], environment: scenario.source.environment)
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        var report = try JSONDecoder().decode(VerifyReport.self, from: Data(run.stdout.utf8))
        #expect(report.tables.map(\.table) == [scenario.table])
        #expect(report.tables.first?.notReplicatedColumns == ["updated_at"])
        #expect(report.notReplicatedTables.contains("users"))
        #expect(!report.notReplicatedTables.contains("_toolkit_meta"))

        run = try Run.toolkit(["verify", "--destination", destination, "--table", "users", "--json"], environment: scenario.source.environment)
        #expect(run.status == 1)
        report = try JSONDecoder().decode(VerifyReport.self, from: Data(run.stdout.utf8))
        let users = try #require(report.tables.first)
        #expect(users.missing == users.sourceRows && users.sourceRows > 0 && users.destinationRows == 0)
    }

    @Test("--wait re-checks until a lagging destination catches up, with a progress line on stderr")
    func waitForCatchUp() throws {
        var scenario = try VerifyScenario(kind: .postgres, count: 30)
        let late = Array(scenario.rows.suffix(10))
        scenario.rows.removeLast(10)
        try scenario.write()
        let table = scenario.table
        let catchUp = Thread {
            Thread.sleep(forTimeInterval: 2)
            guard let connection = try? PostgresFixture.shared.connect() else { return }
            let values = late.map { row in
                "(" + VerifyScenario.columns.map { VerifyScenario.pgLiteral(row[$0] ?? nil, timestamp: $0.hasSuffix("_at")) }.joined(separator: ", ")
                    + ", false, now())"
            }
            try? connection.execute("INSERT INTO \(table) VALUES \(values.joined(separator: ", "))")
            connection.close()
        }
        catchUp.start()
        let (report, status, stderr) = try scenario.verify(["--wait", "30"])
        #expect(status == 0, "\(stderr)")
        #expect(report.verdict == .match)
        #expect(stderr.contains("\(table): 10 behind, 0 changed"))
    }

    @Test("bad input exits 2 with one line naming the flag; a password in the URL is refused")
    func badInput() throws {
        let environment = SourceFixture.shared.environment
        for (arguments, flag) in [
            (["--destination", "postgres://etl:secret@127.0.0.1:5432/db"], "--destination"),
            (["--destination", "ftp://x"], "--destination"),
            (["--destination", "jsonl:/nonexistent-\(UUID().uuidString)"], "--destination"),
            (["--destination", "postgres://etl@127.0.0.1:5432/db", "--profile", "stitch"], "--profile"),
            (["--destination", "postgres://etl@127.0.0.1:5432/db", "--wait", "-1"], "--wait"),
            (["--destination", "postgres://etl@127.0.0.1:5432/db", "--key", "id;drop"], "--key"),
        ] {
            let run = try Run.toolkit(["verify"] + arguments, environment: environment)
            #expect(run.status == 2, "\(arguments)")
            #expect(run.stderr.split(separator: "\n").count == 1 && run.stderr.contains(flag), "\(run.stderr)")
            #expect(!run.stderr.contains("secret"))
        }
    }
}
