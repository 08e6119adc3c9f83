import Foundation
import Measurements
import Testing

@Suite("LogTimestamp: the time a log line was written, in an explicit zone")
struct LogTimestampTests {
    static let utc = TimeZone(identifier: "UTC")!
    /// 2026-12-03 10:11:12 UTC.
    static let base = 1_796_292_000.0 + 11 * 60 + 12

    static func stamp(_ line: String, _ zone: TimeZone = utc) -> LogTimestamp? { LogTimestamp(line: line, timeZone: zone) }

    @Test("Python logging's default asctime: comma and milliseconds, local time in the zone given")
    func pythonLogging() throws {
        let stamp = try #require(Self.stamp("2026-12-03 10:11:12,345 ERROR pymysql (2003, \"Can't connect\")"))
        #expect(abs(stamp.seconds - (Self.base + 0.345)) < 1e-6)
        #expect(abs(stamp.resolution - 0.001) < 1e-12)
        let berlin = try #require(TimeZone(secondsFromGMT: 3600))
        let local = try #require(Self.stamp("2026-12-03 11:11:12,345 ERROR", berlin))
        #expect(abs(local.seconds - stamp.seconds) < 1e-6)
    }

    @Test("pg_chameleon's stamp: whole seconds, then the process name")
    func chameleon() throws {
        let stamp = try #require(Self.stamp("2026-12-03 10:11:12 MainProcess WARNING: Couldn't connect to the source database for reading the replica. Ignoring."))
        #expect(stamp.seconds == Self.base)
        #expect(stamp.resolution == 1)
    }

    @Test("ISO 8601 / RFC 3339: T, Z, offsets with and without a colon, microseconds")
    func iso8601() throws {
        #expect(Self.stamp("2026-12-03T10:11:12Z connect failed")?.seconds == Self.base)
        #expect(Self.stamp("2026-12-03T10:11:12.5Z")?.seconds == Self.base + 0.5)
        #expect(Self.stamp("2026-12-03T11:11:12+01:00 x")?.seconds == Self.base)
        #expect(Self.stamp("2026-12-03T05:11:12-0500 x")?.seconds == Self.base)
        #expect(Self.stamp("2026-12-03 10:11:12 +0000 x")?.seconds == Self.base)
        #expect(Self.stamp("2026-12-03 10:11:12 UTC x", TimeZone(secondsFromGMT: 7200)!)?.seconds == Self.base)
        let micro = try #require(Self.stamp("2026-12-03 10:11:12.123456+00:00 | error"))
        #expect(abs(micro.seconds - (Self.base + 0.123456)) < 1e-6)
        #expect(abs(micro.resolution - 1e-6) < 1e-12)
        // A zone written in the line wins over the one given.
        #expect(Self.stamp("2026-12-03T10:11:12Z", TimeZone(secondsFromGMT: -3600)!)?.seconds == Self.base)
    }

    @Test("a prefix before the stamp; a message that starts with a dash is not a zone")
    func prefixes() throws {
        #expect(Self.stamp("[2026-12-03 10:11:12,000] ERROR x")?.seconds == Self.base)
        #expect(Self.stamp("tap-mysql 2026-12-03 10:11:12 - 2 rows")?.seconds == Self.base)
        #expect(Self.stamp("2026-12-03 10:11:12 -12 rows")?.seconds == Self.base)
    }

    @Test("no stamp, a stamp deep inside the message, or an impossible date: nil")
    func rejects() {
        #expect(Self.stamp("ERROR: Can't connect to MySQL server") == nil)
        #expect(Self.stamp("ERROR: a very long message that mentions 2026-12-03 10:11:12 only here, far in") == nil)
        #expect(Self.stamp("2026-06-31 10:11:12 x") == nil)
        #expect(Self.stamp("2026-13-03 10:11:12 x") == nil)
        #expect(Self.stamp("2026-12-03 25:11:12 x") == nil)
        #expect(Self.stamp("12026-12-03 10:11:12 x") == nil)
        #expect(Self.stamp("2026-12-03 10:11") == nil)
        #expect(Self.stamp("") == nil)
    }
}
