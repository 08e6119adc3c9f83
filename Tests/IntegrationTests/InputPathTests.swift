import Foundation
import Infrastructure
import Testing

/// Files and flags that are not what they seem are refused before anything runs: exit 2, one line
/// naming the flag and the value. Against a running source and agent, where a run would start.
@Suite("Paths and values that are not what they seem: --etl-log, --report, verify --columns/--wait, cases export",
       .tags(.integration, .endToEnd))
struct InputPathTests {
    let source = AgentFixture.sharedForChecks

    static func scratch(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-\(name)-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `toolkit run TC-004` against an external destination (a directory of no files): it would
    /// run (BLOCKED: no ETL client reads the binlog) were its input not refused first.
    func run(_ extra: [String], timeout: TimeInterval = 60) throws -> Run {
        let destination = try Self.scratch("run-destination")
        defer { try? FileManager.default.removeItem(at: destination) }
        return try Run.toolkit(["run", "TC-004", "--destination", "jsonl:\(destination.path)", "--duration", "1", "--yes"] + extra,
                               environment: source.environment, timeout: timeout)
    }

    func expectRefused(_ run: Run, naming flag: String, _ value: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == 2, "exit \(run.status): \(run.stderr)", sourceLocation: sourceLocation)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(flag) && lines[0].contains(value), "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stdout.isEmpty, "\(run.stdout)", sourceLocation: sourceLocation)
    }

    @Test("--etl-log on a FIFO, a device or a directory: refused at once, nothing run")
    func etlLogMustBeARegularFile() throws {
        let directory = try Self.scratch("etl-log")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("etl.fifo")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        let report = directory.appendingPathComponent("report")
        for path in [fifo.path, "/dev/zero", directory.path] {
            let started = Date()
            let refused = try run(["--etl-log", path, "--report", report.path], timeout: 30)
            expectRefused(refused, naming: "--etl-log", path)
            #expect(Date().timeIntervalSince(started) < 20)
            #expect(!FileManager.default.fileExists(atPath: report.path), "the run went ahead with --etl-log \(path)")
        }
    }

    @Test("--report on a file or a read-only directory: refused before the run, exit 2")
    func reportMustBeWritable() throws {
        let directory = try Self.scratch("report")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("report.txt")
        try "mine\n".write(to: file, atomically: true, encoding: .utf8)
        expectRefused(try run(["--report", file.path]), naming: "--report", file.path)
        #expect(try String(contentsOf: file, encoding: .utf8) == "mine\n")

        // A read-only file system, mounted in a mount namespace of the toolkit's own (the host sees nothing).
        let readOnly = directory.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: true)
        let destination = try Self.scratch("run-destination")
        defer { try? FileManager.default.removeItem(at: destination) }
        for report in [readOnly.path, readOnly.appendingPathComponent("new").path] {
            let script = "mount -t tmpfs -o ro,size=64k toolkit-ro \"$1\" && shift && exec \"$@\""
            let run = try Run.program("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", readOnly.path,
                                                           Run.toolkitPath, "run", "TC-004", "--destination", "jsonl:\(destination.path)",
                                                           "--duration", "1", "--yes", "--report", report],
                                      environment: source.environment, timeout: 60)
            expectRefused(run, naming: "--report", report)
        }
    }

    @Test("verify --columns or --key with a column the table lacks: exit 2 naming it, never a MATCH of the keys")
    func unknownColumnsAreBadInput() throws {
        var env = source.environment
        env["TOOLKIT_DEST_PASSWORD"] = "rootpassword"
        let itself = "mysql://root@127.0.0.1:\(source.serverPort)/testdb"
        let matching = try Run.toolkit(["verify", "--destination", itself, "--table", "users", "--columns", "name,email"], environment: env)
        #expect(matching.status == 0, "\(matching.stderr)")
        for (flag, list, name) in [("--columns", "nosuchcol", "nosuchcol"), ("--columns", "name,nosuchcol", "nosuchcol"), ("--key", "nosuchkey", "nosuchkey")] {
            let run = try Run.toolkit(["verify", "--destination", itself, "--table", "users", flag, list], environment: env)
            #expect(run.status == 2, "\(flag) \(list): exit \(run.status) \(run.stdout) \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1 && run.stderr.contains("\(flag) \(name)"), "\(run.stderr)")
            #expect(!run.stdout.contains("MATCH"))
        }
    }

    @Test("verify --wait -1: the range, not 'Missing value'")
    func negativeWaitNamesTheRange() throws {
        let run = try Run.toolkit(["verify", "--destination", "mysql://root@127.0.0.1:\(source.serverPort)/testdb", "--wait", "-1"],
                                  environment: source.environment)
        #expect(run.status == 2)
        #expect(run.stderr == "toolkit: --wait must be a number of seconds from 0 to 86400, got -1\n", "\(run.stderr)")
    }

    @Test("cases export: a new directory is written; an edited one needs --force; a file or '' is refused")
    func exportKeepsTheUsersFiles() throws {
        let directory = try Self.scratch("export")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases = directory.appendingPathComponent("cases")
        let first = try Run.toolkit(["cases", "export", cases.path, "--json"], environment: source.environment)
        #expect(first.status == 0, "\(first.stderr)")
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: cases.path).sorted().first)
        let edited = cases.appendingPathComponent(file)
        try "# my edits\n".write(to: edited, atomically: true, encoding: .utf8)

        let again = try Run.toolkit(["cases", "export", cases.path], environment: source.environment)
        expectRefused(again, naming: "--force", cases.path)
        #expect(try String(contentsOf: edited, encoding: .utf8) == "# my edits\n", "export overwrote an edited case")
        let forced = try Run.toolkit(["cases", "export", cases.path, "--force"], environment: source.environment)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try String(contentsOf: edited, encoding: .utf8) != "# my edits\n")

        expectRefused(try Run.toolkit(["cases", "export", edited.path], environment: source.environment), naming: "cases export", edited.path)
        // '' is no directory: nothing is written into the current one.
        let empty = try Self.scratch("export-cwd")
        defer { try? FileManager.default.removeItem(at: empty) }
        let run = try Run.program("/bin/sh", ["-c", "cd \"$1\" && exec \"$2\" cases export ''", "sh", empty.path, Run.toolkitPath],
                                  environment: source.environment)
        expectRefused(run, naming: "cases export", "''")
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty)
    }
}
