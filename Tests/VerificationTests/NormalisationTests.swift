import Foundation
import Testing
@testable import Verification

@Suite("Normalisation: the README's table, value by value")
struct NormalisationTests {
    func same(_ a: String?, _ b: String?, _ kind: ColumnKind, _ format: ValueFormat = ValueFormat()) -> Bool {
        Normalisation.cell(a, kind: kind).matches(Normalisation.cell(b, kind: kind, format: format), kind: kind)
    }

    @Test("decimals by value; integers; booleans as TINYINT(1)")
    func numbers() {
        #expect(same("1.50", "1.5", .decimal))
        #expect(same("-0.00", "0", .decimal))
        #expect(same("0012.300", "12.3", .decimal))
        #expect(same("1e3", "1000", .decimal))
        #expect(!same("1.51", "1.5", .decimal))
        #expect(same("42", "42", .integer))
        #expect(!same("42", "43", .integer))
        #expect(same("1", "t", .boolean) && same("0", "false", .boolean) && same("1", "true", .boolean))
        #expect(!same("1", "f", .boolean))
    }

    @Test("floats within the stated tolerance")
    func floats() {
        #expect(same("123457", "123456.7", .float(relativeTolerance: 1e-5)))
        #expect(!same("123457", "123450", .float(relativeTolerance: 1e-5)))
        #expect(same("0.1", "0.1000000000000001", .float(relativeTolerance: 1e-9)))
    }

    @Test("strings exactly: NULL is not the empty string, case matters")
    func strings() {
        #expect(!same(nil, "", .text))
        #expect(!same("a", "A", .text))
        #expect(same("héllo", "héllo", .text))
        #expect(same(nil, nil, .text))
    }

    @Test("datetimes in UTC at the lower precision of the two sides")
    func instants() {
        // PostgreSQL timestamptz in a UTC session, a file's ISO form, an offset, epoch milliseconds.
        #expect(same("2026-11-25 10:00:00", "2026-11-25 10:00:00+00", .instant(digits: 0)))
        #expect(same("2026-11-25 10:00:00", "2026-11-25T12:00:00+02:00", .instant(digits: 0)))
        #expect(same("2026-11-25 10:00:00", "2026-11-25T10:00:00Z", .instant(digits: 0)))
        #expect(same("2026-11-25 10:00:00.123456", "2026-11-25T10:00:00.123Z", .instant(digits: 6)))
        #expect(!same("2026-11-25 10:00:00.123456", "2026-11-25T10:00:00.124Z", .instant(digits: 6)))
        #expect(same("2026-11-25 10:00:00.120000", "2026-11-25 10:00:00.12", .instant(digits: 6), ValueFormat(instantDigits: 6)))
        #expect(!same("2026-11-25 10:00:00.123456", "2026-11-25 10:00:00.12", .instant(digits: 6), ValueFormat(instantDigits: 6)))
        #expect(same("2026-11-25 10:00:00", "1795600800000", .instant(digits: 0)))
        #expect(!same("2026-11-25 10:00:00", "2026-11-25 10:00:01", .instant(digits: 0)))
        #expect(same("1969-12-31 23:59:59.5", "1969-12-31T23:59:59.5Z", .instant(digits: 1)))
        // What warehouse CLIs print: BigQuery's zone name, Snowflake's offset after a space.
        #expect(same("2026-11-25 10:00:00", "2026-11-25 10:00:00 UTC", .instant(digits: 0)))
        #expect(same("2026-11-25 10:00:00.123", "2026-11-25 12:00:00.123 +0200", .instant(digits: 3)))
        #expect(same("2026-11-25 10:00:00", "2026-11-25 05:00:00 -0500", .instant(digits: 0)))
        #expect(!same("2026-11-25 10:00:00", "2026-11-25 10:00:00 CET", .instant(digits: 0)))
    }

    @Test("zero dates are their own class, equal to NULL or themselves")
    func zeroDates() {
        #expect(Normalisation.cell("0000-00-00 00:00:00", kind: .instant(digits: 0)) == .zeroDate)
        #expect(Normalisation.cell("0000-00-00", kind: .date) == .zeroDate)
        #expect(same("0000-00-00 00:00:00", nil, .instant(digits: 0)))
        #expect(!same("0000-00-00 00:00:00", "2026-01-01 00:00:00", .instant(digits: 0)))
    }

