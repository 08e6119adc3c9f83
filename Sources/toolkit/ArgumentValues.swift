import ArgumentParser
import Breakage
import Faults
import Infrastructure

// The typed values of the command line. A value that is not one of these is refused by the
// parser before any command runs, with one line naming the flag and what it takes (see Entry).

/// `network --type`: the connection faults. Latency and bandwidth are `--slow` faults.
extension FaultType: ExpressibleByArgument {
    public init?(argument: String) {
        guard let type = FaultType(rawValue: argument), type.isConnectionFault else { return nil }
        self = type
    }
    public static var allValueStrings: [String] { allCases.filter(\.isConnectionFault).map(\.rawValue) }
}

/// `network --only`: without the flag a fault hits every connection.
extension FaultScope: ExpressibleByArgument {
    public init?(argument: String) {
        guard let scope = FaultScope(rawValue: argument), scope != .all else { return nil }
        self = scope
    }
    public static var allValueStrings: [String] { allCases.filter { $0 != .all }.map(\.rawValue) }
}

extension BackendKind: ExpressibleByArgument {}
extension TLSMode: ExpressibleByArgument {}
extension CorruptionType: ExpressibleByArgument {}
extension SchemaChangeKind: ExpressibleByArgument {}
extension ReplicationScenarioKind: ExpressibleByArgument {}
extension TransactionRun.Kind: ExpressibleByArgument {}
extension TransactionRun.DataType: ExpressibleByArgument {}
extension TransactionRun.InterruptChoice: ExpressibleByArgument {}

/// `break --row-image`.
enum RowImage: String, CaseIterable, ExpressibleByArgument {
    case minimal, noblob, full
    init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}
