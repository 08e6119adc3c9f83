import AgentAPI
import Measurements

/// The fault windows a run or a soak opened, each by its id.
enum RunWindows {
    /// Every window after `first`: from the agent's `status` (which holds only the last 20) and,
    /// for older ones, one `window` request each; without the agent (`status` nil), as its journal
    /// shows them from `journalFrom` on: its final summary where it wrote one, else measured here.
    static func collect(after first: Int, status: AgentStatus?, journalFrom: Double, world: any RunWorld) async -> [WindowReport] {
        guard let status else {
            return await Blocking.run {
                JournalTimeline(world.journal(from: journalFrom)).reports().filter { $0.window > first }
                    .map { world.journalSummary(window: $0.window) ?? $0 }
            }
        }
        let newest = status.windows.map(\.window).max() ?? 0
        guard newest > first else { return [] }
        let recent = Dictionary(status.windows.map { ($0.window, $0) }, uniquingKeysWith: { $1 })
        var windows: [WindowReport] = []
        for id in (first + 1)...newest {
            if let window = recent[id] {
                windows.append(window)
            } else if let window = try? await Blocking.call(limit: .seconds(30), { try world.window(id) }) {
                windows.append(window)
            }
        }
        return windows
    }
}
