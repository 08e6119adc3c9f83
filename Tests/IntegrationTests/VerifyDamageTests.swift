import Foundation
import MariaDB
import PostgreSQL
import Testing
import Verification

/// The kinds of destination `verify` reads, each holding its copy with one ETL tool's metadata
/// columns and soft-delete marker, built from the vendor's documentation:
/// - PostgreSQL as Fivetran writes it: `_fivetran_deleted`, `_fivetran_synced`
///   (https://fivetran.com/docs/core-concepts/system-columns-and-tables);
/// - MySQL as Hevo does: `__hevo__marked_deleted`, `__hevo__ingested_at`
///   (https://docs.hevodata.com/advanced-concepts/introduction-to-hevo_id for the `__hevo` columns);
/// - JSONL as Airbyte's CDC streams: `_ab_cdc_deleted_at`, `_airbyte_extracted_at`
///   (https://docs.airbyte.com/understanding-airbyte/cdc, .../airbyte-metadata-fields);
/// - the PostgreSQL copy again, read through `exec:psql --csv` (as a Redshift user would);
/// - the same copy in a DuckDB file, read through `exec:duckdb -csv -readonly` (DuckDB's own CLI, from PyPI).
enum DestinationKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case postgres, mysql, jsonl, execPsql, execDuckDB
    var testDescription: String { rawValue }

    var profile: Profile {
        switch self {
        case .postgres, .execPsql, .execDuckDB: return .fivetran
        case .mysql: return .hevo
        case .jsonl: return .airbyte
        }
    }

    /// DuckDB's CLI, as scripts/test-deps installs it (`duckdb-cli` from PyPI).
    static let duckdb = ToolVenvs.path("duckdb", "bin/duckdb")
}

/// One damage a pipeline can do, made on purpose on the destination's copy.
enum Damage: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case missing, extra, duplicate, changed, softDelete, unpropagatedDelete
    var testDescription: String { rawValue }
}

/// A source table of generated rows and a destination copy of it.
struct VerifyScenario {
    static let columns = ["id", "name", "email", "status", "created_at", "updated_at"]
    let source = SourceFixture.shared
    let table = SourceFixture.table("verify")
    let kind: DestinationKind
    let files: URL
    /// The source's rows as the destination copy starts: column → text, plus `deleted`.
    var rows: [[String: String?]] = []

    init(kind: DestinationKind, count: Int = 40) throws {
        self.kind = kind
        files = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-verify-\(getpid())-\(UUID().uuidString)")
        let run = try Run.toolkit(["generate-data", "--table", table, "--count", String(count)], environment: source.environment)
        guard run.status == 0 else { throw FixtureError("generate-data: \(run.stderr)") }
        let connection = try source.connect()
        defer { connection.close() }
        try connection.execute("SET time_zone = '+00:00'")
        let result = try connection.query("SELECT \(Self.columns.joined(separator: ", ")) FROM \(table) ORDER BY id")
        rows = result.rows.map { values in
            var row: [String: String?] = [:]
            for (index, column) in Self.columns.enumerated() { row[column] = values[index] }
            row["deleted"] = "false"
            return row
        }
    }

    func tag(ofID id: Int) -> String {
        let email = rows.first { $0["id"] == String(id) }?["email"] ?? nil
        return GeneratedTagText.tag(GeneratedTagText.sequence(email ?? "") ?? -1)
    }

    var destination: String {
        switch kind {
        case .postgres: return PostgresFixture.shared.url
        case .mysql: return "mysql://root@127.0.0.1:\(source.port)/verify_dest"
        case .jsonl: return "jsonl:\(files.path)"
        case .execPsql:
            let psql = PostgresFixture.binaries! + "/psql"
            return "exec:\(psql) --csv -X -q -h 127.0.0.1 -p \(PostgresFixture.shared.port) -U postgres -d \(PostgresFixture.shared.database) "
                + "-c 'SELECT * FROM {table}'"
        case .execDuckDB:
            return "exec:\(DestinationKind.duckdb) -csv -readonly \(duckFile.path) -c \"SELECT * FROM {table}\""
        }
    }

