import Crypto
import Flavor
import Foundation
import Infrastructure
import MariaDB
import Source

/// The binlog files of a server whose files are on this machine, and the one rule for naming
/// them: a file the server lists, inside the server's data directory, after symlinks resolve.
public struct BinlogFiles: Sendable {
    public let dataDirectory: String
    public let binlogDirectory: String
    public let names: [String]
    public let current: String?

    /// Refuses (exit 1) a server that `toolkit up` does not manage here: its files are not local.
    public static func locate(_ target: Target, _ connection: MariaDBConnection, command: String) throws -> BinlogFiles {
        guard target.state != nil else {
            throw ToolkitError("\(command) works on binlog files on this machine; \(target.admin.endpoint) is not a source `toolkit up` manages here")
        }
        let (datadir, basename, names, current) = try doing("reading the server's binlog settings") {
            (try connection.globalVariable("datadir") ?? "", try connection.globalVariable("log_bin_basename") ?? "",
             try connection.binaryLogs().map(\.name), try connection.currentBinlogFile())
        }
        guard let data = realPath(datadir) else {
            throw ToolkitError("\(command): the server's data directory \(datadir) is not on this machine")
        }
        let base = basename.hasPrefix("/") ? basename : data + "/" + basename
        guard let directory = realPath((base as NSString).deletingLastPathComponent) else {
            throw ToolkitError("\(command): the server's binlog directory for \(basename) is not on this machine")
        }
        guard directory == data || directory.hasPrefix(data + "/") else {
            throw ToolkitError("\(command): the binlog directory \(directory) is outside the data directory \(data); refusing to touch it")
        }
        return BinlogFiles(dataDirectory: data, binlogDirectory: directory, names: names, current: current)
    }

    /// The resolved path of binlog `name`, or a usage error (exit 2, nothing touched).
    /// A usage error (exit 2) for anything but a plain binlog file name.
    public static func checkName(_ name: String) throws {
        guard BinlogFileName.isValid(name) else {
            throw ToolkitError.usage("--file must be the name of a binlog file in the server's binlog directory (no '/' or '..'), got '\(name)'")
        }
    }

