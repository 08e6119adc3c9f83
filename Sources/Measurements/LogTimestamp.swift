import Foundation

/// The time a log line was written, as its timestamp says: the first `YYYY-MM-DD HH:MM:SS` (or
/// with `T`) near the line's start, with an optional fraction (`.` or `,`) and an optional zone
/// (`Z`, `UTC`, `+01:00`, `+0100`, `-05`). Covers Python's logging (`2026-12-03 10:11:12,345`),
/// pg_chameleon (`2026-12-03 10:11:12 MainProcess WARNING: ...`, whole seconds), ISO 8601 and
/// RFC 3339 stamps, bracketed or not. A stamp without a zone is read in the zone given. Pure.
public struct LogTimestamp: Sendable, Hashable {
    /// Seconds since 1970 of the stamp.
    public var seconds: Double
    /// The span the stamp stands for: 1 for whole seconds, 0.001 for milliseconds, ...
    /// (a logger truncates: the line was written in `seconds ..< seconds + resolution`).
    public var resolution: Double

    public init(seconds: Double, resolution: Double) {
        self.seconds = seconds
        self.resolution = resolution
    }

    /// The stamp must begin within this many bytes of the line's start (after a prefix such as
    /// "[" or a process name); a date further in is part of the message.
    static let searchLimit = 40

    /// The line's timestamp; nil when it has none near its start.
    public init?(line: String, timeZone: TimeZone) {
        let bytes = Array(line.utf8.prefix(Self.searchLimit + 40))
        for start in 0..<min(Self.searchLimit + 1, bytes.count) {
            if start > 0, Self.isDigit(bytes[start - 1]) { continue }
            if let stamp = Self.parse(bytes, at: start, timeZone: timeZone) {
                self = stamp
                return
            }
        }
        return nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7a)
    }

    private static func parse(_ bytes: [UInt8], at start: Int, timeZone: TimeZone) -> LogTimestamp? {
        var index = start
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + digits)] {
                guard isDigit(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += digits
            return value
        }
        func expect(_ allowed: String) -> Bool {
            guard index < bytes.count, allowed.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              expect("T "), let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var fraction = 0.0
        var resolution = 1.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: ","),
           index + 1 < bytes.count, isDigit(bytes[index + 1]) {
            index += 1
            var scale = 1.0
            while index < bytes.count, isDigit(bytes[index]) {
                scale /= 10
                fraction += Double(bytes[index] - 0x30) * scale
                index += 1
            }
            resolution = scale
        }
        if index < bytes.count, isDigit(bytes[index]) { return nil }
        var zone = timeZone
        if let offset = zoneOffset(bytes, at: index) {
            guard let written = TimeZone(secondsFromGMT: offset) else { return nil }
            zone = written
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: min(second, 59))
        guard let date = calendar.date(from: components),
              calendar.component(.day, from: date) == day else { return nil } // no 31 June
        let seconds = date.timeIntervalSince1970 + Double(second - min(second, 59)) + fraction
        return LogTimestamp(seconds: seconds, resolution: resolution)
    }

    /// Seconds east of UTC of a zone written at `index` (optionally after one space), or nil when none is.
    private static func zoneOffset(_ bytes: [UInt8], at start: Int) -> Int? {
        var index = start
        if index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
        func ends(_ end: Int) -> Bool { end >= bytes.count || !isAlphanumeric(bytes[end]) }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "Z"), ends(index + 1) { return 0 }
        if bytes.count >= index + 3, bytes[index..<(index + 3)].elementsEqual("UTC".utf8), ends(index + 3) { return 0 }
        guard bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") else { return nil }
        let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
        var digits: [Int] = []
        var cursor = index + 1
        while cursor < bytes.count, digits.count < 4 {
            if isDigit(bytes[cursor]) {
                digits.append(Int(bytes[cursor] - 0x30))
            } else if bytes[cursor] == UInt8(ascii: ":"), digits.count == 2 {
                // hh:mm
            } else {
                break
            }
            cursor += 1
        }
        // After a space only a full "+hhmm" / "+hh:mm" is a zone (" - 12 rows" is a message).
        guard digits.count == 4 || (digits.count == 2 && index == start), ends(cursor) else { return nil }
        let hours = digits[0] * 10 + digits[1]
        let minutes = digits.count == 4 ? digits[2] * 10 + digits[3] : 0
        guard hours <= 14, minutes < 60 else { return nil }
        return sign * (hours * 3600 + minutes * 60)
    }
}

extension WindowReport {
    /// The window with its detection dated by the client's own log, when the wire only bounds it:
    /// the first of `lines` (oldest first) whose timestamp falls inside the bound becomes the
    /// detection (`log_line`, `log_source`), `after` its time, and `earliest`/`latest` the part
    /// of the bound the stamp's resolution leaves (a stamp to the second leaves up to a second).
    /// Unchanged when the detection is exact, already dated, or no line falls inside.
    /// Under `service`, the client's reaction to the server closing its connection can be its log
    /// line: the first one stamped after the close and before its next reaction on the wire (or the restore).
    public func datingDetection(byLog lines: [String], source: String, timeZone: TimeZone) -> WindowReport {
        if let serverClosed, detection?.logLine == nil {
            return datingReaction(to: serverClosed, byLog: lines, source: source, timeZone: timeZone)
        }
        guard var detection, detection.isBounded, detection.logLine == nil,
              let earliest = detection.earliest, let latest = detection.latest else { return self }
        for line in lines {
            guard let stamp = LogTimestamp(line: line, timeZone: timeZone) else { continue }
            let from = stamp.seconds - started
            let to = from + stamp.resolution
            guard from <= latest, to > earliest else { continue }
            let low = JournalEvent.timestamp(max(from, earliest))
            let high = JournalEvent.timestamp(min(to, latest))
            let precision = Self.precision(stamp.resolution)
            detection.after = low
            detection.earliest = low
            detection.latest = high
            detection.bound = "its own log, \(precision), within what the wire shows: between \(Self.seconds(earliest)) and "
                + "\(Self.seconds(latest))" + (detection.bound.map { " (\($0))" } ?? "")
            detection.logLine = line
            detection.logSource = source
            var report = self
            report.detection = detection
            return report
        }
        return self
    }

    private func datingReaction(to closed: ServerClose, byLog lines: [String], source: String, timeZone: TimeZone) -> WindowReport {
        let latest = detection?.after ?? duration ?? .infinity
        for line in lines {
            guard let stamp = LogTimestamp(line: line, timeZone: timeZone) else { continue }
            let from = stamp.seconds - started
            let to = from + stamp.resolution
            guard from <= latest, to > closed.after else { continue }
            let low = JournalEvent.timestamp(max(from, closed.after))
            let high = JournalEvent.timestamp(min(to, latest))
            var report = self
            report.detection = Detection(
                after: low, event: .connClosed, conn: closed.conn, earliest: low, latest: high,
                bound: "its own log, \(Self.precision(stamp.resolution)), after the server closed the connection",
                logLine: line, logSource: source)
            return report
        }
        return self
    }

    /// "to the second", "to the millisecond", ...
    static func precision(_ resolution: Double) -> String {
        switch resolution {
        case 1...: "to the second"
        case 0.1...: "to the tenth of a second"
        case 0.01...: "to the hundredth of a second"
        case 0.001...: "to the millisecond"
        default: "to the microsecond"
        }
    }
}
