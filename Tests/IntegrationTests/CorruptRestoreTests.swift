import Foundation
import MariaDB
import Testing

@Suite("corrupt and restore: a real reader fails, then reads the restored file", .tags(.integration, .endToEnd), .serialized)
struct CorruptRestoreTests {
    static let fixture: SourceFixture? = try? SourceFixture(name: "corrupt")

    func dataPath(_ fixture: SourceFixture, _ name: String) -> String {
        fixture.state.dataDirectory.appendingPathComponent(name).path
    }

    @Test("magic-number and truncate on a rotated binlog: mysqlbinlog fails; after restore it reads, with the same SHA-256",
          arguments: ["magic-number", "truncate"])
    func corruptThenRestore(type: String) throws {
        let fixture = try #require(Self.fixture)
        _ = try Run.toolkit(["generate-data", "--count", "200"], environment: fixture.environment)
        let closed = try fixture.currentBinlog()
        let path = dataPath(fixture, closed)
        let run = try Run.toolkit(["corrupt", "--type", type, "--rotate", "--json"], environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        let result = fixture.json(run)
        #expect(result["file"] as? String == closed)
        let backup = try #require(result["backup"] as? [String: Any])
        let original = try #require(backup["sha256"] as? String)
        #expect(try LocalBinlog.sha256(path) != original)
        if type == "magic-number" {
            #expect((result["changes"] as? [[String: Any]])?.first?["old"] as? String == "fe")
        } else {
            #expect((result["new_size"] as? Int ?? 0) < (result["old_size"] as? Int ?? 0))
        }

        let broken = try LocalBinlog.read(path)
        #expect(broken.status != 0 || broken.stderr.localizedCaseInsensitiveContains("error"), "mysqlbinlog read the corrupted file cleanly")

        let restore = try Run.toolkit(["restore", "--file", closed, "--flush", "--json"], environment: fixture.environment)
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try LocalBinlog.sha256(path) == original)
        let clean = try LocalBinlog.read(path)
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(clean.stderr.isEmpty, "\(clean.stderr)")
        var info = stat()
        #expect(lstat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o660)
        var neighbour = stat()
        #expect(lstat(dataPath(fixture, try fixture.currentBinlog()), &neighbour) == 0)
        #expect(info.st_uid == neighbour.st_uid && info.st_gid == neighbour.st_gid)
        let list = try Run.toolkit(["restore", "--list", "--json"], environment: fixture.environment)
        #expect(list.stdout.contains(closed))
    }

    @Test("random-bytes changes exactly the reported bytes")
    func randomBytesReported() throws {
        let fixture = try #require(Self.fixture)
        _ = try Run.toolkit(["generate-data", "--count", "50"], environment: fixture.environment)
        let closed = try fixture.currentBinlog()
        let path = dataPath(fixture, closed)
        // Rotate first: closing a file clears its in-use flag (a byte of the header).
        let admin = try fixture.connect()
        try admin.execute("FLUSH BINARY LOGS")
        admin.close()
        let before = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let run = try Run.toolkit(["corrupt", "--type", "random-bytes", "--count", "5", "--file", closed, "--json"], environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        let after = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let changes = fixture.json(run)["changes"] as? [[String: Any]] ?? []
        #expect(changes.count == 5)
        let differing = Set(before.indices.filter { before[$0] != after[$0] })
        #expect(differing == Set(changes.compactMap { $0["offset"] as? Int }))
        #expect(try Run.toolkit(["restore", "--all"], environment: fixture.environment).status == 0)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == before)
    }

    @Test("by default the current binlog: truncated under the running server, restored with --flush, and the server writes on")
    func currentFile() throws {
        let fixture = try #require(Self.fixture)
        _ = try Run.toolkit(["generate-data", "--count", "100"], environment: fixture.environment)
        let current = try fixture.currentBinlog()
        let run = try Run.toolkit(["corrupt", "--type", "truncate", "--percentage", "30", "--json"], environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        let result = fixture.json(run)
        #expect(result["file"] as? String == current)
        #expect(result["current"] as? Bool == true)
        let oldSize = result["old_size"] as? Int ?? 0
        #expect(result["new_size"] as? Int == oldSize - oldSize * 30 / 100)
        // A second corruption before a restore keeps the first, pristine backup.
        let again = try Run.toolkit(["corrupt", "--type", "magic-number", "--json"], environment: fixture.environment)
        #expect(again.status == 0, "\(again.stderr)")
        #expect((fixture.json(again)["backup"] as? [String: Any])?["sha256"] as? String
                == (result["backup"] as? [String: Any])?["sha256"] as? String)

        let restore = try Run.toolkit(["restore", "--file", current, "--flush"], environment: fixture.environment)
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stdout.contains("FLUSH BINARY LOGS"))
        #expect(try fixture.currentBinlog() != current)
        let more = try Run.toolkit(["generate-data", "--count", "10"], environment: fixture.environment)
        #expect(more.status == 0, "\(more.stderr)")
        #expect(try LocalBinlog.read(dataPath(fixture, try fixture.currentBinlog())).status == 0)
    }

