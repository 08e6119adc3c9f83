import Foundation
import MariaDB
import Testing
import Verification

@Suite("verify while the source keeps changing: a consistent snapshot, differing keys re-checked", .tags(.integration, .slow))
struct VerifyChangingSourceTests {
    /// The destination is kept equal to the source at every commit by a trigger, while generate-data
    /// writes: every difference verify sees comes from reading the two sides at different instants,
    /// so it must resolve on the re-check. A large table compared first widens that gap.
    @Test("a destination equal at every commit is a match, and the rows written meanwhile are counted as rechecked")
    func rechecksDifferencesFromConcurrentWrites() throws {
        let source = SourceFixture.shared
        let connection = try source.connect()
        defer { connection.close() }
        let big = SourceFixture.table("big"), live = SourceFixture.table("live")
        try connection.execute("CREATE DATABASE IF NOT EXISTS verify_dest")
        var run = try Run.toolkit(["generate-data", "--table", big, "--count", "60000"], environment: source.environment)
        #expect(run.status == 0, "\(run.stderr)")
        run = try Run.toolkit(["generate-data", "--table", live, "--count", "10"], environment: source.environment)
        #expect(run.status == 0, "\(run.stderr)")
        try connection.execute("CREATE TABLE verify_dest.\(big) AS SELECT * FROM testdb.\(big)")
        try connection.execute("CREATE TABLE verify_dest.\(live) AS SELECT * FROM testdb.\(live)")
        try connection.execute("""
            CREATE TRIGGER testdb.\(live)_copy AFTER INSERT ON testdb.\(live) FOR EACH ROW
              INSERT INTO verify_dest.\(live) VALUES (NEW.id, NEW.name, NEW.email, NEW.status, NEW.created_at, NEW.updated_at)
            """)
        let writer = try Background(Run.toolkitPath, ["generate-data", "--table", live, "--count", "20", "--interval", "0.1",
                                                      "--batches", "600"], environment: source.environment)
        defer { writer.signal(SIGINT); _ = writer.waitFor(seconds: 10) }

        var environment = source.environment
        environment["TOOLKIT_DEST_PASSWORD"] = "rootpassword"
        var rechecked = 0
        for _ in 0..<10 where rechecked == 0 {
            let verify = try Run.toolkit(["verify", "--destination", "mysql://root@127.0.0.1:\(source.port)/verify_dest",
                                          "--table", big, "--table", live, "--json"], environment: environment)
            let report = try JSONDecoder().decode(VerifyReport.self, from: Data(verify.stdout.utf8))
            #expect(verify.status == 0 && report.verdict == .match, "\(verify.stdout) \(verify.stderr)")
            let table = try #require(report.tables.first { $0.table == live })
            #expect(table.sourceRows == table.matched && table.destinationRows == table.matched)
            rechecked = table.rechecked
        }
        #expect(rechecked > 0, "ten runs while rows were written, and no difference needed a re-check")
        #expect(writer.isRunning, "the writer stopped early: \(writer.text)")
    }
}
