import Foundation

/// A replication position as a GTID set, in either flavor:
/// - MySQL: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,…" (with 8.4 tags:
///   "uuid:tag:1-3"), a set of transactions; compared by subset/superset.
/// - MariaDB: "0-1-100,1-2-50" (domain-server-sequence), the last transaction per
///   replication domain; compared by sequence number per domain.
///
/// The empty set (empty text, e.g. a MariaDB `slave_connect_state=''`) belongs to both
/// flavors and is behind any non-empty set.
public struct GTIDSet: Sendable, Hashable, CustomStringConvertible {
    public enum Flavor: String, Codable, Sendable {
        case mysql
        case mariadb
    }

    /// Nil for the empty set.
    public var flavor: Flavor? {
        if !intervals.isEmpty { return .mysql }
        if !domains.isEmpty { return .mariadb }
        return nil
    }

    public var isEmpty: Bool { intervals.isEmpty && domains.isEmpty }

    /// MySQL: transactions per source (uuid and tag), normalized: sorted, merged.
    private var intervals: [MySQLSource: [ClosedRange<UInt64>]] = [:]
    /// MariaDB: the last GTID per domain.
    private var domains: [UInt32: MariaDBGTID] = [:]

    public init() {}

    /// Parses either flavor. Whitespace and newlines around elements are ignored, as in
    /// MySQL's `gtid_executed` output.
    public init(parsing text: String) throws(GTIDParseError) {
        let elements = text.split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
        guard let first = elements.first else { return }
        let flavor: Flavor = first.contains(":") ? .mysql : .mariadb
        for element in elements {
            switch flavor {
            case .mysql: try addMySQL(element, in: text)
            case .mariadb: try addMariaDB(element, in: text)
            }
        }
        for (source, ranges) in intervals {
            intervals[source] = Self.normalized(ranges)
        }
    }

    /// MariaDB GTIDs, one per domain (the last one wins).
    public init(mariaDB gtids: [MariaDBGTID]) {
        for gtid in gtids { domains[gtid.domain] = gtid }
    }

    /// The MariaDB GTIDs, sorted by domain; empty for a MySQL set.
    public var mariaDBGTIDs: [MariaDBGTID] {
        domains.values.sorted { $0.domain < $1.domain }
    }

    /// How this set stands against another: `behind` when it lacks transactions the other
    /// has (and has none the other lacks), `ahead` for the reverse, `diverged` when both.
    /// MySQL sets compare by inclusion; MariaDB lists by sequence per domain (a domain
    /// missing on one side counts as sequence 0; the same sequence from different servers
    /// is a divergence).
    public func compare(to other: GTIDSet) -> PositionOrder {
        switch (flavor, other.flavor) {
        case (nil, nil): return .same
        case (nil, _): return .behind
        case (_, nil): return .ahead
        case (.mysql, .mysql):
            let mineInTheirs = isSubset(of: other)
            let theirsInMine = other.isSubset(of: self)
            switch (mineInTheirs, theirsInMine) {
            case (true, true): return .same
            case (true, false): return .behind
            case (false, true): return .ahead
            case (false, false): return .diverged
            }
        case (.mariadb, .mariadb):
            return compareMariaDB(to: other)
        default:
            return .incomparable
        }
    }

    /// MySQL: every transaction of this set is in `other`. MariaDB: no domain is ahead.
    public func isSubset(of other: GTIDSet) -> Bool {
        if flavor == .mariadb || other.flavor == .mariadb {
            let order = compare(to: other)
            return order == .same || order == .behind
        }
        for (source, ranges) in intervals {
            let theirs = other.intervals[source] ?? []
            for range in ranges where !theirs.contains(where: { $0.contains(range.lowerBound) && $0.contains(range.upperBound) }) {
                return false
            }
        }
        return true
    }

    /// MySQL: the transactions of this set that are not in `other`. For MariaDB lists, the
    /// domains where this list is ahead of `other`, with this list's GTID.
    public func subtracting(_ other: GTIDSet) -> GTIDSet {
        var result = GTIDSet()
        for (source, ranges) in intervals {
            let remaining = Self.subtract(other.intervals[source] ?? [], from: ranges)
            if !remaining.isEmpty { result.intervals[source] = remaining }
        }
        for (domain, gtid) in domains where gtid.sequence > other.domains[domain]?.sequence ?? 0 {
            result.domains[domain] = gtid
        }
        return result
    }

    /// Number of transactions in a MySQL set (saturating); for MariaDB the number of domains.
    public var count: UInt64 {
        if !domains.isEmpty { return UInt64(domains.count) }
        var total: UInt64 = 0
        for ranges in intervals.values {
            for range in ranges {
                let (width, wide) = (range.upperBound - range.lowerBound).addingReportingOverflow(1)
                let (sum, overflow) = total.addingReportingOverflow(width)
                total = wide || overflow ? .max : sum
            }
        }
        return total
    }

    /// Normalized text: MySQL sources sorted, untagged intervals before tagged ones, uuids
    /// lowercased; MariaDB domains sorted.
    public var description: String {
        if !domains.isEmpty {
            return mariaDBGTIDs.map(\.description).joined(separator: ",")
        }
        let byUUID = Dictionary(grouping: intervals.keys, by: \.uuid)
        return byUUID.keys.sorted().map { uuid in
            var text = uuid
            for source in byUUID[uuid]!.sorted(by: { $0.tag < $1.tag }) {
                if !source.tag.isEmpty { text += ":\(source.tag)" }
                for range in intervals[source]! {
                    text += range.lowerBound == range.upperBound
                        ? ":\(range.lowerBound)" : ":\(range.lowerBound)-\(range.upperBound)"
                }
            }
            return text
        }.joined(separator: ",")
    }

