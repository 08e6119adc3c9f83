import Foundation
import Infrastructure

/// A small tmpfs a test mounts on a directory of its own and unmounts when done (as root): a
/// full disk, made on purpose, that the host never notices.
struct ScratchTmpfs {
    let directory: URL

    /// Mounts a tmpfs of `size` (mount's syntax: "16k", "200m") with `mode` on `directory`.
    init(at directory: URL, size: String, mode: String = "0700") throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let mount = try Run.program("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=\(mode)", "tmpfs", directory.path])
        guard mount.status == 0 else { throw FixtureError("mount: \(mount.stderr)") }
    }

    /// Writes zeros to `name` until the file system is full; returns that file.
    @discardableResult
    func fill(_ name: String = "fill") throws -> URL {
        let file = directory.appendingPathComponent(name)
        let dd = try Run.program("/bin/dd", ["if=/dev/zero", "of=\(file.path)", "bs=64k"])
        guard dd.stderr.contains("No space left") else { throw FixtureError("dd did not fill \(directory.path): \(dd.stderr)") }
        return file
    }

    /// Bytes still free.
    var freeBytes: UInt64 {
        var info = statvfs()
        guard statvfs(directory.path, &info) == 0 else { return 0 }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }

    func unmount() {
        _ = try? Run.program("/usr/bin/umount", [directory.path])
    }
}