    public func path(of name: String, mustExist: Bool = true) throws -> String {
        try Self.checkName(name)
        if mustExist {
            guard names.contains(name) else {
                throw ToolkitError.usage("--file \(name) is not one of the server's binlog files (\(names.joined(separator: ", ")))")
            }
        }
        let joined = binlogDirectory + "/" + name
        // Nothing at all there (lstat, so that a dangling symlink counts as something): a purged file to re-create.
        var entry = stat()
        if !mustExist && lstat(joined, &entry) != 0 && errno == ENOENT { return joined }
        guard let resolved = Self.realPath(joined), resolved.hasPrefix(dataDirectory + "/") else {
            throw ToolkitError.usage("--file \(name) resolves outside the server's data directory \(dataDirectory); refusing to touch it")
        }
        var info = stat()
        guard lstat(resolved, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw ToolkitError.usage("--file \(name) is not a regular file")
        }
        return resolved
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

enum FileBytes {
    /// The SHA-256 in hex of the file, or of its first `prefix` bytes, read in 1 MiB chunks; never through a symlink.
    static func sha256(_ path: String, prefix: UInt64? = nil) throws -> String {
        let input = open(path, O_RDONLY | O_NOFOLLOW)
        guard input >= 0 else { throw ToolkitError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var left = prefix ?? .max
        while left > 0 {
            let wanted = Int(min(UInt64(buffer.count), left))
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, wanted) }
            if count < 0 { throw ToolkitError("reading \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            left -= UInt64(count)
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    static func status(_ path: String) throws -> stat {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw ToolkitError("cannot stat \(path): \(String(cString: strerror(errno)))") }
        return info
    }

    /// Copies `source` over `destination` in place (same inode when it exists), then sets owner and mode.
    static func copy(_ source: String, to destination: String, mode: mode_t, uid: uid_t, gid: gid_t) throws {
        // The source may sit in a directory the server's account can write: never follow a link.
        let input = open(source, O_RDONLY | O_NOFOLLOW)
        guard input >= 0 else { throw ToolkitError("cannot open \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode)
        guard output >= 0 else { throw ToolkitError("cannot open \(destination): \(String(cString: strerror(errno)))") }
        defer { close(output) }
        // A copy that fails (a full disk) leaves nothing behind: no empty or partial file.
        do { try copyAll(from: input, source, to: output, destination) } catch {
            unlink(destination)
            throw error
        }
        if geteuid() == 0 { _ = fchown(output, uid, gid) }
        _ = fchmod(output, mode & 0o7777)
    }

    private static func copyAll(from input: Int32, _ source: String, to output: Int32, _ destination: String) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 { throw ToolkitError("reading \(source): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            var written = 0
            while written < count {
                let done = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, count - written) }
                if done < 0 { throw ToolkitError("writing \(destination): \(String(cString: strerror(errno)))") }
                written += done
            }
        }
        guard fsync(output) == 0 else { throw ToolkitError("fsync \(destination): \(String(cString: strerror(errno)))") }
    }
}

public struct BinlogCorruption {
    public struct Change: Codable, Sendable {
        public var offset: UInt64
        public var old: String
        public var new: String
    }

    public struct Result: Codable, Sendable, CustomStringConvertible {
        public var type: CorruptionType
        public var file: String
        public var path: String
        public var rotated: Bool
        public var current: Bool
        public var oldSize: UInt64
        public var newSize: UInt64
        public var changes: [Change]
        /// Truncate: the first bytes cut off, in hex.
        public var removedFirstBytes: String?
        public var backup: BinlogBackup?
        public var backupPath: String?
        public var backupNote: String?

        enum CodingKeys: String, CodingKey {
            case type, file, path, rotated, current, changes, backup
            case oldSize = "old_size", newSize = "new_size", removedFirstBytes = "removed_first_bytes"
            case backupPath = "backup_path", backupNote = "backup_note"
        }

        public var description: String {
            var lines = ["Corrupted \(file) (\(type.rawValue)), \(current ? "the file the server writes now" : "a closed file"): \(path)"]
            if oldSize != newSize {
                lines.append("  size \(oldSize) -> \(newSize) bytes: cut \(oldSize - newSize) bytes at offset \(newSize)"
                    + (removedFirstBytes.map { ", starting \($0)" } ?? ""))
            } else {
                lines.append("  size \(oldSize) bytes (unchanged)")
            }
            for change in changes { lines.append("  offset \(change.offset) (0x\(String(change.offset, radix: 16))): \(change.old) -> \(change.new)") }
            if let backupPath, let backup { lines.append("  backup: \(backupPath) (sha256 \(backup.sha256)); undo with `toolkit restore --file \(file)`") }
            if let backupNote { lines.append("  \(backupNote)") }
            return lines.joined(separator: "\n")
        }
    }

    let target: Target
    public init(target: Target) { self.target = target }

    public func run<R: RandomNumberGenerator>(_ type: CorruptionType, file: String?, percentage: Int, count: Int,
                                              backup: Bool, rotate: Bool, using rng: inout R) throws -> Result {
        let connection = try target.connect()
        defer { connection.close() }
        if let file { try BinlogFiles.checkName(file) }
        var files = try BinlogFiles.locate(target, connection, command: "corrupt")
        if let file { _ = try files.path(of: file) }
        if rotate {
            try doing("running FLUSH BINARY LOGS") { try connection.execute("FLUSH BINARY LOGS") }
            files = try BinlogFiles.locate(target, connection, command: "corrupt")
        }
        let name: String
        if let file {
            name = file
        } else if rotate {
            guard files.names.count >= 2 else { throw ToolkitError("corrupt --rotate: the server lists no closed binlog file") }
            name = files.names[files.names.count - 2]
        } else {
            guard let current = files.current else { throw ToolkitError("corrupt: the server reports no current binlog file; is log_bin on?") }
            name = current
        }
        let path = try files.path(of: name)

        var result = Result(type: type, file: name, path: path, rotated: rotate, current: name == files.current, oldSize: 0,
                            newSize: 0, changes: [])
        let backupDirectory = target.state!.backupDirectory
        if backup {
            var manifest = try BinlogBackupManifest.load(from: backupDirectory)
            if let pending = manifest.backups.first(where: { $0.name == name && $0.restoredAt == nil }) {
                result.backup = pending
                result.backupPath = backupDirectory.appendingPathComponent(pending.backupFile).path
                result.backupNote = "kept the earlier backup from \(pending.takenAt) (not restored yet): it holds the file before any corruption"
            } else {
                let info = try FileBytes.status(path)
                let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
                let backupFile = "\(name).\(stamp).\(manifest.backups.count + 1).bak"
                let destination = backupDirectory.appendingPathComponent(backupFile).path
                try FileManager.default.createDirectory(at: backupDirectory, withIntermediateDirectories: true)
                try FileBytes.copy(path, to: destination, mode: 0o600, uid: geteuid(), gid: getegid())
                let entry: BinlogBackup
                do {
                    entry = BinlogBackup(name: name, backupFile: backupFile, size: UInt64(try FileBytes.status(destination).st_size),
                                         sha256: try FileBytes.sha256(destination), takenAt: Date(), mode: UInt32(info.st_mode & 0o7777),
                                         uid: info.st_uid, gid: info.st_gid, restoredAt: nil)
                    manifest.backups.append(entry)
                    try manifest.save(to: backupDirectory)
                } catch {
                    // A backup the manifest does not list is of no use to `restore`: none is left behind.
                    unlink(destination)
                    throw error
                }
                result.backup = entry
                result.backupPath = destination
            }
        } else {
            result.backupNote = "no backup taken (--no-backup)"
        }

        let descriptor = open(path, O_RDWR | O_NOFOLLOW)
        guard descriptor >= 0 else { throw ToolkitError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw ToolkitError("cannot stat \(path): \(String(cString: strerror(errno)))") }
        let size = UInt64(info.st_size)
        let plan: CorruptionPlan
        do { plan = try CorruptionPlan.make(type, size: size, percentage: percentage, count: count, using: &rng) } catch {
            throw ToolkitError("corrupt \(name): \(error.description)")
        }
        result.oldSize = size
        result.newSize = plan.newSize ?? size
        if let newSize = plan.newSize {
            var removed = [UInt8](repeating: 0, count: Int(min(16, size - newSize)))
            let got = removed.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(newSize)) }
            if got > 0 { result.removedFirstBytes = hexString(Array(removed.prefix(got))) }
            guard ftruncate(descriptor, off_t(newSize)) == 0 else {
                throw ToolkitError("cannot truncate \(path): \(String(cString: strerror(errno)))")
            }
        }
        for edit in plan.edits {
            var byte: UInt8 = 0
            guard pread(descriptor, &byte, 1, off_t(edit.offset)) == 1 else {
                throw ToolkitError("cannot read \(path) at \(edit.offset): \(String(cString: strerror(errno)))")
            }
            var new = byte ^ edit.mask
            guard pwrite(descriptor, &new, 1, off_t(edit.offset)) == 1 else {
                throw ToolkitError("cannot write \(path) at \(edit.offset): \(String(cString: strerror(errno)))")
            }
            result.changes.append(Change(offset: edit.offset, old: hexString([byte]), new: hexString([new])))
        }
        fsync(descriptor)
        ActionJournal.note(target, command: "corrupt", "\(type.rawValue) on \(name): size \(result.oldSize) -> \(result.newSize), "
            + "\(result.changes.count) bytes changed" + (result.backupPath.map { ", backup \($0)" } ?? ", no backup"))
        return result
    }
}

public struct BinlogRestore {
    public struct Restored: Codable, Sendable {
        public var name: String
        public var path: String
        public var size: UInt64
        public var sha256: String
        public var backupFile: String
        enum CodingKeys: String, CodingKey { case name, path, size, sha256; case backupFile = "backup_file" }
    }

    public struct Result: Codable, Sendable, CustomStringConvertible {
        public var restored: [Restored]
        public var flushed: Bool
        public var notes: [String] = []
        public var description: String {
            var lines = restored.map { "Restored \($0.name) from \($0.backupFile): \($0.size) bytes, sha256 \($0.sha256) verified" }
            if restored.isEmpty { lines.append("Nothing to restore: every backup was restored already") }
            if flushed { lines.append("Ran FLUSH BINARY LOGS") }
            lines += notes
            return lines.joined(separator: "\n")
        }
    }

    public struct Listing: Codable, Sendable, CustomStringConvertible {
        public var directory: String
        public var backups: [BinlogBackup]
        public var description: String {
            guard !backups.isEmpty else { return "No binlog backups in \(directory)" }
            return (["Binlog backups in \(directory):"] + backups.map {
                "  \($0.name)  \($0.size) bytes  taken \($0.takenAt)  \($0.restoredAt.map { "restored \($0)" } ?? "not restored")  \($0.backupFile)"
            }).joined(separator: "\n")
        }
    }

    let target: Target
    public init(target: Target) { self.target = target }

    public func list() throws -> Listing {
        guard let state = target.state else {
            throw ToolkitError("restore works on binlog files on this machine; \(target.admin.endpoint) is not a source `toolkit up` manages here")
        }
        return Listing(directory: state.backupDirectory.path, backups: try BinlogBackupManifest.load(from: state.backupDirectory).backups)
    }

    /// Restores `names` (nil: every backup not restored yet), verifying each copy's SHA-256.
    public func restore(names: [String]?, flush: Bool) throws -> Result {
        let connection = try target.connect()
        defer { connection.close() }
        for name in names ?? [] { try BinlogFiles.checkName(name) }
        let files = try BinlogFiles.locate(target, connection, command: "restore")
        let directory = target.state!.backupDirectory
        var manifest = try BinlogBackupManifest.load(from: directory)
        let wanted = names ?? manifest.pendingNames
        var entries: [BinlogBackup] = []
        for name in wanted {
            guard let entry = manifest.restorable(name) else {
                throw ToolkitError.usage("--file \(name): no backup of it to restore in \(directory.path)" + (manifest.backups.isEmpty ? "" : "; backups: \(Set(manifest.backups.map(\.name)).sorted().joined(separator: ", "))"))
            }
            entries.append(entry)
        }
        var result = Result(restored: [], flushed: false)
        for entry in entries {
            let source = directory.appendingPathComponent(entry.backupFile).path
            guard try FileBytes.sha256(source) == entry.sha256 else {
                throw ToolkitError("the backup \(source) no longer matches its SHA-256 in the manifest; not restoring it")
            }
            let destination = try files.path(of: entry.name, mustExist: false)
            if entry.name == files.current, let now = try? FileBytes.status(destination), UInt64(now.st_size) > entry.size {
                result.notes.append("\(entry.name) is the file the server writes now; the \(UInt64(now.st_size) - entry.size) bytes it "
                    + "wrote after the backup are gone (restore --flush starts a fresh file)")
            }
            try FileBytes.copy(source, to: destination, mode: mode_t(entry.mode), uid: entry.uid, gid: entry.gid)
            // The server may append to the file it writes the moment the copy ends: what was restored is the backup's length.
            let digest = try FileBytes.sha256(destination, prefix: entry.name == files.current ? entry.size : nil)
            guard digest == entry.sha256 else {
                throw ToolkitError("restored \(destination) but its SHA-256 \(digest) differs from the backup's \(entry.sha256)")
            }
            if let index = manifest.backups.firstIndex(of: entry) { manifest.backups[index].restoredAt = Date() }
            try manifest.save(to: directory)
            result.restored.append(Restored(name: entry.name, path: destination, size: entry.size, sha256: digest, backupFile: entry.backupFile))
            ActionJournal.note(target, command: "restore", "\(entry.name) from \(entry.backupFile), sha256 verified")
        }
        if flush {
            try doing("running FLUSH BINARY LOGS") { try connection.execute("FLUSH BINARY LOGS") }
            result.flushed = true
        }
        return result
    }
}
