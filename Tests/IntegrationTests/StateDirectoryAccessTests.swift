import Foundation
import Infrastructure
import Testing

/// `toolkit up` as root runs the server as `mysql`, which must be able to enter `$TOOLKIT_HOME`
/// and every directory above it. A directory it cannot enter is refused before anything is made,
/// and `down --purge` leaves a directory the user made where it was.
@Suite("The state directory: reachable by the server's account, and the user's own after purge",
       .tags(.integration, .endToEnd),
       .enabled(if: geteuid() == 0 && getpwnam("mysql") != nil, "as root, the server runs as the mysql account"))
struct StateDirectoryAccessTests {
    /// A directory as `mktemp -d` makes it: mode 0700, owned by root.
    static func madeByUser(_ name: String) throws -> URL {
        var template = Array(FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-\(name)-XXXXXX").path.utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp: \(String(cString: strerror(errno)))") }
        return URL(fileURLWithPath: String(cString: made))
    }

    static func environment(home: URL) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["TOOLKIT_HOME"] = home.path
        for name in ["MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PWD", "MYSQL_DATABASE", "MYSQL_ROOT_PASSWORD"] { env[name] = nil }
        return env
    }

    static func contents(_ url: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }

    @Test("a 0700 TOOLKIT_HOME (mktemp -d): exit 2, one line with its mode, owner and the fix; nothing created")
    func privateHomeIsRefused() throws {
        let home = try Self.madeByUser("private-home")
        defer { try? FileManager.default.removeItem(at: home) }
        let env = Self.environment(home: home)
        let up = try Run.toolkit(["up", "--port", String(PortProbe.ephemeral()), "--backend", "gateway"], environment: env, timeout: 60)
        defer { _ = try? Run.toolkit(["down", "--purge"], environment: env) }
        #expect(up.status == 2, "\(up.stderr)")
        #expect(up.stderr.split(separator: "\n").count == 1, "\(up.stderr)")
        #expect(up.stderr.contains(home.path) && up.stderr.contains("mode 700") && up.stderr.contains("owner root"), "\(up.stderr)")
        #expect(up.stderr.contains("chmod 711 \(home.path)"), "\(up.stderr)")
        #expect(Self.contents(home).isEmpty, "up created \(Self.contents(home)) before refusing")
    }

    @Test("a TOOLKIT_HOME under a directory mysql cannot pass (as under root's home): refused naming that directory")
    func untraversableParentIsRefused() throws {
        let parent = try Self.madeByUser("private-parent")
        defer { try? FileManager.default.removeItem(at: parent) }
        let home = parent.appendingPathComponent("state")
        let env = Self.environment(home: home)
        let up = try Run.toolkit(["up", "--port", String(PortProbe.ephemeral()), "--backend", "gateway"], environment: env, timeout: 60)
        defer { _ = try? Run.toolkit(["down", "--purge"], environment: env) }
        #expect(up.status == 2, "\(up.stderr)")
        #expect(up.stderr.split(separator: "\n").count == 1, "\(up.stderr)")
        #expect(up.stderr.contains(home.path) && up.stderr.contains("\(parent.path) (mode 700, owner root)"), "\(up.stderr)")
        #expect(up.stderr.contains("chmod 711 \(parent.path)"), "\(up.stderr)")
        #expect(Self.contents(parent).isEmpty, "up created \(Self.contents(parent)) before refusing")
    }

    @Test("down --purge removes what up created, not the directory the user made for it", .tags(.slow))
    func purgeLeavesTheUsersDirectory() throws {
        let home = try Self.madeByUser("own-home")
        defer { try? FileManager.default.removeItem(at: home) }
        chmod(home.path, 0o711)
        let env = Self.environment(home: home)
        let up = try Run.toolkit(["up", "--port", String(PortProbe.ephemeral()), "--backend", "gateway"], environment: env)
        #expect(up.status == 0, "\(up.stderr)")
        let down = try Run.toolkit(["down", "--purge"], environment: env)
        #expect(down.status == 0, "\(down.stderr)")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: home.path, isDirectory: &isDirectory) && isDirectory.boolValue,
                "down --purge removed the user's directory")
        #expect(Self.contents(home).isEmpty, "left behind: \(Self.contents(home))")
    }
}
