import Foundation
import Testing
@testable import TestCases

@Suite struct CaseFormatTests {
    static let seed = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Seed/TC-004-connection-refused-handling.md")

    @Test func everyBuiltinParses() throws {
        for source in BuiltinCases.sources {
            _ = try TestCase(yaml: source)
        }
        #expect(BuiltinCases.all.map(\.id) == (1...12).map { String(format: "TC-%03d", $0) })
    }

    /// `cases show TC-004` is the user's seed document, byte for byte.
    @Test func tc004ReadsLikeTheSeed() throws {
        let seed = try String(contentsOf: Self.seed, encoding: .utf8)
        let shown = CaseMarkdown.document(try #require(BuiltinCases.named("TC-004")))
        #expect(shown == seed)
        let headings = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("## ") } }
        #expect(headings(shown) == headings(seed))
    }

    @Test func everyBuiltinHasTheSeedsSections() throws {
        let seed = try String(contentsOf: Self.seed, encoding: .utf8)
        let seedHeadings = seed.split(separator: "\n").filter { $0.hasPrefix("## ") || $0.hasPrefix("| ") && $0.contains(" | ") && !$0.hasPrefix("| Field") }
            .filter { $0.hasPrefix("## ") }
        for testCase in BuiltinCases.all {
            let shown = CaseMarkdown.document(testCase)
            #expect(shown.split(separator: "\n").filter { $0.hasPrefix("## ") } == seedHeadings, "\(testCase.id)")
            for field in ["ID", "Category", "ETL Tools", "Severity", "Created", "Author"] {
                #expect(shown.contains("\n| \(field) | "), "\(testCase.id) lacks \(field)")
            }
        }
    }

    @Test func yamlRoundTrips() throws {
        for testCase in BuiltinCases.all {
            #expect(try TestCase(yaml: testCase.yaml) == testCase)
        }
    }

    @Test func badFilesAreNamedInOneLine() {
        #expect(throws: CaseFileError.self) { try TestCase(yaml: "id: TC-1\ntitle: x\n") }
        do {
            _ = try TestCase(yaml: "id: TC-1\ntitle: x\n")
        } catch {
            #expect(error.description.contains("metadata"))
            #expect(!error.description.contains("\n"))
        }
        var yaml = BuiltinCases.tc004.replacingOccurrences(of: "'${duration}'", with: "'${length}'")
        #expect(throws: CaseFileError.self) { try TestCase(yaml: yaml) }
        yaml = BuiltinCases.tc004.replacingOccurrences(of: "measure: detection", with: "measure: stopwatch")
        #expect(throws: CaseFileError.self) { try TestCase(yaml: yaml) }
    }

    @Test func parametersOverride() throws {
        let tc007 = try #require(BuiltinCases.named("tc-007"))
        let short = try tc007.overriding(["duration": 12, "interval": 3])
        #expect(short.value("${interval}") == 3)
        #expect(short.value("${duration}") == 12)
        #expect(throws: CaseFileError.self) { try tc007.overriding(["latency": 5]) }
    }

    @Test func fileNamesAreSlugs() throws {
        #expect(try #require(BuiltinCases.named("TC-004")).fileName == "TC-004-connection-refused-handling.yaml")
    }
}
