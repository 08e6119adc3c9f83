import Foundation
import Infrastructure
import Testing

/// Case files through the built binary: `cases check` refuses a bad file in one line and
/// changes nothing; `cases schema` is a JSON Schema that a validator written by others
/// (check-jsonschema, from the venv `scripts/test-deps` makes) holds every case file to.
@Suite(.tags(.endToEnd))
final class CaseFileTests {
    static let validator = (ProcessInfo.processInfo.environment["TOOLKIT_TEST_VENVS"] ?? "/opt/toolkit-test-venvs")
        + "/jsonschema/bin/check-jsonschema"

    let directory: URL
    let environment: [String: String]

    /// check-jsonschema (written by others) holds `file` to the schema `toolkit cases schema NAME` prints.
    static func validate(_ file: URL, against name: String, environment: [String: String]) throws {
        let schema = try Run.toolkit(["cases", "schema", name], environment: environment)
        #expect(schema.status == 0)
        let schemaFile = file.deletingLastPathComponent().appendingPathComponent("\(name).schema.json")
        try schema.stdout.write(to: schemaFile, atomically: true, encoding: .utf8)
        let checked = try Run.program(validator, ["--schemafile", schemaFile.path, file.path], timeout: 120)
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
    }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-case-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var env = ProcessInfo.processInfo.environment
        env["TOOLKIT_HOME"] = directory.appendingPathComponent("home").path
        environment = env
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func file(_ name: String, _ text: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Every file and its bytes under the test's directory.
    func snapshot() throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            files[url.path] = (try? Data(contentsOf: url)) ?? Data()
        }
        return files
    }

    func exported() throws -> URL {
        let cases = directory.appendingPathComponent("cases")
        let run = try Run.toolkit(["cases", "export", "--force", cases.path], environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        return cases
    }

    func tc004() throws -> String {
        try String(contentsOf: try exported().appendingPathComponent("TC-004-connection-refused-handling.yaml"), encoding: .utf8)
    }

    @Test func checkRefusesABadFileInOneLineAndChangesNothing() throws {
        let good = try tc004()
        let lines = good.split(separator: "\n", omittingEmptySubsequences: false)
        let typeLine = try #require(lines.firstIndex { $0.contains("type: reject") }) + 1
        let bad = try file("bad.yaml", good.replacingOccurrences(of: "type: reject", with: "type: rejct"))
        let before = try snapshot()
        let run = try Run.toolkit(["cases", "check", bad.path], environment: environment)
        #expect(run.status == 2)
        #expect(run.stderr == "toolkit: \(bad.path):\(typeLine): steps[2].fault.type: one of reject, timeout, service, reset, latency, got 'rejct'\n")
        #expect(run.stdout.isEmpty)
        #expect(try snapshot() == before)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("home").path))

        let fine = try Run.toolkit(["cases", "check", try exported().appendingPathComponent("TC-004-connection-refused-handling.yaml").path],
                                   environment: environment)
        #expect(fine.status == 0, "\(fine.stderr)")
        #expect(fine.stdout.contains("TC-004 ok"))
    }

    @Test func runRefusesNumbersThatDoNotFitBeforeAnythingStarts() throws {
        let report = directory.appendingPathComponent("report")
        for value in ["1e300", "inf", "nan", "0", "-5"] {
            let run = try Run.toolkit(["run", "TC-004", "--pipeline", "replica", "--set", "duration=\(value)", "--yes", "--report", report.path],
                                      environment: environment)
            #expect(run.status == 2, "\(value): \(run.stderr)")
            #expect(run.stderr.hasPrefix("toolkit: TC-004:"), "\(run.stderr)")
            #expect(run.stderr.contains(": --set duration=\(value): duration must be a whole number of seconds from 1 to 86400, got "), "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1)
        }
        let good = try tc004()
        let zero = try file("zero.yaml", good.replacingOccurrences(of: "duration: 60", with: "duration: 0"))
        let run = try Run.toolkit(["run", zero.path, "--pipeline", "replica", "--yes", "--report", report.path], environment: environment)
        #expect(run.status == 2)
        #expect(run.stderr.contains("parameters.duration: a whole number of seconds from 1 to 86400, got 0"), "\(run.stderr)")
        #expect(!run.stderr.contains("--duration"))
        #expect(!FileManager.default.fileExists(atPath: report.path))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("home").path))
    }

    @Test func aStepIsCheckedWithItsCommandsOwnFlagRules() throws {
        let good = try tc004()
        let text = good.replacingOccurrences(of: "  wait: sync\n", with: "  toolkit: [generate-data, --count, '-5']\n")
        #expect(text != good)
        let bad = try file("step.yaml", text)
        let run = try Run.toolkit(["cases", "check", bad.path], environment: environment)
        #expect(run.status == 2)
        #expect(run.stderr.hasSuffix(": steps[1].toolkit: toolkit generate-data --count -5: --count must be a whole number from 1 to 100000000, got -5\n"),
                "\(run.stderr)")
    }

    /// The table of what a step may run names only flags the commands really have.
    @Test func stepCommandsNameRealFlags() throws {
        let run = try Run.toolkit(["--experimental-dump-help"], environment: environment)
        #expect(run.status == 0)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let commands = try #require((root["command"] as? [String: Any])?["subcommands"] as? [[String: Any]])
        let allowed = try Run.toolkit(["cases", "schema"], environment: environment)
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(allowed.stdout.utf8)) as? [String: Any])
        let toolkit = (((((schema["properties"] as? [String: Any])?["steps"] as? [String: Any])?["items"] as? [String: Any])?["properties"]
            as? [String: Any])?["toolkit"] as? [String: Any]) ?? [:]
        let rules = (toolkit["allOf"] as? [[String: Any]] ?? []).compactMap { rule -> (String, [String])? in
            guard let name = (((rule["if"] as? [String: Any])?["items"] as? [[String: Any]])?.first?["const"] as? String),
                  let words = ((((rule["then"] as? [String: Any])?["items"] as? [String: Any])?["anyOf"] as? [[String: Any]])?
                    .compactMap { $0["enum"] as? [String] }.first) else { return nil }
            return (name, Array(words.dropFirst()))
        }
        #expect(rules.count == 8)
        for (name, flags) in rules {
            let command = try #require(commands.first { $0["commandName"] as? String == name }, "\(name)")
            let real = Set((command["arguments"] as? [[String: Any]] ?? []).flatMap { argument in
                (argument["names"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }.map { "--" + $0 }
            })
            for flag in flags { #expect(real.contains(flag), "\(name) has no \(flag)") }
            for forbidden in ["--home", "--config", "--host", "--port", "--socket"] { #expect(!flags.contains(forbidden)) }
        }
    }

    @Test func checkJSONSchemaAcceptsEveryCaseAndRejectsStructuralMistakes() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.validator), "run scripts/test-deps: no \(Self.validator)")
        let schemaRun = try Run.toolkit(["cases", "schema"], environment: environment)
        #expect(schemaRun.status == 0)
        let schema = try file("case.schema.json", schemaRun.stdout)
        let cases = try exported()
        let files = try FileManager.default.contentsOfDirectory(atPath: cases.path).sorted().map { cases.appendingPathComponent($0).path }
        #expect(files.count == 12)
        let all = try Run.program(Self.validator, ["--schemafile", schema.path] + files, timeout: 120)
        #expect(all.status == 0, "\(all.stdout)\(all.stderr)")

        let good = try tc004()
        let structural: [(String, String, String)] = [
            ("type", "type: reject", "type: rejct"),
            ("key", "  fault:", "  fualt:"),
            ("seconds", "seconds: ${duration}", "seconds: soon"),
            ("crash", "type: reject", "type: reject\n    crash: true"),
            ("measure", "measure: detection", "measure: detektion"),
            ("down", "  wait: sync\n", "  toolkit: [down]\n"),
            ("home", "  wait: sync\n", "  toolkit: [corrupt, --type, truncate, --home, x]\n"),
            ("path", "  wait: sync\n", "  toolkit: [cases, export, /elsewhere]\n"),
            ("restore", "restore: true", "restore: 'yes'"),
        ]
        for (name, old, new) in structural {
            let text = good.replacingOccurrences(of: old, with: new)
            #expect(text != good, "\(name): '\(old)' is not in the export: \(good)")
            let bad = try file("structural-\(name).yaml", text)
            let validated = try Run.program(Self.validator, ["--schemafile", schema.path, bad.path], timeout: 60)
            #expect(validated.status == 1, "\(name): check-jsonschema accepted it: \(validated.stdout)")
            let checked = try Run.toolkit(["cases", "check", bad.path], environment: environment)
            #expect(checked.status == 2, "\(name): \(checked.stderr)")
            #expect(checked.stderr.hasPrefix("toolkit: \(bad.path):"), "\(checked.stderr)")
        }

        // What a schema cannot say: a parameter that does not exist, a range once substituted.
        let semantic: [(String, String, String)] = [
            ("parameter", "${duration}", "${duraton}"),
            ("flags", "  wait: sync\n", "  toolkit: [corrupt, --type, zero]\n"),
        ]
        for (name, old, new) in semantic {
            let bad = try file("semantic-\(name).yaml", good.replacingOccurrences(of: old, with: new))
            let validated = try Run.program(Self.validator, ["--schemafile", schema.path, bad.path], timeout: 60)
            #expect(validated.status == 0, "\(name): \(validated.stdout)")
            let checked = try Run.toolkit(["cases", "check", bad.path], environment: environment)
            #expect(checked.status == 2, "\(name): \(checked.stderr)")
        }
    }
}