    @Test("DATE, TIME, JSON as parsed values, binary as hex or base64")
    func otherKinds() {
        #expect(same("2026-11-25", "2026-11-25T00:00:00Z", .date))
        #expect(same("2026-11-25", "20782", .date)) // Debezium: days since the epoch
        #expect(!same("2026-11-25", "2026-11-26", .date))
        #expect(same("10:00:00.500000", "10:00:00.5", .time))
        #expect(same("10:00:00", "10:00:00.000", .time))
        #expect(same(#"{"b": 1, "a": [1, 2.50]}"#, #"{"a":[1,2.5],"b":1}"#, .json))
        #expect(!same(#"{"a": 1}"#, #"{"a": "1"}"#, .json))
        #expect(same("DEADBEEF", "deadbeef", .binary))
        #expect(same("DEADBEEF", "3q2+7w==", .binary, ValueFormat(binary: .base64)))
        #expect(!same("DEADBEEF", "3q2+7A==", .binary, ValueFormat(binary: .base64)))
        // psql's bytea, DuckDB's BLOB text (printable bytes as themselves, a backslash as \x5C).
        #expect(same("DEAD00", "\\xdead00", .binary, ValueFormat(binary: .prefixedHex)))
        #expect(!same("DEAD00", "dead00", .binary, ValueFormat(binary: .prefixedHex)))
        #expect(same("0141FF5C", "\\x01A\\xFF\\x5C", .binary, ValueFormat(binary: .escaped)))
        #expect(same("", "", .binary, ValueFormat(binary: .escaped)))
        #expect(!same("0141FF", "\\x01A\\xF", .binary, ValueFormat(binary: .escaped)))
    }
}

@Suite("Comparison: the set-checker's classes add up")
struct ComparisonTests {
    let shape = TableShape(table: "users", columns: [
        ComparedColumn(name: "id", kind: .integer), ComparedColumn(name: "name", kind: .text),
        ComparedColumn(name: "email", kind: .text),
    ], key: [0])

    func rows(_ ids: [Int], name: (Int) -> String = { "n\($0)" }) -> [Row] {
        ids.map { shape.row([String($0), name($0), "gen-\(String(repeating: "0", count: 12 - String($0).count))\($0)@toolkit.test"], formats: [ValueFormat()]) }
    }

    @Test("missing, extra, duplicates, changed: exact counts, examples as tag ranges")
    func classes() {
        let source = rows(Array(1...20))
        var destination = rows(Array(1...20).filter { ![5, 6, 7].contains($0) })   // 3 missing
        destination += rows([30])                                                   // 1 extra
        destination += rows([2, 2, 30])                                             // 2 duplicates of 2, 1 of the extra 30
        destination[8] = rows([12], name: { _ in "changed" })[0]                    // 1 changed (id 12)
        let report = Comparison.compare(shape, profile: .none, source: source, destination: destination).report
        #expect(report.missing == 3 && report.extra == 1 && report.duplicates == 3 && report.changed == 1)
        #expect(report.changedColumns == ["name": 1])
        #expect(report.sourceRows == report.matched + report.changed + report.missing)
        #expect(report.destinationRows == report.matched + report.changed + report.extra + report.duplicates)
        #expect(report.examples["missing"] == ["gen-000000000005..gen-000000000007"])
        #expect(report.examples["changed"] == ["gen-000000000012"])
        #expect(report.examples["extra"] == ["gen-000000000030"])
    }

    @Test("a table without a key is a multiset: copies count as missing or extra, never duplicates")
    func multiset() {
        let keyless = TableShape(table: "log", columns: [ComparedColumn(name: "line", kind: .text)], key: [])
        let row = { (text: String) in keyless.row([text], formats: [ValueFormat()]) }
        let report = Comparison.compare(keyless, profile: .none, source: [row("a"), row("a"), row("b")],
                                        destination: [row("a"), row("b"), row("b"), row("c")]).report
        #expect(report.matched == 2 && report.missing == 1 && report.extra == 2 && report.duplicates == 0)
        #expect(report.sourceRows == report.matched + report.changed + report.missing)
        #expect(report.destinationRows == report.matched + report.changed + report.extra + report.duplicates)
    }

    @Test("a difference gone when re-read counts as rechecked, and the counts still add up")
    func recheck() {
        let source = rows(Array(1...10))
        let destination = rows(Array(1...8))
        let report = Comparison.compareRechecking(shape, profile: .none, source: source, destination: destination) { keys in
            #expect(keys == ["9", "10"])
            // Meanwhile the pipeline caught up with 9; 10 is still missing.
            return (rows([9, 10]), rows([9]))
        }
        #expect(report.rechecked == 1 && report.missing == 1 && report.matched == 9)
        #expect(report.sourceRows == report.matched + report.changed + report.missing)
    }

    @Test("string keys in the toolkit's own order, composite keys joined")
    func keyOrder() {
        let text = TableShape(table: "t", columns: [ComparedColumn(name: "a", kind: .text), ComparedColumn(name: "b", kind: .integer)], key: [0, 1])
        let source = ["b", "a", "B", "é", "A"].map { text.row([$0, "1"], formats: [ValueFormat()]) }
        let report = Comparison.compare(text, profile: .none, source: source, destination: []).report
        #expect(report.examples["missing"] == ["A,1", "B,1", "a,1", "b,1", "é,1"])
    }
}

