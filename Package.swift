// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "mysql-test-toolkit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "toolkit", targets: ["toolkit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"6.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // MariaDB Connector/C, from Debian's libmariadb-dev. Only the `MariaDB` module imports it.
        .systemLibrary(
            name: "CMariaDB",
            pkgConfig: "libmariadb",
            providers: [.apt(["libmariadb-dev"])]
        ),
        .target(name: "MariaDB", dependencies: ["CMariaDB"]),
        // libpq, from Debian's libpq-dev (PGPASSWORD, ~/.pgpass, PGSSLMODE as libpq defines them).
        // Only the `PostgreSQL` module imports it.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(name: "PostgreSQL", dependencies: ["CLibPQ"]),
        // posix_spawn's GNU extensions (close inherited descriptors, new session), for ChildProcess.
        .target(name: "CSpawn"),
        // What the toolkit owns on the host: the state directory and its `toolkit.json`, trusted paths,
        // child processes, loopback ports, the toolkit's CA, the one-line error type.
        .target(name: "Infrastructure", dependencies: ["CSpawn"]),
        // Version-dependent SQL for MariaDB 10.6+, MySQL 8.0 and 8.4. Pure.
        .target(name: "Flavor"),
        // The fault model: fault specs and their limits, the outage/flap schedule (generic over Clock)
        // and its record for a restarted agent. Pure.
        .target(name: "Faults"),
        // The journal and what is measured from it: events and their codec, the timeline, fault windows,
        // connection attempts, resume verdicts, binlog positions and GTID sets. Pure.
        .target(name: "Measurements", dependencies: ["Faults"]),
        // The agent's control API: its operations, typed requests and message types, its OpenAPI
        // document (embedded, served at GET /openapi.json), and the one client every caller uses.
        .target(name: "AgentAPI", dependencies: ["Faults", "Measurements", "Infrastructure"],
                resources: [.embedInCode("openapi.json")]),
        // Passive MySQL protocol observer: handshake user, binlog dump requests, binlog positions. Pure.
        .target(name: "MySQLProtocol"),
        // The nfnetlink_log (NFLOG) wire format: bind requests, acknowledgements and the TCP packets
        // the kernel logs from the toolkit's iptables rules. Pure: bytes in, values out.
        .target(name: "NetfilterLog"),
        // The SwiftNIO TCP proxy in front of the server, with connection faults and shaping; the NFLOG socket.
        .target(name: "Gateway", dependencies: [
            "NetfilterLog",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // The long-running agent: gateway + protocol taps, fault backends and timers, journal, control API.
        .target(name: "Agent", dependencies: [
            "Gateway", "MySQLProtocol", "NetfilterLog", "Faults", "Measurements", "AgentAPI", "Infrastructure", "Source", "MariaDB",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The MySQL source: connection settings, the managed server, bootstrap, status, data.
        .target(name: "Source", dependencies: ["Infrastructure", "MariaDB", "Flavor"]),
        // Breakages beyond the network: transactions, DDL, replication scenarios, binlog corruption, connections.
        .target(name: "Breakage", dependencies: [
            "Infrastructure", "Source", "MariaDB", "Flavor", "AgentAPI",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Test cases: the case file format, the built-in cases, checklist verdicts and the run reports. Pure.
        .target(name: "TestCases", dependencies: ["Faults", "Measurements", "Verification", .product(name: "Yams", package: "Yams")]),
        // The managed pipeline: a second server replicating from the source through the gateway.
        .target(name: "Pipeline", dependencies: ["Infrastructure", "Source", "MariaDB", "Flavor"]),
        // `verify`'s comparison: the row model, normalisation, ETL profiles, change-log folding,
        // the set-checker's classes. Pure.
        .target(name: "Verification"),
        // The readers `verify` compares: the source, PostgreSQL, MySQL, JSONL and CSV destinations, a warehouse's CLI.
        .target(name: "Destinations", dependencies: ["Verification", "PostgreSQL", "MariaDB", "Flavor", "Infrastructure"]),
        // Tunnels that expose the gateway to SaaS tools (ssh -R, ngrok, cloudflared): plans are pure, processes by pid.
        .target(name: "Tunnels", dependencies: ["Infrastructure"]),
        // The case runner `run` is a thin command on: preconditions, steps beside the toolkit's own load,
        // waits and data checks, with its world (agent, journal, source, pipeline, destination), clock
        // and reporter injected; the soak runner `soak` is, on the same world; the live world, load,
        // history workload and heartbeat for this machine.
        .target(name: "Runner", dependencies: [
            "AgentAPI", "Agent", "Faults", "Measurements", "TestCases", "Verification", "Destinations", "Pipeline", "Source",
            "MariaDB", "Infrastructure", "Soak", "Breakage",
        ]),
        // The soak: its options, the seeded schedule of fault windows and checkpoints, the lengths and
        // ranges of its command line, its history, checker and report. Pure.
        .target(name: "Soak", dependencies: ["Measurements", "Verification"]),
        .executableTarget(
            name: "toolkit",
            dependencies: [
                "Infrastructure", "Source", "Flavor", "MariaDB", "Faults", "Measurements", "AgentAPI", "Agent", "Breakage", "Verification", "Destinations", "Tunnels",
                "TestCases", "Pipeline", "Runner", "Soak",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // The JSON Schemas of `run`'s and `soak`'s result.json (`toolkit cases schema run-result|soak-result`).
            resources: [.embedInCode("Schemas/run-result.schema.json"), .embedInCode("Schemas/soak-result.schema.json")]
        ),
        .testTarget(name: "FlavorTests", dependencies: ["Flavor"]),
        .testTarget(name: "InfrastructureTests", dependencies: ["Infrastructure"]),
        .testTarget(name: "AgentAPITests", dependencies: ["AgentAPI", "Faults", "Measurements"]),
        .testTarget(name: "TunnelsTests", dependencies: ["Tunnels"]),
        .testTarget(name: "FaultsTests", dependencies: ["Faults"]),
        .testTarget(name: "SoakTests", dependencies: ["Soak", "Verification", "Measurements", "Faults"]),
        .testTarget(name: "MeasurementsTests", dependencies: ["Measurements", "Faults"]),
        .testTarget(name: "BreakageTests", dependencies: ["Breakage"]),
        .testTarget(name: "TestCasesTests", dependencies: ["TestCases", "Faults", "Measurements", "Verification"], exclude: ["Seed"]),
        .testTarget(name: "RunnerTests", dependencies: ["Runner", "TestCases", "AgentAPI", "Faults", "Measurements", "Verification", "Pipeline", "Source"]),
        .testTarget(name: "MySQLProtocolTests", dependencies: ["MySQLProtocol"]),
        .testTarget(name: "NetfilterLogTests", dependencies: ["NetfilterLog"]),
        .testTarget(name: "GatewayTests", dependencies: [
            "Gateway",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .testTarget(name: "VerificationTests", dependencies: ["Verification"]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "Infrastructure", "Source", "MariaDB", "Flavor", "Faults", "Measurements", "AgentAPI", "Agent", "PostgreSQL", "Verification", "Destinations", "Pipeline",
            "TestCases",
        ]),
    ]
)

// libFuzzer targets for the parsers that read bytes from outside (`scripts/fuzz`, Linux). Declared only
// when TOOLKIT_FUZZ=1, so a normal build or test run never sees them; they depend on pure modules only,
// so the fuzz build compiles no NIO or BoringSSL. See Fuzz/README.md.
if Context.environment["TOOLKIT_FUZZ"] == "1" {
    package.targets += [
        .target(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .target(name: "ConversationFuzzing", dependencies: ["MySQLProtocol"], path: "Fuzz/ConversationFuzzing"),
        .executableTarget(name: "MySQLObserverFuzz", dependencies: ["ConversationFuzzing", "CLibFuzzer"], path: "Fuzz/MySQLObserverFuzz"),
        .executableTarget(name: "BinlogStreamFuzz", dependencies: ["ConversationFuzzing", "CLibFuzzer"], path: "Fuzz/BinlogStreamFuzz"),
        .executableTarget(name: "NflogFuzz", dependencies: ["NetfilterLog", "CLibFuzzer"], path: "Fuzz/NflogFuzz"),
        .executableTarget(name: "ControlRequestFuzz", dependencies: ["AgentAPI", "CLibFuzzer"], path: "Fuzz/ControlRequestFuzz"),
    ]
}
