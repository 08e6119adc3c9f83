import Foundation
import Infrastructure

/// Kernel-level faults with iptables, in a chain the toolkit owns (`TOOLKIT-<port>`), reached by
/// one jump rule from INPUT for the public port. It never flushes, reorders or deletes a rule it
/// did not create: removal deletes our jump rule by its exact specification, then flushes and
/// deletes our own chain.
public struct IptablesBackend: Sendable {
    public let port: Int
    public let executable: String

    public init?(port: Int) {
        let candidates: [String] = ["/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"]
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return nil
        }
        self.port = port
        self.executable = path
    }

    public var chain: String { "TOOLKIT-\(port)" }

    /// The jump rule, as given to `-I`/`-D` after the chain name.
    var jumpRule: [String] { ["-p", "tcp", "--dport", String(port), "-j", chain] }

    /// `watch` only logs connection attempts and lets everything pass (a gateway reject, whose
    /// closed listener makes the kernel refuse them).
    public enum Kind: Sendable { case reject, drop, watch }

    /// The NFLOG group our rules log to: the public port, so that concurrent agents (each on its
    /// own port) never share a group.
    public var nflogGroup: UInt16 { UInt16(truncatingIfNeeded: port) }

    /// Rules of our chain for a fault. Before the verdict, NFLOG rules hand the agent the
    /// client packets it must see: connects (SYN), and for reject the packets of established
    /// connections the kernel will answer with RST, for drop the client's FIN or RST (it gave
    /// up). NFLOG needs NET_ADMIN only, not NET_RAW, and returns the packet to the chain.
    ///
    /// With `until`, every rule carries a `time` match that stops it matching within a second
    /// after that moment: should the agent and its supervisor both die, the kernel itself ends a
    /// timed fault at its deadline.
    static func rules(for kind: Kind, port: Int, until: Date? = nil) -> [[String]] {
        let base = ["-p", "tcp", "--dport", String(port)] + (until.map { ["-m", "time", "--datestop", timeMatchDate($0), "--utc"] } ?? [])
        let log = ["-j", "NFLOG", "--nflog-group", String(UInt16(truncatingIfNeeded: port)), "--nflog-prefix", "toolkit"]
        let connects = base + ["--syn"] + log
        switch kind {
        case .reject:
            return [connects, base + ["--tcp-flags", "SYN,RST", "NONE"] + log,
                    base + ["-j", "REJECT", "--reject-with", "tcp-reset"]]
        case .drop:
            return [connects, base + ["--tcp-flags", "FIN", "FIN"] + log, base + ["--tcp-flags", "RST", "RST"] + log,
                    base + ["-j", "DROP"]]
        case .watch:
            return [connects]
        }
    }

    /// True when this process may change iptables (root or CAP_NET_ADMIN) and iptables works.
    public func isUsable() -> Bool {
        (try? run(["-w", "-S", "INPUT"])) != nil
    }

    /// `date` as the `time` match's `--datestop` takes it: UTC, to the second. The kernel compares
    /// whole seconds and matches through the second it names, so the second `date` falls in is
    /// the one to name: the rule stops matching at most a second after `date`, never before.
    static func timeMatchDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
    }

    /// Puts the fault in place: our chain with its rules, and our jump at the top of INPUT.
    /// `until`: when the kernel stops enforcing it by itself (see `rules(for:port:until:)`).
    public func apply(_ kind: Kind, until: Date? = nil) throws {
        try remove()
        try run(["-w", "-N", chain])
        for rule in Self.rules(for: kind, port: port, until: until) { try run(["-w", "-A", chain] + rule) }
        try run(["-w", "-I", "INPUT", "1"] + jumpRule)
    }

    /// Rewrites the rules of our chain in place (`-R`, no moment without them), e.g. with a new deadline.
    public func replaceRules(_ kind: Kind, until: Date?) throws {
        for (index, rule) in Self.rules(for: kind, port: port, until: until).enumerated() {
            try run(["-w", "-R", chain, String(index + 1)] + rule)
        }
    }

    /// Removes our jump rule(s) and our chain; leaves every other rule as it was. Idempotent.
    ///
    /// Two removals may overlap (a fault's timer expiring while `network --up` runs): a step whose
    /// target another removal took away first is not a failure, as long as it is gone.
    public func remove() throws {
        var guardCount = 0
        while (try? run(["-w", "-C", "INPUT"] + jumpRule)) != nil, guardCount < 64 {
            try removing { try run(["-w", "-D", "INPUT"] + jumpRule) } isGone: { (try? run(["-w", "-C", "INPUT"] + jumpRule)) == nil }
            guardCount += 1
        }
        if isInstalled() {
            try removing { try run(["-w", "-F", chain]) } isGone: { !isInstalled() }
            try removing { try run(["-w", "-X", chain]) } isGone: { !isInstalled() }
        }
    }

    private func removing(_ step: () throws -> Void, isGone: () -> Bool) throws {
        do { try step() } catch { if !isGone() { throw error } }
    }

    /// Whether any of ours is in place.
    public func isInstalled() -> Bool {
        (try? run(["-w", "-S", chain])) != nil
    }

    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        let result = try ChildProcess.capture(executable, arguments, timeout: .seconds(30))
        guard result.status == 0 else {
            throw IptablesFailure(arguments: arguments, message: result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return result.stdout
    }
}

public struct IptablesFailure: Error, CustomStringConvertible {
    public var arguments: [String]
    public var message: String
    public var description: String { "iptables \(arguments.joined(separator: " ")): \(message)" }
}
