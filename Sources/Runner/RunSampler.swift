import Foundation
import MariaDB
import Pipeline
import Source
import Synchronization
import TestCases

/// Samples rows at the source and the destination twice a second, and keeps the replica's
/// `Last_IO_Error`s and `Last_SQL_Error`s after a fault started: the messages the ETL tool
/// showed. On a thread of its own.
public final class RunSampler: RunSampling, @unchecked Sendable {
    private let target: Target
    private let replica: ReplicaPipeline?
    private let table: String
    private let state = Mutex<(samples: [Sample], errors: [ObservedMessage], faultStarted: Bool)>(([], [], false))
    private let loop = ThreadLoop()

    public init(target: Target, replica: ReplicaPipeline?, table: String) {
        self.target = target
        self.replica = replica
        self.table = table
    }

    public var samples: [Sample] { state.withLock { $0.samples } }
    public var errors: [ObservedMessage] { state.withLock { $0.errors } }

    public func faultStarted() { state.withLock { $0.faultStarted = true } }

    public func run() async { await loop.run { [self] in sample() } }

    private func sample() {
        var sourceConnection: MariaDBConnection?
        var tick = 0
        while !loop.isStopping {
            tick += 1
            if state.withLock({ $0.faultStarted && $0.errors.count < 20 }), let values = try? replica?.replicationStatus() {
                for thread in ["IO", "SQL"] {
                    guard let error = values["Last_\(thread)_Error"], !error.isEmpty else { continue }
                    let message = ObservedMessage(text: error, source: "replica Last_\(thread)_Error (errno \(values["Last_\(thread)_Errno"] ?? "?"))")
                    state.withLock { if !$0.errors.contains(message) { $0.errors.append(message) } }
                }
            }
            if tick % 5 == 1 {
                if sourceConnection == nil { sourceConnection = try? target.connect() }
                let query = "SELECT COUNT(*) FROM \(target.database).\(table)"
                let sourceRows = firstInt(try? sourceConnection?.query(query))
                if sourceRows == nil { sourceConnection?.close(); sourceConnection = nil }
                var destinationRows: Int?
                if let connection = try? replica?.connect() {
                    destinationRows = firstInt(try? connection.query(query))
                    connection.close()
                }
                let sample = Sample(at: Date().timeIntervalSince1970, sourceRows: sourceRows, destinationRows: destinationRows)
                state.withLock { $0.samples.append(sample) }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        sourceConnection?.close()
    }

    public func stop() async { await loop.stop() }
}
