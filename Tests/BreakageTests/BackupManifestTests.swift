import Breakage
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
}
