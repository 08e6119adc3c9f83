import Testing
import Verification

@Suite("exec: commands: split as a shell splits words, run without one")
struct ExecCommandTests {
    @Test("quotes and backslashes as sh reads them")
    func splitting() throws {
        let command = try ExecCommand(parsing: #"duckdb -csv -readonly "my file.duckdb" -c 'SELECT * FROM {db}.{table}' a\ b "x\"y\n""#)
        #expect(command.words == ["duckdb", "-csv", "-readonly", "my file.duckdb", "-c", "SELECT * FROM {db}.{table}", "a b", #"x"y\n"#])
        #expect(try ExecCommand(parsing: "cat ''{table}").words == ["cat", "{table}"])
        #expect(try ExecCommand(parsing: "  psql\t--csv\n-c {table}  ").words == ["psql", "--csv", "-c", "{table}"])
        for bad in ["", "   ", "cat 'x {table}", "cat \"{table}", "cat {table} \\"] {
            #expect(throws: ExecCommand.Invalid.self, "\(bad)") { try ExecCommand(parsing: bad) }
        }
        #expect(throws: ExecCommand.Invalid.self) { try ExecCommand(parsing: "duckdb -c 'SELECT 1'") }
    }

    @Test("{table} and {db} are replaced only by plain identifiers: nothing a name holds adds a word")
    func substitution() throws {
        let command = try ExecCommand(parsing: "bq query --format=csv 'SELECT * FROM {db}.{table}'")
        #expect(try command.arguments(table: "users", database: "testdb") == ["bq", "query", "--format=csv", "SELECT * FROM testdb.users"])
        for hostile in ["users; DROP TABLE x", "a'b", "a b", "", String(repeating: "x", count: 65), "naïve"] {
            #expect(throws: ExecCommand.Invalid.self, "\(hostile)") { try command.arguments(table: hostile, database: "testdb") }
        }
        #expect(throws: ExecCommand.Invalid.self) { try command.arguments(table: "users", database: "test db") }
    }

    @Test("the values of password, token and secret arguments are *** where the command is shown")
    func redaction() throws {
        let cases: [(String, String)] = [
            ("snowsql --password hunter2 -q 'select * from {table}'", "snowsql --password *** -q 'select * from {table}'"),
            ("tool --api-token=abc {table}", "tool --api-token=*** {table}"),
            ("tool -o client_secret=abc -o user=me {table}", "tool -o client_secret=*** -o user=me {table}"),
            ("sh -c 'psql --csv \"password=pw host=h\" -c \"select * from {table}\"'",
             #"sh -c 'psql --csv '\''password=*** host=h'\'' -c '\''select * from {table}'\'''"#),
            ("psql --csv -c 'SELECT * FROM {table}'", "psql --csv -c 'SELECT * FROM {table}'"),
        ]
        for (given, shown) in cases {
            let command = try ExecCommand(parsing: given)
            #expect(command.redacted == shown)
            for secret in ["hunter2", "abc", "=pw "] where given.contains(secret) {
                #expect(!command.redacted.contains(secret))
            }
        }
    }

    @Test("each CLI's dialect from its program's name, inside sh -c too")
    func dialects() throws {
        let cases: [(String, ExecCommand.Dialect)] = [
            ("duckdb -csv f -c 'select * from {table}'", .duckdb),
            ("/opt/venv/bin/duckdb -csv f -c {table}", .duckdb),
            ("psql --csv -c 'select * from {table}'", .psql),
            ("bq query --format=csv {table}", .bigquery),
            ("snowsql -o output_format=csv -q {table}", .snowsql),
            ("sh -c 'psql --csv -c \"select * from {table}\"'", .psql),
            ("cat {table}.csv", .generic),
        ]
        for (given, dialect) in cases { #expect(try ExecCommand(parsing: given).dialect == dialect, "\(given)") }
        #expect(ExecCommand.Dialect.duckdb.nullText == "NULL" && ExecCommand.Dialect.psql.nullText == nil)
    }
}
