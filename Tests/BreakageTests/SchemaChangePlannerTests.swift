import Breakage
import Testing

@Suite("schema-change: DDL planned from the table as it is")
struct SchemaChangePlannerTests {
    let users = TableShape(name: "users", columns: [
        .init(name: "id", type: "int(11)", nullable: false),
        .init(name: "name", type: "varchar(100)", nullable: false),
        .init(name: "status", type: "enum('active','inactive','pending')", nullable: true, defaultValue: "active"),
    ])

    @Test("add-column picks the next free tk_col_N names")
    func addColumn() throws {
        var shape = users
        shape.columns.append(.init(name: "tk_col_7", type: "varchar(255)"))
        let ddl = try SchemaChangePlanner.plan(.addColumn, table: "users", count: 2, tables: ["users"], shape: shape)
        #expect(ddl == ["ALTER TABLE `users` ADD COLUMN `tk_col_8` VARCHAR(255) NULL",
                        "ALTER TABLE `users` ADD COLUMN `tk_col_9` VARCHAR(255) NULL"])
    }

    @Test("drop-column drops the newest toolkit column, and refuses when there is none")
    func dropColumn() throws {
        #expect(throws: SchemaChangePlanner.Problem.self) {
            try SchemaChangePlanner.plan(.dropColumn, table: "users", count: 1, tables: ["users"], shape: users)
        }
        var shape = users
        shape.columns += [.init(name: "tk_col_2", type: "text"), .init(name: "tk_col_10", type: "text")]
        #expect(try SchemaChangePlanner.plan(.dropColumn, table: "users", count: 1, tables: ["users"], shape: shape)
            == ["ALTER TABLE `users` DROP COLUMN `tk_col_10`"])
    }

    @Test("change-enum appends a value and keeps nullability and default")
    func changeEnum() throws {
        let ddl = try SchemaChangePlanner.plan(.changeEnum, table: "users", count: 1, tables: ["users"], shape: users)
        #expect(ddl == ["ALTER TABLE `users` MODIFY COLUMN `status` ENUM('active','inactive','pending','tk_value_1') NULL DEFAULT 'active'"])
    }

    @Test("enum values parse, with doubled quotes")
    func enumParsing() {
        #expect(SchemaChangePlanner.enumValues("enum('a','it''s','c')") == ["a", "it's", "c"])
        #expect(SchemaChangePlanner.enumValues("varchar(10)") == nil)
    }

    @Test("table-level changes default to the newest tk_table_N and never touch _toolkit_meta")
    func tableChanges() throws {
        let tables = ["users", "_toolkit_meta", "tk_table_1", "tk_table_3"]
        #expect(try SchemaChangePlanner.plan(.createTable, table: nil, count: 1, tables: tables, shape: nil).first?.hasPrefix("CREATE TABLE `tk_table_4` (") == true)
        #expect(try SchemaChangePlanner.plan(.renameTable, table: nil, count: 1, tables: tables, shape: nil) == ["RENAME TABLE `tk_table_3` TO `tk_table_4`"])
        #expect(try SchemaChangePlanner.plan(.truncateTable, table: "users", count: 1, tables: tables, shape: nil) == ["TRUNCATE TABLE `users`"])
        #expect(throws: SchemaChangePlanner.Problem.protectedTable("_toolkit_meta")) {
            try SchemaChangePlanner.plan(.dropTable, table: "_toolkit_meta", count: 1, tables: tables, shape: nil)
        }
        #expect(throws: SchemaChangePlanner.Problem.noSuchTable("nope")) {
            try SchemaChangePlanner.plan(.dropTable, table: "nope", count: 1, tables: tables, shape: nil)
        }
    }
}
