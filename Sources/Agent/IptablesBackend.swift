import Foundation
import Source

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

    /// `count` only counts connection attempts (SYNs) and lets everything pass.
    public enum Kind: Sendable { case reject, drop, count }

    /// Rules of our chain for a fault: a counting rule for connection attempts (SYNs), then the verdict.
    static func rules(for kind: Kind, port: Int) -> [[String]] {
        let counter = ["-p", "tcp", "--dport", String(port), "--syn"]
        switch kind {
        case .reject: return [counter, ["-p", "tcp", "--dport", String(port), "-j", "REJECT", "--reject-with", "tcp-reset"]]
        case .drop: return [counter, ["-p", "tcp", "--dport", String(port), "-j", "DROP"]]
        case .count: return [counter]
        }
    }

    /// True when this process may change iptables (root or CAP_NET_ADMIN) and iptables works.
    public func isUsable() -> Bool {
        (try? run(["-w", "-S", "INPUT"])) != nil
    }

    /// Puts the fault in place: our chain with its rules, and our jump at the top of INPUT.
    public func apply(_ kind: Kind) throws {
        try remove()
        try run(["-w", "-N", chain])
        for rule in Self.rules(for: kind, port: port) { try run(["-w", "-A", chain] + rule) }
        try run(["-w", "-I", "INPUT", "1"] + jumpRule)
    }

    /// Removes our jump rule(s) and our chain; leaves every other rule as it was. Idempotent.
    public func remove() throws {
        var guardCount = 0
        while (try? run(["-w", "-C", "INPUT"] + jumpRule)) != nil, guardCount < 64 {
            try run(["-w", "-D", "INPUT"] + jumpRule)
            guardCount += 1
        }
        if (try? run(["-w", "-S", chain])) != nil {
            try run(["-w", "-F", chain])
            try run(["-w", "-X", chain])
        }
    }

    /// Whether any of ours is in place.
    public func isInstalled() -> Bool {
        (try? run(["-w", "-S", chain])) != nil
    }

    /// Packets counted by the SYN rule of our chain: connection attempts that met the fault.
    public func attemptCount() -> Int? {
        guard let listing = try? run(["-w", "-L", chain, "-v", "-x", "-n"]) else { return nil }
        // Chain header, column header, then rules; the first rule is the SYN counter.
        let lines = listing.split(separator: "\n").dropFirst(2)
        guard let first = lines.first else { return nil }
        return Int(first.split(separator: " ", omittingEmptySubsequences: true).first ?? "")
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
