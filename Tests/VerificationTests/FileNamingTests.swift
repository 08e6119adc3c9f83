import Testing
@testable import Verification

/// Which file holds which table: target-jsonl names its files after the Singer stream
/// (`testdb-users-20261202T201500.jsonl`), other targets after the table.
@Suite struct FileNamingTests {
    @Test func streamNamesAndRotationsBelongToTheirTable() throws {
        let files = ["testdb-users-20261202T201500.jsonl", "testdb-users-20261202T211500.jsonl", "orders.jsonl",
                     "Orders-20261125T100000.jsonl", "users-archive.jsonl", "notes.csv", "testdb-audit.jsonl"]
        let assigned = try FileNaming.assign(files, tables: ["users", "orders", "audit", "notes"], database: "testdb", fileExtension: "jsonl")
        #expect(assigned["users"] == ["testdb-users-20261202T201500.jsonl", "testdb-users-20261202T211500.jsonl"])
        #expect(assigned["orders"] == ["Orders-20261125T100000.jsonl", "orders.jsonl"])
        #expect(assigned["audit"] == ["testdb-audit.jsonl"])
        #expect(assigned["notes"] == nil, "a .csv file is not a .jsonl table")
        #expect(!assigned.values.joined().contains("users-archive.jsonl"), "a suffix that is no timestamp names another thing")
    }

    @Test func aNameThatFitsTwoTablesIsAnErrorNamingIt() {
        #expect {
            try FileNaming.assign(["a-1.jsonl", "a.jsonl"], tables: ["a", "a-1"], database: "db", fileExtension: "jsonl")
        } throws: { error in
            "\(error)" == "file names that fit more than one table: a-1.jsonl (a, a-1)"
        }
    }

    @Test func timestamps() {
        #expect(FileNaming.isTimestamp("20261125T100000"))
        #expect(FileNaming.isTimestamp("2026-11-25T10:00:00.000Z"))
        #expect(FileNaming.isTimestamp("1"))
        #expect(!FileNaming.isTimestamp(""))
        #expect(!FileNaming.isTimestamp("archive"))
        #expect(!FileNaming.isTimestamp("2026-part"))
    }
}
