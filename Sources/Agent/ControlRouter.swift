import AgentAPI
import Foundation
import Infrastructure
import Logging

/// What each control request does: the request is typed by `AgentRequest` (a client's mistake is
/// answered 4xx there, before anything is acted on), then handed to the fault controller or the
/// journal. A failure of ours is a 500 and logged as an error; a client's is logged at debug.
struct ControlRouter: Sendable {
    let controller: FaultController
    let journal: Journal
    let status: @Sendable () async -> AgentStatus
    /// While the agent migrates an earlier version's journal: how far it is (faults are refused).
    let migration: @Sendable () -> JournalMigrationProgress?
    let shutdown: @Sendable () -> Void
    /// The run holding the source now, if any (`RunLock.currentHolder`).
    let runHolder: @Sendable () -> RunLockHolder?
    /// A process and its ancestors (`ProcessLineage.ancestors`).
    let lineage: @Sendable (Int32) -> [Int32]
    let log: Logger

    func answer(method: String, target: String, body: Data, peer: ControlServer.Peer) async -> ControlServer.Answer {
        do {
            return .init(status: 200, body: try await perform(try AgentRequest(method: method, target: target, body: body), peer: peer))
        } catch {
            let failure = error as? AgentFailure ?? AgentFailure(status: 500, message: "\(error)")
            let metadata: Logger.Metadata = ["status": "\(failure.status)", "error": "\(failure.message)",
                                             "target": "\(Self.loggable(target))"]
            let operation = "\(method) \(Self.loggable(String(ControlQuery.split(target).path)))"
            if failure.status >= 500 {
                log.error("\(operation) failed", metadata: metadata)
            } else {
                log.debug("\(operation) refused", metadata: metadata)
            }
            // Encoding a message and a number cannot fail; an empty body still carries the status.
            return .init(status: failure.status, body: (try? AgentRunner.encode(failure)) ?? Data(),
                         headers: failure.allow.map { [("Allow", $0)] } ?? [])
        }
    }

    private func perform(_ request: AgentRequest, peer: ControlServer.Peer) async throws -> Data {
        switch request {
        case .status:
            return try AgentRunner.encode(await status())
        case .faults(let command):
            if let progress = migration() {
                throw AgentFailure(status: 503, message: "the agent is \(progress); fault commands (network --up too) are refused until it is done and the gateway opens")
            }
            if command.action == .up { try await controller.restoreAll() } else { try await controller.handle(command) }
            let holder = self.holder(of: peer)
            journal.record(.faultCommand) { $0.detail = command.summary; $0.client = peer.description; $0.holder = holder }
            return try AgentRunner.encode(await status())
        case .note(let note):
            // Only the migration writes the journal while it runs: what it has written is found again by its order.
            if let progress = migration() {
                throw AgentFailure(status: 503, message: "the agent is \(progress); notes are refused until it is done")
            }
            journal.record(.note) { $0.detail = note.detail; $0.user = note.command }
            return try AgentRunner.encode(note)
        case .events(let since):
            let page = journal.events(since: since)
            return try AgentRunner.encode(EventPage(events: page.events, next: Int(clamping: page.next)))
        case .window(let id):
            guard let report = journal.report(window: id) else {
                throw AgentFailure(status: 404, message: "no window \(id) in the journal (windows so far: \(journal.lastWindowID))")
            }
            return try AgentRunner.encode(report)
        case .openAPI:
            return Data(AgentOperation.openAPIDocument)
        case .shutdown:
            let answer = await status()
            shutdown()
            return try AgentRunner.encode(answer)
        }
    }

    /// While a run holds the source: whether this sender is that run or a process it started
    /// (a step's `toolkit network`), so that the run can tell a fault it did not ask for.
    private func holder(of peer: ControlServer.Peer) -> Bool? {
        guard let holder = runHolder() else { return nil }
        guard case .process(let pid) = peer else { return false }
        return lineage(pid).contains(holder.pid)
    }

    /// A request target in a log line: bounded, so a 70 KB path does not become a 70 KB line.
    static func loggable(_ target: String) -> String {
        target.utf8.count > 200 ? String(decoding: target.utf8.prefix(200), as: UTF8.self) + "…" : target
    }
}
