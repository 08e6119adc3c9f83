import Agent
import AgentAPI
import ArgumentParser
import Foundation
import Infrastructure
import Source
import Tunnels

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Server, binary log, tables, connected binlog readers and CDC readiness checks.",
        discussion: "Exits 1 when the server cannot be reached (the report still prints, with server.running false).")

    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func run() throws {
        let target = try connection.target()
        var report = StatusReport.read(target)
        if let config = target.config, target.admin.host == config.host {
            let state = StateDirectory.resolve(flag: connection.home)
            if let client = try? AgentDiscovery.client(state: state), let agent = try? client.status() {
                report.agent = .init(running: true, pid: agent.pid, backend: agent.backend.rawValue, listen: agent.listen,
                                     listening: agent.gatewayListening, connections: agent.connections,
                                     faults: agent.faults.map { $0.fault.description })
                report.server.port = config.publicPort
            } else {
                report.agent = .init(running: false)
            }
            let tunnel = TunnelProcess.state(state)
            report.tunnel = tunnel.record.map { .init(provider: $0.provider.rawValue, pid: $0.pid, running: tunnel.running, publicAddress: $0.publicAddress) }
        }
        output.emit(report)
        // A server that answered but whose readiness could not be read is not a ready source.
        if !report.server.running || report.server.error != nil { throw ExitCode(1) }
    }
}
