import Foundation

/// Events the journal should hold but does not: they could not be written (a full disk), or a
/// line was found cut short when the agent started. Journaled as one `gap` event (`at`: when the
/// loss began, `count`, `detail`: `description`) so that windows report it instead of measuring
/// across it as if nothing had happened.
public struct JournalGap: Sendable, Hashable, CustomStringConvertible {
    /// Events lost (at least this many for a line cut short).
    public var count: Int
    /// When the loss began: the first lost event's time.
    public var from: Double
    /// When it was over: the time writing worked again, or the agent found the torn line.
    public var to: Double
    /// "disk full", the error of the failed writes, or "a line cut short".
    public var cause: String

    public init(count: Int, from: Double, to: Double, cause: String) {
        self.count = count
        self.from = from
        self.to = to
        self.cause = cause
    }

    /// "3 events lost: disk full from 2026-12-03T10:14:01.123Z to 2026-12-03T10:15:12.004Z".
    public var description: String {
        "\(count) event\(count == 1 ? "" : "s") lost: \(cause) from \(Self.iso(from)) to \(Self.iso(to))"
    }

    /// The `gap` event that records it.
    public var event: JournalEvent {
        JournalEvent(at: from, kind: .gap, count: count, detail: description)
    }

    /// A last line found cut short (without its "\n") when the agent started: one event lost, from
    /// its own time when enough of it was written (`{"at":…,`), else from the last whole event's.
    public static func tornLine(_ bytes: [UInt8], lastWhole: Double?, foundAt: Double) -> JournalGap {
        JournalGap(count: 1, from: leadingTime(bytes) ?? lastWhole ?? foundAt, to: foundAt, cause: "a line cut short")
    }

    /// The `at` a journal line starts with (keys are sorted, so `at` comes first), if it is all there.
    static func leadingTime(_ bytes: [UInt8]) -> Double? {
        let text = String(decoding: bytes.prefix(64), as: UTF8.self)
        guard text.hasPrefix(#"{"at":"#) else { return nil }
        let number = text.dropFirst(6).prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "e" || $0 == "E" || $0 == "+" }
        // The number must be followed by the next key: otherwise it may itself be cut short.
        guard text.dropFirst(6 + number.count).first == ",", let value = Double(number) else { return nil }
        return value
    }

    static func iso(_ seconds: Double) -> String {
        Date(timeIntervalSince1970: seconds).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

/// Counts the events whose write failed, until one works again: then `recovered` hands back the gap
/// to journal before the event that did get written. Pure: the journal's shell tells it what happened.
public struct JournalLoss: Sendable, Hashable {
    public private(set) var count = 0
    public private(set) var from: Double?
    public private(set) var cause: String?

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// An event stamped `at` could not be written; `diskFull` when the error was ENOSPC (or EDQUOT).
    public mutating func failed(at: Double, diskFull: Bool, error: String) {
        count += 1
        from = min(from ?? at, at)
        if cause == nil || diskFull { cause = diskFull ? "disk full" : "write failed (\(error))" }
    }

    /// Writing works again at `now`: the gap to journal, and the count starts afresh once it is written.
    public func gap(now: Double) -> JournalGap? {
        guard count > 0, let from else { return nil }
        return JournalGap(count: count, from: from, to: max(now, from), cause: cause ?? "disk full")
    }

    /// The gap was journaled.
    public mutating func reset() { self = JournalLoss() }
}
