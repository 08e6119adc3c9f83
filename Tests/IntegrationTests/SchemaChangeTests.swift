import Foundation
import MariaDB
import Testing

@Suite("schema-change: the DDL it prints is the DDL a binlog reader sees", .tags(.integration, .endToEnd))
struct SchemaChangeTests {
    @Test("every type of change appears in the binlog as the statement it printed")
    func everyChangeIsInTheBinlog() throws {
        let fixture = SourceFixture.shared
        let table = SourceFixture.table("ddl")
        let firstFile = try fixture.currentBinlog()
        let admin = try fixture.connect()
        defer { admin.close() }

        var printed: [String] = []
        func change(_ arguments: [String]) throws -> [String] {
            let run = try Run.toolkit(["schema-change"] + arguments + ["--json"], environment: fixture.environment)
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
            let statements = fixture.json(run)["statements"] as? [String] ?? []
            #expect(!statements.isEmpty, "\(arguments)")
            printed += statements
            return statements
        }
        _ = try change(["--type", "create-table", "--table", table])
        try admin.execute("ALTER TABLE testdb.\(table) ADD COLUMN mood ENUM('calm','busy') NOT NULL DEFAULT 'calm'")
        _ = try change(["--type", "add-column", "--table", table, "--count", "2"])
        _ = try change(["--type", "add-column-with-default", "--table", table])
        _ = try change(["--type", "alter-column", "--table", table])
        _ = try change(["--type", "rename-column", "--table", table])
        _ = try change(["--type", "drop-column", "--table", table])
        _ = try change(["--type", "change-enum", "--table", table])
        try admin.execute("INSERT INTO testdb.\(table) (name) VALUES ('x')")
        _ = try change(["--type", "truncate-table", "--table", table])
        let renamed = try change(["--type", "rename-table", "--table", table])
        let newName = try #require(renamed.first?.split(separator: "`").last { $0.hasPrefix("tk_table_") }.map(String.init))
        _ = try change(["--type", "drop-table", "--table", newName])

        #expect(printed.count == 11)
        let reading = try fixture.reader.read(from: firstFile)
        for statement in printed {
            #expect(reading.text.contains(statement), "not in the binlog: \(statement)")
        }
        #expect(printed.contains { $0.contains("ENUM('calm','busy','tk_value_1') NOT NULL DEFAULT 'calm'") })
        #expect(try admin.query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'testdb' AND TABLE_NAME IN (?, ?)",
                                [.text(table), .text(newName)]).scalar == "0")
    }

    @Test("bad names are refused with exit 2; a missing column is a one-line error")
    func refusals() throws {
        let fixture = SourceFixture.shared
        let bad = try Run.toolkit(["schema-change", "--type", "add-column", "--table", "users`; DROP TABLE users; --"],
                                  environment: fixture.environment)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--table"))
        let type = try Run.toolkit(["schema-change", "--type", "explode"], environment: fixture.environment)
        #expect(type.status == 2)
        let table = SourceFixture.table("nocol")
        _ = try Run.toolkit(["schema-change", "--type", "create-table", "--table", table], environment: fixture.environment)
        let drop = try Run.toolkit(["schema-change", "--type", "drop-column", "--table", table], environment: fixture.environment)
        #expect(drop.status == 1)
        #expect(drop.stderr.contains("add-column first"))
        _ = try Run.toolkit(["schema-change", "--type", "drop-table", "--table", table], environment: fixture.environment)
    }
}
