import Agent
import Foundation
import Infrastructure
import Testing

/// Removing our chain while another removal of it runs (a fault's timer expiring during
/// `network --up`) must succeed and leave nothing, never fail on "No chain by that name".
@Suite("iptables: overlapping removals of our own chain", .tags(.integration),
       .enabled(if: geteuid() == 0 && IptablesBackend(port: 1) != nil, "needs root and iptables"))
struct IptablesRemovalTests {
    @Test func overlappingRemovalsBothSucceed() throws {
        let port = PortProbe.ephemeral()
        let backend = try #require(IptablesBackend(port: port))
        defer { try? backend.remove() }
        for _ in 0..<8 {
            try backend.apply(.reject)
            #expect(backend.isInstalled())
            let failures = Locked<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                do { try backend.remove() } catch { failures.update { $0.append("\(error)") } }
            }
            #expect(failures.get().isEmpty, "\(failures.get())")
            #expect(!backend.isInstalled())
            let rules = try Run.program(backend.executable, ["-w", "-S", "INPUT"]).stdout
            #expect(!rules.contains("TOOLKIT-\(port)"))
        }
    }
}