    var duckFile: URL { files.appendingPathComponent("dest.duckdb") }

    /// Writes `rows` to the destination: the table is created without a key, as many ETL tools do,
    /// so that a duplicate can exist.
    func write() throws {
        let create = """
            CREATE TABLE \(table) (id bigint, name text, email text, status text, created_at timestamptz,
              updated_at timestamptz, _fivetran_deleted boolean, _fivetran_synced timestamptz)
            """
        let values = rows.map { row in
            "(" + Self.columns.map { Self.pgLiteral(row[$0] ?? nil, timestamp: $0.hasSuffix("_at")) }.joined(separator: ", ")
                + ", \(row["deleted"]! == "true"), now())"
        }
        let insert = values.isEmpty ? nil : "INSERT INTO \(table) VALUES \(values.joined(separator: ", "))"
        switch kind {
        case .postgres, .execPsql:
            let connection = try PostgresFixture.shared.connect()
            defer { connection.close() }
            try connection.execute(create)
            if let insert { try connection.execute(insert) }
        case .execDuckDB:
            try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
            let run = try Run.program(DestinationKind.duckdb, [duckFile.path, "-c", create + ";" + (insert ?? "")])
            guard run.status == 0 else { throw FixtureError("duckdb: \(run.stderr)") }
        case .mysql:
            let connection = try source.connect()
            defer { connection.close() }
            try connection.execute("CREATE DATABASE IF NOT EXISTS verify_dest")
            try connection.execute("SET time_zone = '+00:00'")
            try connection.execute("""
                CREATE TABLE verify_dest.\(table) (id INT, name VARCHAR(100), email VARCHAR(255), status VARCHAR(20),
                  created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL, __hevo__marked_deleted TINYINT(1), __hevo__ingested_at BIGINT)
                """)
            for row in rows {
                let parameters: [Value] = Self.columns.map { (row[$0] ?? nil).map(Value.text) ?? .null }
                    + [.int(row["deleted"]! == "true" ? 1 : 0), .int(1_795_600_800_000)]
                try connection.execute("INSERT INTO verify_dest.\(table) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", parameters)
            }
        case .jsonl:
            try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
            var text = ""
            for row in rows {
                var object: [String: Any] = [:]
                for column in Self.columns {
                    guard let value = row[column] ?? nil else { object[column] = NSNull(); continue }
                    if column == "id" { object[column] = Int(value)! } else if column.hasSuffix("_at") {
                        object[column] = value.replacingOccurrences(of: " ", with: "T") + "Z"
                    } else { object[column] = value }
                }
                object["_airbyte_extracted_at"] = "2026-11-25T10:00:00Z"
                object["_ab_cdc_deleted_at"] = row["deleted"]! == "true" ? "2026-11-25T10:00:00Z" : NSNull()
                text += String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self) + "\n"
            }
            try Data(text.utf8).write(to: files.appendingPathComponent("\(table).jsonl"))
        }
    }

    static func pgLiteral(_ value: String?, timestamp: Bool) -> String {
        guard let value else { return "NULL" }
        return "'" + value.replacingOccurrences(of: "'", with: "''") + (timestamp ? "+00" : "") + "'"
    }

    func deleteAtSource(id: Int) throws {
        let connection = try source.connect()
        defer { connection.close() }
        try connection.execute("DELETE FROM \(table) WHERE id = \(id)")
    }

    /// Runs `toolkit verify --json` on this table; returns the report and the exit status.
    func verify(_ extra: [String] = []) throws -> (report: VerifyReport, status: Int32, stderr: String) {
        var environment = source.environment
        environment["TOOLKIT_DEST_PASSWORD"] = "rootpassword"
        let run = try Run.toolkit(["verify", "--destination", destination, "--table", table, "--json"] + extra,
                                  environment: environment)
        let report = try JSONDecoder().decode(VerifyReport.self, from: Data(run.stdout.utf8))
        return (report, run.status, run.stderr)
    }

    func cleanUp() {
        try? FileManager.default.removeItem(at: files)
    }
}

