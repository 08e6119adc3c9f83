import Foundation
import Infrastructure

/// The backups `corrupt` takes before touching a binlog file: `$TOOLKIT_HOME/backups/manifest.json`
/// lists each copy with the file's name, size, SHA-256, owner and mode, and when it was taken.
public struct BinlogBackup: Codable, Sendable, Hashable {
    public var name: String
    public var backupFile: String
    public var size: UInt64
    public var sha256: String
    public var takenAt: Date
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Set once `restore` copied it back; a backup not yet restored is the pristine copy.
    public var restoredAt: Date?

    public init(name: String, backupFile: String, size: UInt64, sha256: String, takenAt: Date, mode: UInt32, uid: UInt32, gid: UInt32,
                restoredAt: Date? = nil) {
        self.name = name
        self.backupFile = backupFile
        self.size = size
        self.sha256 = sha256
        self.takenAt = takenAt
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.restoredAt = restoredAt
    }

    enum CodingKeys: String, CodingKey {
        case name, size, sha256, mode, uid, gid
        case backupFile = "backup_file", takenAt = "taken_at", restoredAt = "restored_at"
    }
}

public struct BinlogBackupManifest: Codable, Sendable {
    public var backups: [BinlogBackup] = []

    public init(backups: [BinlogBackup] = []) { self.backups = backups }

    public static func file(in directory: URL) -> URL { directory.appendingPathComponent("manifest.json") }

    public static func load(from directory: URL) throws -> BinlogBackupManifest {
        let url = file(in: directory)
        guard FileManager.default.fileExists(atPath: url.path) else { return BinlogBackupManifest() }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(BinlogBackupManifest.self, from: Data(contentsOf: url))
        } catch {
            throw ToolkitError("cannot read the backup manifest \(url.path): \(error.localizedDescription)")
        }
    }

    public func save(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let url = Self.file(in: directory)
        let temporary = directory.appendingPathComponent(".manifest.json.tmp")
        try encoder.encode(self).write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            throw ToolkitError("cannot write \(url.path): \(String(cString: strerror(errno)))")
        }
    }

    /// The backup `restore` uses for `name`: the oldest one not yet restored (the file as it was
    /// before the first corruption since the last restore), else the newest.
    public func restorable(_ name: String) -> BinlogBackup? {
        let mine = backups.filter { $0.name == name }
        return mine.first { $0.restoredAt == nil } ?? mine.last
    }

    /// Names with a backup not yet restored, in the order they were taken.
    public var pendingNames: [String] {
        var seen: [String] = []
        for backup in backups where backup.restoredAt == nil && !seen.contains(backup.name) { seen.append(backup.name) }
        return seen
    }
}