@Suite("Change logs, profiles, destination addresses, tag ranges")
struct ChangeLogAndProfileTests {
    @Test("folding: the last line wins, a delete removes the key, an identical line is a redelivery")
    func fold() {
        let shape = TableShape(table: "t", columns: [ComparedColumn(name: "id", kind: .integer), ComparedColumn(name: "v", kind: .text)], key: [0])
        func line(_ id: String, _ value: String, delete: Bool = false) -> ChangeLog.Line {
            let row = shape.row([id, value], formats: [ValueFormat()])
            return ChangeLog.Line(key: row.key, signature: [id, value], isDelete: delete, row: row)
        }
        let folded = ChangeLog.fold([line("1", "a"), line("2", "a"), line("1", "b"), line("1", "b"), line("2", "a", delete: true),
                                     line("3", "c"), line("3", "c")])
        #expect(folded.rows.map(\.key) == ["1", "3"])
        #expect(folded.rows[0].cells[1] == .text("b"))
        #expect(folded.redelivered == 2)
    }

    @Test("profiles: metadata columns and delete markers, as each vendor documents them")
    func profiles() {
        #expect(Profile.detect(columns: ["id", "_fivetran_synced", "_fivetran_deleted"]) == .fivetran)
        #expect(Profile.detect(columns: ["id", "_airbyte_raw_id", "_ab_cdc_deleted_at"]) == .airbyte)
        #expect(Profile.detect(columns: ["id", "__hevo_id", "__hevo__marked_deleted"]) == .hevo)
        #expect(Profile.detect(columns: ["id", "__deleted", "__op"]) == .debezium)
        #expect(Profile.detect(columns: ["id", "_sdc_extracted_at"]) == .singer)
        #expect(Profile.detect(columns: ["id", "name"]) == Profile.none)
        #expect(Profile.hevo.isMetadata("__hevo__ingested_at") && Profile.hevo.isMetadata("__HEVO_loaded_at"))
        #expect(!Profile.hevo.isLive(markers: ["__hevo__marked_deleted": "true"]))
        #expect(Profile.hevo.isLive(markers: ["__hevo__marked_deleted": nil]))
        #expect(Profile.hevo.isLive(markers: ["__hevo__marked_deleted": "f"]))
        #expect(!Profile.fivetran.isLive(markers: ["_fivetran_deleted": "t"]))
        #expect(!Profile.fivetran.isLive(markers: ["_fivetran_active": "false", "_fivetran_deleted": nil]))
        #expect(Profile.fivetran.isLive(markers: ["_fivetran_active": "true"]))
        #expect(!Profile.airbyte.isLive(markers: ["_ab_cdc_deleted_at": "2026-11-25T10:00:00Z"]))
        #expect(!Profile.debezium.isLive(markers: ["__deleted": "true"]) && Profile.debezium.isLive(markers: ["__deleted": "false"]))
        #expect(!Profile.singer.isLive(markers: ["_sdc_deleted_at": "2026-11-25T10:00:00Z"]))
        #expect(Profile.singer.isLive(markers: [:]))
    }

    @Test("destination addresses: four kinds; a password in the URL is refused")
    func addresses() throws {
        #expect(try DestinationAddress(parsing: "postgres://etl@db.example:5433/warehouse?schema=raw")
                == .postgres(user: "etl", host: "db.example", port: 5433, database: "warehouse", schema: "raw"))
        #expect(try DestinationAddress(parsing: "mysql://root@127.0.0.1:3307/copy")
                == .mysql(user: "root", host: "127.0.0.1", port: 3307, database: "copy"))
        #expect(try DestinationAddress(parsing: "jsonl:/tmp/out") == .jsonl(path: "/tmp/out"))
        #expect(try DestinationAddress(parsing: "csv:out.csv") == .csv(path: "out.csv"))
        #expect(try DestinationAddress(parsing: "exec:duckdb -csv -c 'SELECT * FROM {table}'")
            == .exec(try ExecCommand(parsing: "duckdb -csv -c 'SELECT * FROM {table}'")))
        #expect(throws: DestinationAddress.Invalid.self) { try DestinationAddress(parsing: "exec:duckdb -c 'SELECT 1'") }
        #expect(DestinationAddress.shown("exec:snowsql -o password=x -q 'select * from {table}'")
            == "exec:snowsql -o password=*** -q 'select * from {table}'")
        #expect(DestinationAddress.shown("mysql://u:pw@h:3306/db") == "mysql://u:***@h:3306/db")
        #expect(throws: DestinationAddress.Invalid.self) { try DestinationAddress(parsing: "postgres://etl:secret@h:5432/db") }
        #expect(throws: DestinationAddress.Invalid.self) { try DestinationAddress(parsing: "mysql://h:3306/db") }
        #expect(throws: DestinationAddress.Invalid.self) { try DestinationAddress(parsing: "s3://bucket/x") }
        do {
            _ = try DestinationAddress(parsing: "s3://key:very-secret@bucket/x")
            Issue.record("an s3:// address was accepted")
        } catch {
            #expect(!error.description.contains("very-secret") && error.description.contains("s3://key:***@bucket/x"))
        }
        #expect(throws: DestinationAddress.Invalid.self) { try DestinationAddress(parsing: "mysql://u@h:3306/db?schema=x") }
    }

    @Test("generated tags as ranges")
    func ranges() {
        #expect(GeneratedTagText.ranges([42, 43, 44, 50, 52, 53]) ==
                ["gen-000000000042..gen-000000000044", "gen-000000000050", "gen-000000000052..gen-000000000053"])
        #expect(GeneratedTagText.sequence("gen-000000000042@toolkit.test") == 42)
        #expect(GeneratedTagText.sequence("alice@example.com") == nil)
    }
}

