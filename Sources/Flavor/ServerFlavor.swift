/// Which server family and version we talk to. Every version-dependent statement hangs off this.
public struct ServerFlavor: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Family: String, Sendable, Codable { case mariadb, mysql }

    public let family: Family
    public let major: Int
    public let minor: Int
    public let patch: Int

    public init(family: Family, major: Int, minor: Int, patch: Int = 0) {
        self.family = family
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses a server version string: "10.11.6-MariaDB-0+deb12u1", "8.0.36", "8.4.0-commercial",
    /// and the "5.5.5-10.11.6-MariaDB" form older clients see.
    public init?(versionString: String) {
        var text = Substring(versionString)
        if text.hasPrefix("5.5.5-") { text = text.dropFirst(6) }
        let isMariaDB = versionString.lowercased().contains("mariadb")
        let numbers = text.prefix { $0.isNumber || $0 == "." }.split(separator: ".").compactMap { Int($0) }
        guard numbers.count >= 2 else { return nil }
        self.init(family: isMariaDB ? .mariadb : .mysql, major: numbers[0], minor: numbers[1],
                  patch: numbers.count > 2 ? numbers[2] : 0)
    }

    public var version: String { "\(major).\(minor).\(patch)" }
    public var description: String { "\(family == .mariadb ? "MariaDB" : "MySQL") \(version)" }

    /// True when this version is at least `major.minor.patch`.
    public func isAtLeast(_ major: Int, _ minor: Int, _ patch: Int = 0) -> Bool {
        (self.major, self.minor, self.patch) >= (major, minor, patch)
    }

    public static let mariadb10_6 = ServerFlavor(family: .mariadb, major: 10, minor: 6, patch: 0)
    public static let mariadb10_11 = ServerFlavor(family: .mariadb, major: 10, minor: 11, patch: 0)
    public static let mysql8_0 = ServerFlavor(family: .mysql, major: 8, minor: 0, patch: 36)
    public static let mysql8_4 = ServerFlavor(family: .mysql, major: 8, minor: 4, patch: 0)
}

extension ServerFlavor {
    /// What the server is, from what it answers rather than what it calls itself: one that answers
    /// MariaDB's own `@@gtid_binlog_pos` is MariaDB, whatever `version=` makes it report
    /// ("8.0.40-toolkit", so that a MySQL connector takes it), at the version its own InnoDB
    /// plugin gives (`innodbVersion`, "10.11.19"). Nil when no version can be read.
    public init?(reported: String, answersMariaDBVariable: Bool, innodbVersion: String?) {
        guard answersMariaDBVariable else {
            guard let parsed = ServerFlavor(versionString: reported) else { return nil }
            self.init(family: .mysql, major: parsed.major, minor: parsed.minor, patch: parsed.patch)
            return
        }
        guard let parsed = innodbVersion.flatMap(ServerFlavor.init(versionString:)) ?? ServerFlavor(versionString: reported) else { return nil }
        self.init(family: .mariadb, major: parsed.major, minor: parsed.minor, patch: parsed.patch)
    }
}
