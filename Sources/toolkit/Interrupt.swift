import Foundation
import Synchronization

/// Ctrl-C as a flag that long-running commands check between steps.
enum Interrupt {
    private static let flag = Atomic<Bool>(false)

    static func install() {
        signal(SIGINT) { _ in Interrupt.flag.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in Interrupt.flag.store(true, ordering: .relaxed) }
    }

    static var requested: Bool { flag.load(ordering: .relaxed) }

    /// Sleeps up to `seconds`, waking early on Ctrl-C.
    static func sleep(seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while !requested, Date() < end {
            Thread.sleep(forTimeInterval: min(0.05, max(0, end.timeIntervalSinceNow)))
        }
    }
}
