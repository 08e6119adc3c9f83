import Agent
import AgentAPI
import Foundation
import Infrastructure
import Pipeline
import Runner
import Source
import Verification

/// What `run` and `soak` reach on this machine: the source's settings, the agent, the pipeline
/// (the managed replica, started if needed, or an external destination) and the ETL log.
struct LiveContext {
    let world: LiveRunWorld
    let target: Target
    let replica: ReplicaPipeline?
    let etlUser: String

    static func make(state: StateDirectory, home: String?, managedReplica: Bool, destination: String?, etlLog: String?) throws -> LiveContext {
        guard let source = try SourceConfig.load(from: state.configFile) else {
            throw ToolkitError("no source in \(state.root.path): run `toolkit up` first")
        }
        let agent = try AgentDiscovery.client(state: state)
        var overrides = Target.Overrides()
        overrides.home = home
        let target = try Target.resolve(overrides)
        var replica: ReplicaPipeline?
        if managedReplica {
            let managed = ReplicaPipeline(home: state)
            if try managed.status().running == false {
                writeError("starting the replica pipeline (toolkit pipeline up)")
                _ = try managed.up(source: source)
            }
            replica = managed
        }
        let world = LiveRunWorld(state: state, agent: agent, target: target, replica: replica, replicaPassword: source.adminPassword,
                                 destination: try destination.map { try DestinationAddress(parsing: $0) },
                                 destinationPassword: ProcessInfo.processInfo.environment["TOOLKIT_DEST_PASSWORD"] ?? "",
                                 executable: BackendChoice.selfExecutable(), etlLog: etlLog.map(ETLLog.init(path:)))
        return LiveContext(world: world, target: target, replica: replica, etlUser: source.etlUser)
    }
}
