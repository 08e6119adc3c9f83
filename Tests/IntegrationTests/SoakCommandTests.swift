import Foundation
import Testing

/// `toolkit soak` as a user runs it: the schedule printed by `--dry-run`, replayed from its JSON,
/// and input refused with one line and exit 2. No server is needed: nothing runs yet.
@Suite("The toolkit binary: soak --dry-run and --replay", .tags(.endToEnd))
struct SoakCommandTests {
    let environment = ProcessInfo.processInfo.environment

    private func scratch(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("soak-\(getpid())-\(UUID().uuidString)-\(name)")
    }

    @Test func dryRunJSONReplaysIdentically() throws {
        let arguments = ["soak", "--pipeline", "replica", "--duration", "2h", "--seed", "17",
                         "--faults", "reject,latency,bandwidth,flap,kill-connections", "--dry-run"]
        let json = try Run.toolkit(arguments + ["--json"], environment: environment)
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stderr.isEmpty)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["version"] as? Int == 1)
        #expect((object["options"] as? [String: Any])?["seed"] as? Int == 17)
        #expect(((object["faults"] as? [Any])?.count ?? 0) > 20)
        #expect(object["checkpoints"] as? [Int] == [600, 1200, 1800, 2400, 3000, 3600, 4200, 4800, 5400, 6000, 6600])

        let again = try Run.toolkit(arguments + ["--json"], environment: environment)
        #expect(again.stdout == json.stdout)

        let file = scratch("schedule.json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(json.stdout.utf8).write(to: file)
        let replayed = try Run.toolkit(["soak", "--replay", file.path, "--dry-run", "--json"], environment: environment)
        #expect(replayed.status == 0, "\(replayed.stderr)")
        #expect(replayed.stdout == json.stdout)

        let text = try Run.toolkit(arguments, environment: environment)
        let replayedText = try Run.toolkit(["soak", "--replay", file.path, "--dry-run"], environment: environment)
        #expect(text.status == 0 && replayedText.status == 0)
        #expect(replayedText.stdout == text.stdout)
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("soak schedule v1: seed 17, duration 2h,") == true)
        #expect(lines.contains("  0:10:00  checkpoint"))
        #expect(lines.contains("  2:00:00  end"))
        #expect(lines.last?.hasPrefix("totals: ") == true)
        #expect(lines.contains { $0.contains("kill-connections") && $0.hasSuffix("instant") })
    }

    @Test func withoutASeedTheDrawnSeedIsInTheSchedule() throws {
        let run = try Run.toolkit(["soak", "--duration", "30m", "--dry-run", "--json"], environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect((object["options"] as? [String: Any])?["seed"] is NSNumber)
    }

    struct Refusal: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        var line: String
        init(_ arguments: [String], _ line: String) { self.arguments = arguments; self.line = line }
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let refusals: [Refusal] = [
        Refusal(["--duration", "2h"],
                "soak needs the pipeline under test: --pipeline replica (the toolkit's own) or --destination URL (yours); --dry-run only prints the schedule"),
        Refusal(["--duration", "2h", "--dry-run", "--detach"], "--detach runs a soak: it does not go with --dry-run"),
        Refusal(["--status", "--seed", "3"], "--status goes alone (with --home, --json), got --seed"),
        Refusal(["--stop", "--status"], "--status goes alone (with --home, --json), got --stop"),
        Refusal(["--duration", "2h", "--pipeline", "replica", "--catch-up-within", "2h"], "--catch-up-within must be from 1s to 1h, got '2h'"),
        Refusal(["--dry-run"], "--duration is required: how long the soak lasts, like 90, 90s, 30m, 2h or 1h30m"),
        Refusal(["--duration", "2x", "--dry-run"], "--duration must be a length like 90, 90s, 30m, 2h or 1h30m, got '2x'"),
        Refusal(["--duration", "31d", "--dry-run"], "--duration must be from 1s to 30d, got '31d'"),
        Refusal(["--duration", "1h", "--faults", "reject,nope", "--dry-run"],
                "--faults must be a comma-separated list of reject, timeout, flap, service, crash, reset, latency, bandwidth, kill-connections, got 'nope'"),
        Refusal(["--duration", "1h", "--fault-length", "60s..5s", "--dry-run"], "--fault-length must have MIN at most MAX, got '60s..5s'"),
        Refusal(["--duration", "1h", "--gap", "10s", "--dry-run"], "--gap must be a range MIN..MAX of lengths like 5s..60s, got '10s'"),
        Refusal(["--duration", "1h", "--checkpoint-every", "1m", "--dry-run"],
                "--checkpoint-every must be at least the longest gap, the longest fault and the shortest gap together (3m10s with --gap 10s..2m --fault-length 5s..1m), got '1m'"),
        Refusal(["--duration", "1h", "--pipeline", "other", "--dry-run"], "--pipeline must be replica, got 'other'"),
        Refusal(["--replay", "/nonexistent/schedule.json", "--dry-run"],
                "--replay must name a readable schedule file (the output of soak --dry-run --json), got '/nonexistent/schedule.json'"),
        Refusal(["--duration", "1h", "--etl-log", "/tmp", "--dry-run"], "--etl-log must name a readable regular file, got '/tmp': it is a directory"),
        Refusal(["--duration", "1h", "--pipeline", "replica", "--destination", "jsonl:/tmp/x", "--dry-run"],
                "--pipeline replica and --destination go one at a time: the replica is its own destination"),
        Refusal(["--replay", "/dev/null", "--seed", "3", "--dry-run"], "--seed does not go with --replay: the replayed schedule carries its own options"),
    ]

    @Test(arguments: refusals)
    func refused(_ refusal: Refusal) throws {
        let run = try Run.toolkit(["soak"] + refusal.arguments, environment: environment)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr == "toolkit: \(refusal.line)\n")
        #expect(run.stdout.isEmpty)
    }

    @Test func replayRefusesAnotherVersionAndABrokenSchedule() throws {
        let made = try Run.toolkit(["soak", "--duration", "1h", "--seed", "4", "--dry-run", "--json"], environment: environment)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any])
        let file = scratch("edited.json")
        defer { try? FileManager.default.removeItem(at: file) }

        object["version"] = 2
        try JSONSerialization.data(withJSONObject: object).write(to: file)
        var run = try Run.toolkit(["soak", "--replay", file.path, "--dry-run"], environment: environment)
        #expect(run.status == 2)
        #expect(run.stderr == "toolkit: --replay reads schedules of version 1, got version 2 in '\(file.path)'\n")

        object["version"] = 1
        var faults = try #require(object["faults"] as? [[String: Any]])
        faults[0]["length_seconds"] = 9_999
        object["faults"] = faults
        try JSONSerialization.data(withJSONObject: object).write(to: file)
        run = try Run.toolkit(["soak", "--replay", file.path, "--dry-run"], environment: environment)
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("toolkit: --replay schedule '\(file.path)' breaks the schedule's guarantees: fault 1 "))
        #expect(run.stderr.split(separator: "\n").count == 1)

        try Data("{\"version\": 1}".utf8).write(to: file)
        run = try Run.toolkit(["soak", "--replay", file.path, "--dry-run"], environment: environment)
        #expect(run.status == 2)
        #expect(run.stderr == "toolkit: --replay must name a schedule JSON (the output of soak --dry-run --json), got '\(file.path)': no field 'options'\n")
    }
}
