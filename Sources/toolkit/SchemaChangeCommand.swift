import ArgumentParser
import Breakage
import Flavor
import Foundation

struct SchemaChangeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema-change",
        abstract: "Run DDL a CDC reader must follow, and print exactly what ran.",
        discussion: """
        Columns and tables the toolkit adds are named tk_col_N and tk_table_N; drop/alter/rename \
        act on the newest of them unless --column or --table names one.
          add-column, add-column-with-default, drop-column, alter-column, rename-column, change-enum: --table (default users)
          create-table, drop-table, rename-table, truncate-table: --table (default: a tk_table_N)
        """)

    @Option(help: "add-column | drop-column | alter-column | create-table | drop-table | rename-table | rename-column | truncate-table | add-column-with-default | change-enum.")
    var type: SchemaChangeKind
    @Option(help: "The table to change.") var table: String?
    @Option(parsing: .unconditional, help: "How many changes of this type (1 to 100).") var count = 1
    @Option(help: "The column for drop-column, alter-column, rename-column or change-enum (default: the newest tk_col_N, or the first ENUM).")
    var column: String?
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func validate() throws {
        if let table, !SQLText.isPlainIdentifier(table) {
            throw ValidationError("--table must be a plain table name (letters, digits, _ and $, at most 64), got '\(table)'")
        }
        if let table, SchemaChangePlanner.protectedTables.contains(table.lowercased()) {
            throw ValidationError("--table \(table) is the toolkit's own table, which schema-change leaves alone; name another table")
        }
        try requireFit("--column", given: column != nil, fits: Self.columnKinds.contains(type),
                       goesOnlyWith: "--type " + Self.columnKinds.map(\.rawValue).joined(separator: ", "))
        if let column, !SQLText.isPlainIdentifier(column) {
            throw ValidationError("--column must be a plain column name (letters, digits, _ and $, at most 64), got '\(column)'")
        }
        guard (1...100).contains(count) else { throw ValidationError("--count must be a whole number from 1 to 100, got \(count)") }
    }

    /// The changes that act on one column, which --column names.
    static let columnKinds: [SchemaChangeKind] = [.dropColumn, .alterColumn, .renameColumn, .changeEnum]

    func run() throws {
        let result = try SchemaChange(target: try connection.target())
            .run(type, table: table, count: count, column: column)
        output.emit(result)
    }
}