    // MARK: - MariaDB

    private func compareMariaDB(to other: GTIDSet) -> PositionOrder {
        var behind = false
        var ahead = false
        for domain in Set(domains.keys).union(other.domains.keys) {
            let mine = domains[domain]
            let theirs = other.domains[domain]
            let mySequence = mine?.sequence ?? 0
            let theirSequence = theirs?.sequence ?? 0
            if mySequence < theirSequence {
                behind = true
            } else if mySequence > theirSequence {
                ahead = true
            } else if let mine, let theirs, mine.serverID != theirs.serverID {
                return .diverged
            }
        }
        switch (behind, ahead) {
        case (false, false): return .same
        case (true, false): return .behind
        case (false, true): return .ahead
        case (true, true): return .diverged
        }
    }

    private mutating func addMariaDB(_ element: String, in text: String) throws(GTIDParseError) {
        let parts = element.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let domain = UInt32(parts[0]), let serverID = UInt32(parts[1]),
              let sequence = UInt64(parts[2])
        else {
            throw GTIDParseError(text: text, reason: "\"\(element)\" is not a MariaDB GTID (domain-server-sequence)")
        }
        guard domains[domain] == nil else {
            throw GTIDParseError(text: text, reason: "domain \(domain) appears twice")
        }
        domains[domain] = MariaDBGTID(domain: domain, serverID: serverID, sequence: sequence)
    }

    // MARK: - MySQL

    private mutating func addMySQL(_ element: String, in text: String) throws(GTIDParseError) {
        let parts = element.split(separator: ":", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard Self.isUUID(parts[0]) else {
            throw GTIDParseError(text: text, reason: "\"\(parts[0])\" is not a server uuid")
        }
        let uuid = parts[0].lowercased()
        var tag = ""
        var sawInterval = false
        var pendingTag = false
        for part in parts.dropFirst() {
            if let range = Self.interval(part) {
                intervals[MySQLSource(uuid: uuid, tag: tag), default: []].append(range)
                sawInterval = true
                pendingTag = false
            } else if Self.isTag(part) {
                if pendingTag {
                    throw GTIDParseError(text: text, reason: "tag \"\(tag)\" has no interval")
                }
                tag = part.lowercased()
                pendingTag = true
            } else {
                throw GTIDParseError(text: text, reason: "\"\(part)\" is neither an interval nor a tag")
            }
        }
        guard sawInterval, !pendingTag else {
            throw GTIDParseError(text: text, reason: "\"\(element)\" has no interval")
        }
    }

    /// "5" or "1-5", from 1.
    private static func interval(_ text: String) -> ClosedRange<UInt64>? {
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigitCharacter) }) else { return nil }
        switch bounds.count {
        case 1:
            guard let value = UInt64(bounds[0]), value >= 1 else { return nil }
            return value...value
        case 2:
            guard let lower = UInt64(bounds[0]), let upper = UInt64(bounds[1]), lower >= 1, lower <= upper else {
                return nil
            }
            return lower...upper
        default:
            return nil
        }
    }

    /// MySQL 8.4 tag: a letter or underscore, then up to 31 letters, digits or underscores.
    private static func isTag(_ text: String) -> Bool {
        guard let first = text.first, text.count <= 32, first.isASCII, first.isLetter || first == "_" else {
            return false
        }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// 8-4-4-4-12 hex digits.
    private static func isUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12]
            && groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

    private static func normalized(_ ranges: [ClosedRange<UInt64>]) -> [ClosedRange<UInt64>] {
        var merged: [ClosedRange<UInt64>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, last.upperBound == .max || range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// `ranges` minus `removed`, both normalized.
    private static func subtract(
        _ removed: [ClosedRange<UInt64>], from ranges: [ClosedRange<UInt64>]
    ) -> [ClosedRange<UInt64>] {
        var result: [ClosedRange<UInt64>] = []
        for range in ranges {
            var pieces = [range]
            for cut in removed where cut.overlaps(range) {
                pieces = pieces.flatMap { piece -> [ClosedRange<UInt64>] in
                    guard piece.overlaps(cut) else { return [piece] }
                    var kept: [ClosedRange<UInt64>] = []
                    if piece.lowerBound < cut.lowerBound { kept.append(piece.lowerBound...(cut.lowerBound - 1)) }
                    if piece.upperBound > cut.upperBound { kept.append((cut.upperBound + 1)...piece.upperBound) }
                    return kept
                }
            }
            result += pieces
        }
        return result
    }
}

/// One MySQL transaction source: server uuid and (MySQL 8.4) tag, "" when untagged.
private struct MySQLSource: Hashable, Sendable {
    var uuid: String
    var tag: String
}

/// A MariaDB GTID: domain-server-sequence.
public struct MariaDBGTID: Sendable, Hashable, CustomStringConvertible {
    public var domain: UInt32
    public var serverID: UInt32
    public var sequence: UInt64

    public init(domain: UInt32, serverID: UInt32, sequence: UInt64) {
        self.domain = domain
        self.serverID = serverID
        self.sequence = sequence
    }

    public var description: String { "\(domain)-\(serverID)-\(sequence)" }
}

public struct GTIDParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var reason: String

    public var description: String { "invalid GTID set \"\(text)\": \(reason)" }
}
