import Foundation
import Infrastructure
import Verification

/// `--destination 'exec:COMMAND'`: each table read by running the command with `{table}` and `{db}`
/// replaced (no shell), and its stdout read as a `csv:` file is, in the CLI's own dialect (NULL and
/// binary as its vendor prints them). Each call is bounded in time and output.
public final class ExecTables: TableSource {
    public let command: ExecCommand
    public let timeout: Duration
    public let outputLimit: Int
    private let executable: String
    private let environment: [String: String]
    private var database = ""
    private var sourceTables: [String] = []
    /// The last output of each table, and when it was read: a table is not read again sooner than
    /// `recheckInterval` (the re-check of differing keys reuses it; a warehouse query costs).
    private var lastRead: [String: (at: ContinuousClock.Instant, records: FileTables.Records)] = [:]

    /// 4 GiB: a table bigger than that is read with `--method` other than rows (or split with `--table`).
    public static let defaultOutputLimit = 4 << 30
    /// `verify --wait` runs the command again at most this often.
    public static let recheckInterval: Duration = .seconds(10)

    /// `executable`: the program, resolved (`resolve`); `environment`: the child's (passwords go there, never in argv).
    public init(command: ExecCommand, executable: String, timeout: Duration, outputLimit: Int = defaultOutputLimit,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.command = command
        self.executable = executable
        self.timeout = timeout
        self.outputLimit = outputLimit
        self.environment = environment
    }

    /// The program's path: as written when it names a path, else the first on PATH; nil when there is none.
    public static func resolve(_ command: ExecCommand) -> String? {
        if command.program.contains("/") {
            return access(command.program, X_OK) == 0 ? command.program : nil
        }
        return ChildProcess.find([command.program])
    }

    /// The source's tables: a CLI cannot be asked which tables there are, so each is asked for.
    public func bind(sourceTables: [String], database: String) {
        self.sourceTables = sourceTables
        self.database = database
    }

    public func tableNames() throws -> [String] { sourceTables }

    public func columns(of table: String) throws -> [DeclaredColumn] {
        try records(of: table).columns.map { DeclaredColumn(name: $0, dataType: "csv", kind: .text) }
    }

    public func forEachRow(of table: String, columns: [DeclaredColumn], _ body: ([String?]) throws -> Void) throws {
        try records(of: table).forEachRow(columns, body)
    }

    public func rows(of table: String, columns: [DeclaredColumn], keyColumn: DeclaredColumn, in keys: [Int64]) throws -> [[String?]]? {
        nil
    }

    public func format(of column: DeclaredColumn) -> ValueFormat {
        ValueFormat(binary: command.dialect.binary, instantDigits: nil)
    }

    public var recheckInterval: Duration { Self.recheckInterval }

    private func records(of table: String) throws -> FileTables.Records {
        let clock = ContinuousClock()
        if let last = lastRead[table], clock.now < last.at.advanced(by: recheckInterval) { return last.records }
        let started = clock.now
        let records = try read(table)
        lastRead[table] = (started, records)
        return records
    }

    /// One run of the command for `table`, its CSV parsed.
    private func read(_ table: String) throws -> FileTables.Records {
        let arguments: [String]
        do {
            arguments = try command.arguments(table: table, database: database)
        } catch {
            throw ReadError("table \(table): exec: \(error.description)")
        }
        let shown = "exec:" + command.redacted
        let captured: ChildProcess.CapturedBytes
        do {
            captured = try ChildProcess.captureBytes(executable, Array(arguments.dropFirst()), environment: environment,
                                                     timeout: timeout, outputLimit: outputLimit)
        } catch {
            throw ReadError("table \(table): \(shown): \(error)")
        }
        if captured.timedOut {
            throw ReadError("table \(table): \(shown) did not finish within \(Self.seconds(timeout)) (--exec-timeout); it was killed")
        }
        if captured.overLimit {
            throw ReadError("table \(table): \(shown) printed more than \(outputLimit >> 20) MiB; it was killed")
        }
        guard captured.status == 0 else {
            let why = Self.lastErrorLine(captured.stderr).map { ": \($0)" } ?? " (nothing on stderr)"
            throw ReadError("table \(table): \(shown) exited \(captured.status)\(why)")
        }
        var records = FileTables.Records()
        try CSVFile.read(Data(captured.stdout), file: "table \(table): the output of \(shown)", nullText: command.dialect.nullText,
                         into: &records)
        guard !records.columns.isEmpty else {
            throw ReadError("table \(table): \(shown) printed nothing: it must print the table as CSV with a header")
        }
        return records
    }

    /// The line of stderr that says what went wrong: the last naming an error, else the last with a
    /// word in it (DuckDB and psql end with the statement and a caret under it).
    static func lastErrorLine(_ stderr: [UInt8]) -> String? {
        let lines = String(decoding: stderr, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let line = lines.last { $0.lowercased().contains("error") } ?? lines.last { $0.contains { $0.isLetter } }
        return line.map { $0.count > 300 ? String($0.prefix(300)) + "…" : $0 }
    }

    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%g s", value)
    }
}
