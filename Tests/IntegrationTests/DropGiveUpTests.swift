import Foundation
import Measurements
import Testing

/// A real client that gives up on its connects under the iptables `timeout` (DROP): it sends
/// nothing when it abandons one, so the toolkit reports a bound, never a wrong exact time. The
/// client says when it gave up; that moment must lie inside the bound for every abandoned attempt.
@Suite("DROP: a client's silent giving up is reported as a bound that holds its own time", .tags(.integration, .slow), .serialized,
       .enabled(if: NamespacePair.capable == nil, Comment(rawValue: NamespacePair.capable ?? "")))
struct DropGiveUpTests {
    /// PyMySQL, `connect_timeout=4`, one attempt after another with 1 s between them. It prints
    /// one JSON line per attempt with its own times (seconds since 1970) and logs each failure
    /// through Python's logging, default time format, to stderr.
    static let script = """
        import json, logging, os, sys, time, pymysql
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        for attempt in range(int(sys.argv[3])):
            started = time.time()
            try:
                pymysql.connect(host=sys.argv[1], port=int(sys.argv[2]), user="hevo",
                                password=os.environ["TOOLKIT_TEST_PASSWORD"], database="testdb", connect_timeout=4).close()
                print(json.dumps({"started": started, "connected": time.time()}), flush=True)
                break
            except pymysql.err.OperationalError as error:
                gave_up = time.time()
                logging.error("connect failed: %s", error)
                print(json.dumps({"started": started, "gave_up": gave_up, "error": str(error)}), flush=True)
            time.sleep(1)
        """

    struct Attempt: Decodable {
        var started: Double
        var gave_up: Double?
        var error: String?
    }

    @Test("PyMySQL connect_timeout=4: each abandoned attempt's bound holds its own give-up time; intervals from first SYNs")
    func pymysqlGiveUpsLieInsideTheBounds() throws {
        #expect(FileManager.default.isExecutableFile(atPath: ObservedClientsTests.pymysql), "run scripts/test-deps: \(ObservedClientsTests.pymysql) is missing")
        let source = try NamespacedSource(letter: "d", network: 219)
        defer { source.tearDown() }
        try source.toolkit(["network", "--down", "--type", "timeout"])
        var environment = ProcessInfo.processInfo.environment
        environment["TOOLKIT_TEST_PASSWORD"] = "hevopassword"
        let run = try source.namespaces.exec(source.namespaces.client, ObservedClientsTests.pymysql,
                                             ["-c", Self.script, source.namespaces.serverAddress, String(source.port), "3"],
                                             environment: environment, timeout: 60)
        try source.toolkit(["network", "--up"])
        #expect(run.status == 0, "\(run.stderr)")
        let own = run.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(Attempt.self, from: Data($0.utf8)) }
        try #require(own.count == 3 && own.allSatisfy { $0.gave_up != nil }, "every connect timed out: \(run.stdout) \(run.stderr)")
        for attempt in own {
            #expect(attempt.error?.contains("timed out") == true, "\(attempt.error ?? "")")
            #expect(attempt.gave_up! - attempt.started > 3.5, "PyMySQL waited out its 4 s connect_timeout")
        }

        let window = try source.lastWindow()
        #expect(window.fault.type == .timeout && window.fault.backend == .iptables)
        let attempts = window.attempts.attempts
        #expect(attempts.count == 3, "\(attempts)")
        // Each attempt starts at its first SYN: exact, whatever came after.
        for (attempt, client) in zip(attempts, own) {
            #expect(attempt.kind == .dropped)
            #expect(abs(window.started + attempt.after - client.started) < 0.1, "first SYN \(attempt.after) vs connect at \(client.started - window.started)")
        }
        #expect(window.attempts.intervals.count == 2)
        for (interval, pair) in zip(window.attempts.intervals, zip(own, own.dropFirst())) {
            #expect(abs(interval - (pair.1.started - pair.0.started)) < 0.1, "interval \(interval)")
        }
        #expect(window.attempts.pattern == .fixed)

        // Attempts 1 and 2 were abandoned and followed by another: each has a bound holding
        // PyMySQL's own time, from its last SYN retransmission (about 3 s in) to its next attempt.
        var figures: [String] = []
        for (index, (attempt, client)) in zip(attempts, own).prefix(2).enumerated() {
            #expect(attempt.outcome == .gaveUp)
            let earliest = try #require(attempt.gaveUpEarliest, "attempt \(index + 1) has no bound: \(attempt)")
            let latest = try #require(attempt.gaveUpLatest)
            let gaveUp = client.gave_up! - window.started
            figures.append(String(format: "attempt %d: bound %.3f–%.3f s, PyMySQL gave up at %.3f s", index + 1, earliest, latest, gaveUp))
            #expect(earliest <= gaveUp && gaveUp <= latest, "\(figures.last!)")
            #expect(earliest >= attempt.after + 2.5, "the bound starts at the last retransmission, not the first SYN: \(figures.last!)")
            #expect(latest - earliest < 3, "\(figures.last!)")
        }
        print(figures.joined(separator: "\n"))
        // The detection is the first bound, in the JSON and in words.
        let detection = try #require(window.detection)
        #expect(detection.event == .clientGaveUp)
        #expect(detection.isBounded)
        #expect(detection.earliest == attempts[0].gaveUpEarliest && detection.latest == attempts[0].gaveUpLatest)
        #expect(detection.after == detection.latest)
        #expect(detection.bound?.hasPrefix("after its last SYN retransmission; its next attempt came at") == true, "\(detection)")
        let text = try source.toolkit(["network", "--status"]).stdout
        #expect(text.contains("gave up between"), "\(text)")
        #expect(try source.events().contains { $0.kind == .clientGaveUp && $0.lastSeen != nil })

        // Its own log (Python logging's default stamp, local time) dates the first give-up inside that bound.
        let dated = try #require(window.datingDetection(byLog: run.stderr.split(separator: "\n").map(String.init),
                                                        source: "etl log pymysql", timeZone: .current).detection)
        let logLine = try #require(dated.logLine, "no log line inside the bound: \(run.stderr)")
        #expect(logLine.contains("connect failed"))
        #expect(abs(dated.after - (own[0].gave_up! - window.started)) < 0.01, "log \(dated.after) vs own \(own[0].gave_up! - window.started)")
        #expect(dated.earliest! >= detection.earliest! && dated.latest! <= detection.latest!)
    }
}