@Suite("deletes a cursor cannot see")
struct DeletesNotPropagatedTests {
    @Test("a row the source deleted and the destination keeps is counted apart, not extra; the counts add up")
    func counted() {
        let shape = TableShape(table: "users", columns: [ComparedColumn(name: "id", kind: .integer), ComparedColumn(name: "name", kind: .text)],
                               key: [0])
        func rows(_ ids: [Int]) -> [Row] { ids.map { shape.row(["\($0)", "n\($0)"], formats: [ValueFormat()]) } }
        let outcome = Comparison.compare(shape, profile: .none, source: rows([1, 2, 3]), destination: rows([1, 2, 3, 4, 5, 6]),
                                         deletedAtSource: ["4", "5"])
        let report = outcome.report
        #expect(report.deletesNotPropagated == 2 && report.extra == 1 && report.differences == 1)
        #expect(report.examples["extra"] == ["6"])
        #expect(report.destinationRows == report.matched + report.changed + report.extra + report.duplicates + report.deletesNotPropagated!)
        let plain = Comparison.compare(shape, profile: .none, source: rows([1]), destination: rows([1, 4])).report
        #expect(plain.deletesNotPropagated == nil && plain.extra == 1)
    }
}

@Suite("a cursor kept in whole seconds")
struct CursorPrecisionTests {
    let shape = TableShape(table: "users", columns: [ComparedColumn(name: "id", kind: .integer), ComparedColumn(name: "created_at", kind: .instant(digits: 0)),
                                                    ComparedColumn(name: "updated_at", kind: .instant(digits: 6))], key: [0])
    /// Row `id` written at `second` plus `micros`, created an hour earlier.
    func row(_ id: Int, _ second: Int, _ micros: Int = 0) -> Row {
        shape.row(["\(id)", "2026-12-04 09:00:\(String(format: "%02d", second))", "2026-12-04 10:00:\(String(format: "%02d", second)).\(String(format: "%06d", micros))"],
                  formats: [ValueFormat()])
    }

    @Test("missing rows written in a second a row that arrived was written in: named, with the column, in the report's text")
    func sharedSeconds() {
        let source = [row(1, 1), row(2, 1, 400_000), row(3, 2, 100), row(4, 2, 900_000), row(5, 3)]
        let report = Comparison.compare(shape, profile: .none, source: source, destination: [source[0], source[2], source[4]]).report
        #expect(report.missing == 2 && report.missingShareSecondIn == "updated_at")
        #expect(report.description.contains("all 2 missing rows share their second in updated_at with a row that arrived: this looks like cursor precision"))
        let one = Comparison.compare(shape, profile: .none, source: source, destination: [source[0], source[2], source[3], source[4]]).report
        #expect(one.missingShareSecondIn == "updated_at" && one.description.contains("the missing row shares its second in updated_at"))
    }

    @Test("a missing row alone in its second, no missing row, or nothing that arrived: no hint")
    func noHint() {
        let source = [row(1, 1), row(2, 1, 400_000), row(3, 2, 100), row(4, 5)]
        let alone = Comparison.compare(shape, profile: .none, source: source, destination: [source[0], source[2]]).report
        #expect(alone.missing == 2 && alone.missingShareSecondIn == nil)
        #expect(!alone.description.contains("cursor precision"))
        #expect(Comparison.compare(shape, profile: .none, source: source, destination: source).report.missingShareSecondIn == nil)
        #expect(Comparison.compare(shape, profile: .none, source: source, destination: []).report.missingShareSecondIn == nil)
        let json = String(decoding: try! JSONEncoder().encode(alone), as: UTF8.self)
        #expect(!json.contains("missing_share_second_in"))
    }
}
