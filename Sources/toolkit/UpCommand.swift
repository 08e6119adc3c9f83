import ArgumentParser
import Foundation
import Source

struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Create (first time), start and bootstrap the local CDC-ready source.",
        discussion: """
        Passwords come from the environment, never from flags: MYSQL_ROOT_PASSWORD (admin, default \
        rootpassword) and TOOLKIT_ETL_PASSWORD (default hevopassword). MYSQL_DATABASE names the database.
        """
    )

    @Option(help: "Port ETL tools connect to, on 127.0.0.1.")
    var port = 3306

    @Option(name: .customLong("etl-user"), help: "The ETL user (env TOOLKIT_ETL_USER). Default hevo.")
    var etlUser: String?

    @Option(help: "State directory (env TOOLKIT_HOME).")
    var home: String?

    @OptionGroup var output: OutputFlags

    func validate() throws {
        guard (1...65535).contains(port) else {
            throw ValidationError("--port must be a port number from 1 to 65535, got \(port)")
        }
        if let etlUser, !SQLIdentifier.isValid(etlUser) || etlUser.count > 32 {
            throw ValidationError("--etl-user must be a plain name of at most 32 characters, got '\(etlUser)'")
        }
        if let database = env("MYSQL_DATABASE"), !SQLIdentifier.isValid(database) {
            throw ValidationError("MYSQL_DATABASE must be a plain name (letters, digits, _ and $), got '\(database)'")
        }
    }

    func run() throws {
        let state = StateDirectory.resolve(flag: home)
        let request = ManagedSource.UpRequest(
            publicPort: port,
            database: env("MYSQL_DATABASE") ?? Target.defaultDatabase,
            adminPassword: env("MYSQL_ROOT_PASSWORD") ?? Target.defaultAdminPassword,
            etlUser: etlUser ?? env("TOOLKIT_ETL_USER") ?? Target.defaultETLUser,
            etlPassword: env("TOOLKIT_ETL_PASSWORD") ?? Target.defaultETLPassword)
        output.emit(try ManagedSource(state: state).up(request))
    }
}

struct DownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down", abstract: "Stop the local source cleanly; its data stays unless --purge.")

    @Flag(help: "Also remove the data directory and configuration that up created.")
    var purge = false

    @Option(help: "State directory (env TOOLKIT_HOME).")
    var home: String?

    @OptionGroup var output: OutputFlags

    func run() throws {
        output.emit(try ManagedSource(state: StateDirectory.resolve(flag: home)).down(purge: purge))
    }
}

func env(_ name: String) -> String? {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
    return value
}