@Suite("verify: exact counts and example keys for every damage class, on PostgreSQL, MySQL, JSONL, psql and DuckDB's CLI",
       .tags(.integration), .enabled(if: PostgresFixture.isAvailable, "PostgreSQL (initdb) and the postgres account are needed"))
struct VerifyDamageTests {
    @Test("an exact copy matches, exit 0", arguments: DestinationKind.allCases)
    func exactCopy(kind: DestinationKind) throws {
        let scenario = try VerifyScenario(kind: kind)
        defer { scenario.cleanUp() }
        try scenario.write()
        let (report, status, stderr) = try scenario.verify()
        #expect(status == 0, "\(stderr)")
        #expect(report.verdict == .match)
        let table = try #require(report.tables.first)
        #expect(table.sourceRows == 40)
        #expect(table.matched == table.sourceRows && table.destinationRows == table.sourceRows)
        #expect(table.profile == kind.profile)
        #expect(table.notReplicatedColumns.isEmpty)
    }

    @Test("each damage is counted exactly once, with its keys", arguments: Damage.allCases, DestinationKind.allCases)
    func damage(_ damage: Damage, kind: DestinationKind) throws {
        var scenario = try VerifyScenario(kind: kind)
        defer { scenario.cleanUp() }
        let sourceRows = scenario.rows.count
        var expected = (missing: 0, extra: 0, duplicates: 0, changed: 0, destinationRows: sourceRows, sourceRows: sourceRows)
        var examples: [String: [String]] = [:]
        switch damage {
        case .missing:
            examples["missing"] = ["\(scenario.tag(ofID: 5))..\(scenario.tag(ofID: 7))"]
            scenario.rows.removeAll { ["5", "6", "7"].contains($0["id"]!!) }
            expected.missing = 3; expected.destinationRows -= 3
        case .extra:
            var row = scenario.rows[0]
            row["id"] = "1000"; row["email"] = "someone@example.com"
            scenario.rows.append(row)
            expected.extra = 1; expected.destinationRows += 1
            examples["extra"] = ["1000"]
        case .duplicate:
            scenario.rows.append(scenario.rows[8])
            expected.duplicates = 1; expected.destinationRows += 1
            examples["duplicates"] = [scenario.tag(ofID: 9)]
        case .changed:
            scenario.rows[11]["name"] = "Changed Name"
            expected.changed = 1
            examples["changed"] = [scenario.tag(ofID: 12)]
        case .softDelete:
            scenario.rows[14]["deleted"] = "true"
            expected.missing = 1; expected.destinationRows -= 1
            examples["missing"] = [scenario.tag(ofID: 15)]
        case .unpropagatedDelete:
            try scenario.deleteAtSource(id: 18)
            expected.extra = 1; expected.sourceRows -= 1
            examples["extra"] = [scenario.tag(ofID: 18)]
        }
        try scenario.write()
        let (report, status, stderr) = try scenario.verify()
        #expect(status == 1, "\(stderr)")
        #expect(report.verdict == .differences)
        let table = try #require(report.tables.first)
        #expect(table.missing == expected.missing)
        #expect(table.extra == expected.extra)
        #expect(table.duplicates == expected.duplicates)
        #expect(table.changed == expected.changed)
        #expect(table.changedColumns == (damage == .changed ? ["name": 1] : [:]))
        #expect(table.sourceRows == expected.sourceRows)
        #expect(table.destinationRows == expected.destinationRows)
        #expect(table.sourceRows == table.matched + table.changed + table.missing)
        #expect(table.destinationRows == table.matched + table.changed + table.extra + table.duplicates)
        #expect(table.examples == examples)
        #expect(table.rechecked == 0)
    }
}
