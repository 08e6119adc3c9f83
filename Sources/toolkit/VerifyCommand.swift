import ArgumentParser
import Destinations
import Flavor
import Foundation
import Infrastructure
import MariaDB
import Source
import Verification

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove the destination equals the source: lost, extra, duplicated and changed rows, per table.",
        discussion: """
        DESTINATION is postgres://USER@HOST:PORT/DB[?schema=S] (password from PGPASSWORD or ~/.pgpass), \
        mysql://USER@HOST:PORT/DB (password from TOOLKIT_DEST_PASSWORD), jsonl:PATH or csv:PATH (a file per \
        table, or PATH itself with one --table), or 'exec:COMMAND' (a warehouse's CLI, run without a shell for \
        every table with {table} and {db} replaced, printing it as CSV with a header). The ETL tool's metadata columns are left out and its soft \
        deletes honoured (--profile). Exit 0 on a match, 1 on differences or an error, 2 on bad input.
        """)

    @Option(help: "Where the ETL tool wrote: postgres://…, mysql://…, jsonl:PATH, csv:PATH or 'exec:COMMAND … {table} …'.")
    var destination: String

    @Option(name: .customLong("exec-timeout"), parsing: .unconditional,
            help: "An exec: destination's command is killed after this many seconds, per table (1 to 86400).")
    var execTimeout: Double = 300

    @Option(name: .customLong("table"), help: "A table to compare (repeatable). Default: every source table.")
    var tables: [String] = []

    @Option(help: "The ETL tool's conventions: none, auto, hevo, fivetran, airbyte, debezium, singer.")
    var profile = "auto"

    @Option(help: "Key columns, comma-separated. Default: the source's primary key.")
    var key: String?

    @Option(help: "Columns to compare, comma-separated. Default: every column both sides have.")
    var columns: String?

    @Option(parsing: .unconditional, help: "Re-check until the destination matches or this many seconds pass (0 to 86400).")
    var wait: Double = 0

    @Flag(help: "Files hold a change log: fold lines by key, the last wins, a delete marker removes the key.")
    var changelog = false

    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func validate() throws {
        let address: DestinationAddress
        do {
            address = try DestinationAddress(parsing: destination)
        } catch {
            throw ValidationError(error.description)
        }
        guard Profile(rawValue: profile) != nil else {
            throw ValidationError("--profile must be one of \(Profile.allCases.map(\.rawValue).joined(separator: ", ")), got '\(profile)'")
        }
        for table in tables where !SQLText.isPlainIdentifier(table) {
            throw ValidationError("--table must be a plain table name (letters, digits, _ and $, at most 64), got '\(table)'")
        }
        for (flag, list) in [("--key", key), ("--columns", columns)] {
            guard let list else { continue }
            let names = Self.names(list)
            if names.isEmpty || !names.allSatisfy(SQLText.isPlainIdentifier) {
                throw ValidationError("\(flag) must be plain column names separated by commas, got '\(list)'")
            }
        }
        guard wait >= 0 && wait <= 86_400 else {
            throw ValidationError("--wait must be a number of seconds from 0 to 86400, got \(String(format: "%g", wait))")
        }
        guard execTimeout >= 1 && execTimeout <= 86_400 else {
            throw ValidationError("--exec-timeout must be a number of seconds from 1 to 86400, got \(String(format: "%g", execTimeout))")
        }
        if changelog, !address.isFile {
            throw ValidationError("--changelog applies to jsonl: and csv: destinations only")
        }
        switch address {
        case .jsonl(let path), .csv(let path):
            var directory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &directory)
            if exists && !directory.boolValue && tables.count != 1 {
                throw ValidationError("--destination \(destination) is one file: name its table with exactly one --table")
            }
            if !exists {
                throw ValidationError("--destination \(destination): no such file or directory")
            }
        case .exec(let command):
            if ExecTables.resolve(command) == nil {
                throw ValidationError("--destination exec: \(command.program) is not an executable program (nor on PATH)")
            }
        default: break
        }
    }

    static func names(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() throws {
        // Hundreds of thousands of small rows: let the heaps grow in large steps instead of one
        // system call per page (measured: a tenth of the run went to brk/mprotect).
        _ = glibcMallopt(-2 /* M_TOP_PAD */, 64 << 20)
        _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD */, 256 << 20)
        let started = Date()
        var request = VerifyRequest()
        request.tables = tables
        request.profile = Profile(rawValue: profile) ?? .auto
        request.key = key.map(Self.names)
        request.columns = columns.map(Self.names)
        request.changeLog = changelog
        let report: VerifyReport
        do {
            let target = try connection.target()
            let source = MySQLTables(options: target.admin, database: target.database)
            defer { source.close() }
            let destination = try DestinationAddress(parsing: self.destination)
                .open(mysqlPassword: ProcessInfo.processInfo.environment["TOOLKIT_DEST_PASSWORD"] ?? "",
                      execTimeout: .milliseconds(Int64(execTimeout * 1000)))
            let verifier = Verifier(source: source, destination: destination, request: request)
            report = try verifier.verify(wait: .milliseconds(Int64(wait * 1000)), progress: { pass in
                if pass.nothingReplicated { writeError("no table of the source at the destination yet") }
                for table in pass.tables where table.differences > 0 {
                    writeError("\(table.table): \(Self.grouped(table.missing + table.extra + table.duplicates)) behind, \(Self.grouped(table.changed)) changed")
                }
            })
        } catch let error as ReadError where error.isUsage {
            throw ToolkitError.usage("verify: \(error.description)")
        } catch {
            let message = (error as? ReadError)?.description ?? (error as? ToolkitError)?.message ?? "\(error)"
            let failed = VerifyReport(tables: [], notReplicatedTables: [], seconds: Date().timeIntervalSince(started), error: message)
            if output.json { output.emit(failed) }
            throw ToolkitError("verify: \(message)")
        }
        if let error = report.error {
            if output.json { output.emit(report) }
            throw ToolkitError("verify: \(error)")
        }
        output.emit(report)
        if report.verdict != .match { throw ExitCode(1) }
    }

    /// 1204 → "1,204".
    static func grouped(_ number: Int) -> String {
        let digits = Array(String(number))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }
}

/// glibc's `mallopt` (malloc.h is not part of Swift's Glibc module).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
