// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "mysql-test-toolkit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "toolkit", targets: ["toolkit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
    ],
    targets: [
        // MariaDB Connector/C, from Debian's libmariadb-dev. Only the `MariaDB` module imports it.
        .systemLibrary(
            name: "CMariaDB",
            pkgConfig: "libmariadb",
            providers: [.apt(["libmariadb-dev"])]
        ),
        .target(name: "MariaDB", dependencies: ["CMariaDB"]),
        // Version-dependent SQL for MariaDB 10.6+, MySQL 8.0 and 8.4. Pure.
        .target(name: "Flavor"),
        // The MySQL source: connection settings, the managed server, bootstrap, status, data.
        .target(name: "Source", dependencies: ["MariaDB", "Flavor"]),
        .executableTarget(
            name: "toolkit",
            dependencies: [
                "Source", "Flavor", "MariaDB",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "FlavorTests", dependencies: ["Flavor"]),
        .testTarget(name: "IntegrationTests", dependencies: ["Source", "MariaDB", "Flavor"]),
    ]
)