    @Test("--file outside the binlog directory is refused with exit 2 and nothing changes")
    func refusals() throws {
        let fixture = try #require(Self.fixture)
        let passwd = try LocalBinlog.sha256("/etc/passwd")
        for file in ["../../etc/passwd", "/etc/passwd", "..", "mysql-bin.999999"] {
            let run = try Run.toolkit(["corrupt", "--type", "truncate", "--file", file], environment: fixture.environment)
            #expect(run.status == 2, "\(file): \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1)
        }
        #expect(try LocalBinlog.sha256("/etc/passwd") == passwd)

        // A binlog the server lists that is a symlink pointing outside the data directory.
        _ = try Run.toolkit(["replicate", "--scenario", "disconnect"], environment: fixture.environment)  // rotates
        let files = try fixture.binlogFiles()
        let victim = files[files.count - 2]
        let victimPath = dataPath(fixture, victim)
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: victimPath, toPath: outside)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let outsideSum = try LocalBinlog.sha256(outside)
        try FileManager.default.moveItem(atPath: victimPath, toPath: victimPath + ".moved")
        try FileManager.default.createSymbolicLink(atPath: victimPath, withDestinationPath: outside)
        defer {
            try? FileManager.default.removeItem(atPath: victimPath)
            try? FileManager.default.moveItem(atPath: victimPath + ".moved", toPath: victimPath)
        }
        let run = try Run.toolkit(["corrupt", "--type", "magic-number", "--file", victim], environment: fixture.environment)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("outside"))
        #expect(try LocalBinlog.sha256(outside) == outsideSum)

        // restore does not write through a symlink either, even one whose target does not exist.
        let dangling = outside + ".absent"
        try FileManager.default.removeItem(atPath: victimPath)
        try FileManager.default.createSymbolicLink(atPath: victimPath, withDestinationPath: dangling)
        let manifestDirectory = fixture.state.backupDirectory
        let manifestFile = manifestDirectory.appendingPathComponent("manifest.json")
        let savedManifest = try? Data(contentsOf: manifestFile)
        defer {
            if let savedManifest { try? savedManifest.write(to: manifestFile) } else { try? FileManager.default.removeItem(at: manifestFile) }
        }
        let backupName = "test-\(UUID().uuidString).bak"
        try FileManager.default.createDirectory(at: manifestDirectory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: outside, toPath: manifestDirectory.appendingPathComponent(backupName).path)
        let entry: [String: Any] = ["name": victim, "backup_file": backupName, "size": 1, "sha256": outsideSum,
                                    "taken_at": "2026-01-01T00:00:00Z", "mode": 0o660, "uid": 0, "gid": 0]
        try JSONSerialization.data(withJSONObject: ["backups": [entry]]).write(to: manifestFile)
        let restore = try Run.toolkit(["restore", "--file", victim], environment: fixture.environment)
        #expect(restore.status == 2, "\(restore.stdout) \(restore.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dangling))
    }

    @Test("A backup that does not fit (a full disk) fails corrupt, leaves no file behind and the binlog as it was",
          .enabled(if: geteuid() == 0, "mounting a small tmpfs needs root"))
    func fullDiskLeavesNoBackup() throws {
        let fixture = try #require(Self.fixture)
        _ = try Run.toolkit(["generate-data", "--count", "300"], environment: fixture.environment)
        let path = dataPath(fixture, try fixture.currentBinlog())
        var info = stat()
        #expect(lstat(path, &info) == 0 && info.st_size > 32 * 1024, "the binlog must not fit in the 16 KiB tmpfs")
        let before = try LocalBinlog.sha256(path)
        let backups = fixture.state.backupDirectory
        try FileManager.default.createDirectory(at: backups, withIntermediateDirectories: true)
        let tmpfs = try ScratchTmpfs(at: backups, size: "16k")
        defer { tmpfs.unmount() }

        let run = try Run.toolkit(["corrupt", "--type", "truncate"], environment: fixture.environment)
        #expect(run.status == 1, "\(run.stdout) \(run.stderr)")
        #expect(run.stderr.contains("No space left"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1)
        let left = try FileManager.default.contentsOfDirectory(atPath: backups.path)
        #expect(!left.contains { $0.hasSuffix(".bak") }, "a failed backup left \(left)")
        #expect(try LocalBinlog.sha256(path) == before, "the binlog was corrupted without a backup")
    }

    @Test("against a server the toolkit does not manage, corrupt says so in one line and exits 1")
    func notManaged() throws {
        let fixture = try #require(Self.fixture)
        var env = fixture.environment
        env["MYSQL_HOST"] = "127.0.0.1"
        env["MYSQL_PORT"] = String(fixture.port)
        env["MYSQL_PWD"] = "rootpassword"
        let run = try Run.toolkit(["corrupt", "--type", "truncate"], environment: env)
        #expect(run.status == 1)
        #expect(run.stderr.contains("not a source"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }
}
