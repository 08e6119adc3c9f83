import Foundation

/// A directory a command is about to write its files into (`run --report`, `cases export`), checked
/// before anything runs: an existing directory this account can write into, or one it can create.
enum OutputDirectory {
    /// Why files cannot be written into `path` (a phrase for the flag's one-line refusal), or nil.
    static func problem(_ path: String) -> String? {
        guard !path.isEmpty else { return "it is empty" }
        var url = URL(fileURLWithPath: path).standardizedFileURL
        var info = stat()
        if stat(url.path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { return "it is a file, not a directory" }
            return creationProblem(in: url).map { "the directory cannot be written (\($0))" }
        }
        guard errno == ENOENT else { return String(cString: strerror(errno)) }
        // Missing: the nearest directory that exists must let this account create it.
        while url.path != "/" {
            url = url.deletingLastPathComponent()
            if stat(url.path, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else { return "\(url.path) is a file, not a directory" }
                return creationProblem(in: url).map { "it cannot be created in \(url.path) (\($0))" }
            }
            guard errno == ENOENT else { return "\(url.path): \(String(cString: strerror(errno)))" }
        }
        return "no directory on its path exists"
    }

    /// Whether an entry can be made in `directory`, tried with a directory made and removed at once:
    /// permissions alone do not tell (root writes anywhere except on a read-only file system).
    private static func creationProblem(in directory: URL) -> String? {
        let probe = directory.appendingPathComponent(".toolkit-write-check-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        guard mkdir(probe.path, 0o700) == 0 else { return String(cString: strerror(errno)) }
        rmdir(probe.path)
        return nil
    }

    /// The entries already in the directory at `path` (none when it is missing).
    static func entries(_ path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }
}
