import Agent
import ArgumentParser
import Foundation
import Infrastructure

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the agent in the foreground (toolkit up starts it for you).",
        discussion: "The agent owns the gateway, every fault and timer, the journal and the control API (a Unix socket in run/ only this account can use, or TCP with a token when up --control asks for it).")

    @Option(help: "State directory (env TOOLKIT_HOME).")
    var home: String?

    @Flag(help: "Run the agent as a child and start it again if it dies (toolkit up runs the agent this way).")
    var supervise = false

    @Option(help: .hidden)
    var restartedAfter: String?

    func run() async throws {
        let state = StateDirectory.resolve(flag: home)
        if supervise {
            let status = try AgentSupervisor.run(state: state)
            if status != 0 { throw ExitCode(status) }
            return
        }
        guard let config = try SourceConfig.load(from: state.configFile) else {
            throw ToolkitError("no source is configured in \(state.root.path); run `toolkit up` first")
        }
        try await AgentRunner.run(.init(state: state, config: config, restartedAfter: restartedAfter))
    }
}
