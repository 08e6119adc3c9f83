import Foundation
import Synchronization

/// Ctrl-C, SIGTERM or SIGHUP as a flag that long-running commands check between steps, with
/// the signal that set it.
enum Interrupt {
    private static let number = Atomic<Int32>(0)

    static func install() {
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { received in _ = Interrupt.number.compareExchange(expected: 0, desired: received, ordering: .relaxed) }
        }
    }

    static var requested: Bool { number.load(ordering: .relaxed) != 0 }

    /// "SIGINT (Ctrl-C)", "SIGTERM", "SIGHUP (the terminal closed)"; nil before any.
    static var signalName: String? {
        switch number.load(ordering: .relaxed) {
        case 0: nil
        case SIGINT: "SIGINT (Ctrl-C)"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP (the terminal closed)"
        case let other: "signal \(other)"
        }
    }

    /// Sleeps up to `seconds`, waking early on a signal.
    static func sleep(seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while !requested, Date() < end {
            Thread.sleep(forTimeInterval: min(0.05, max(0, end.timeIntervalSinceNow)))
        }
    }
}
