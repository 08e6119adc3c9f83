@testable import Breakage
import Foundation
import Testing

@Suite("restore: which backup goes back")
struct BackupManifestTests {
    func backup(_ name: String, _ file: String, restored: Bool) -> BinlogBackup {
        BinlogBackup(name: name, backupFile: file, size: 10, sha256: String(repeating: "a", count: 64), takenAt: Date(timeIntervalSince1970: 0),
                     mode: 0o660, uid: 0, gid: 0, restoredAt: restored ? Date(timeIntervalSince1970: 1) : nil)
    }

    @Test("the oldest backup not yet restored is the pristine one; else the newest")
    func restorable() {
        let manifest = BinlogBackupManifest(backups: [
            backup("mysql-bin.000001", "a", restored: true),
            backup("mysql-bin.000001", "b", restored: false),
            backup("mysql-bin.000002", "c", restored: true),
            backup("mysql-bin.000002", "d", restored: true),
        ])
        #expect(manifest.restorable("mysql-bin.000001")?.backupFile == "b")
        #expect(manifest.restorable("mysql-bin.000002")?.backupFile == "d")
        #expect(manifest.restorable("mysql-bin.000003") == nil)
        #expect(manifest.pendingNames == ["mysql-bin.000001"])
    }

    @Test("the manifest round-trips through JSON on disk")
    func roundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = BinlogBackupManifest(backups: [backup("mysql-bin.000001", "x", restored: false)])
        try manifest.save(to: directory)
        #expect(try BinlogBackupManifest.load(from: directory).backups == manifest.backups)
        #expect(try BinlogBackupManifest.load(from: directory.appendingPathComponent("none")).backups.isEmpty)
    }

    @Test("the file the server writes is verified over the backup's length: what it appends after the copy does not fail the restore")
    func aPrefixDigest() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-digest-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let restored = directory.appendingPathComponent("restored").path, appended = directory.appendingPathComponent("appended").path
        let bytes = (0..<(3 << 20) + 17).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try Data(bytes).write(to: URL(fileURLWithPath: restored))
        try Data(bytes + Array("a new event".utf8)).write(to: URL(fileURLWithPath: appended))
        let whole = try FileBytes.sha256(restored)
        #expect(try FileBytes.sha256(appended) != whole)
        #expect(try FileBytes.sha256(appended, prefix: UInt64(bytes.count)) == whole)
        #expect(try FileBytes.sha256(restored, prefix: UInt64(bytes.count) + 100) == whole)
        try Data("abcdef".utf8).write(to: URL(fileURLWithPath: restored))
        #expect(try FileBytes.sha256(restored, prefix: 3) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
