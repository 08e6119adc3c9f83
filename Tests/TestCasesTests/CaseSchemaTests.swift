import Faults
import Foundation
import Measurements
import Testing
@testable import TestCases

/// The JSON Schema and the Swift parser say the same: every key one accepts, the other does.
@Suite struct CaseSchemaTests {
    static func fields(_ shape: CaseShape) -> [CaseField] {
        if case .object(let fields, _) = shape { return fields }
        return []
    }

    static func properties(_ schema: [String: Any], _ path: [String]) -> [String: Any] {
        var node: Any = schema
        for key in path {
            if let object = node as? [String: Any] {
                if key == "[]", let items = object["items"] { node = items } else { node = (object["properties"] as? [String: Any])?[key] as Any }
            }
        }
        return ((node as? [String: Any])?["properties"] as? [String: Any]) ?? [:]
    }

    @Test func theFormatHasExactlyTheKeysTheParserReads() {
        let pairs: [(CaseShape, [String])] = [
            (CaseFormat.testCase, TestCase.CodingKeys.allCases.map(\.rawValue)),
            (CaseFormat.metadata, CaseMetadata.CodingKeys.allCases.map(\.rawValue)),
            (CaseFormat.step, CaseStep.CodingKeys.allCases.map(\.rawValue)),
            (CaseFormat.fault, FaultStep.CodingKeys.allCases.map(\.rawValue)),
            (CaseFormat.checklistItem, ChecklistItem.CodingKeys.allCases.map(\.rawValue)),
        ]
        for (shape, keys) in pairs {
            #expect(Set(Self.fields(shape).map(\.name)) == Set(keys))
        }
    }

    @Test func theSchemaHasExactlyTheKeysTheParserReads() throws {
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(CaseSchema.json.utf8)) as? [String: Any])
        #expect(schema["$schema"] as? String == "http://json-schema.org/draft-07/schema#")
        #expect(Set(Self.properties(schema, []).keys) == Set(TestCase.CodingKeys.allCases.map(\.rawValue)))
        #expect(Set(Self.properties(schema, ["metadata"]).keys) == Set(CaseMetadata.CodingKeys.allCases.map(\.rawValue)))
        #expect(Set(Self.properties(schema, ["steps", "[]"]).keys) == Set(CaseStep.CodingKeys.allCases.map(\.rawValue)))
        #expect(Set(Self.properties(schema, ["steps", "[]", "fault"]).keys) == Set(FaultStep.CodingKeys.allCases.map(\.rawValue)))
        #expect(Set(Self.properties(schema, ["checklist", "[]"]).keys) == Set(ChecklistItem.CodingKeys.allCases.map(\.rawValue)))
        let measure = Self.properties(schema, ["checklist", "[]"])["measure"] as? [String: Any]
        #expect(measure?["enum"] as? [String] == Measure.allCases.map(\.rawValue))
        #expect(schema["additionalProperties"] as? Bool == false)
    }

    @Test func faultTypesAreTheFaultModelsOwn() {
        for type in CaseFormat.faultTypes { #expect(FaultType(rawValue: type) != nil, "\(type)") }
    }

    @Test func theSchemaIsTheSameEveryTime() {
        #expect(CaseSchema.json == CaseSchema.json)
        #expect(CaseSchema.json.hasSuffix("}\n"))
    }
}

/// INCONCLUSIVE: a step that failed, in every output, and which verdict wins.
@Suite struct InconclusiveTests {
    @Test func verdictsRankAndExit() {
        #expect(RunVerdict.worst([.pass, .inconclusive, .fail]) == .inconclusive)
        #expect(RunVerdict.worst([.inconclusive, .interrupted]) == .interrupted)
        #expect(RunVerdict.worst([.blocked, .inconclusive]) == .inconclusive)
        #expect(RunVerdict.worst([.fail, .blocked]) == .blocked)
        #expect(RunVerdict.worst([]) == .pass)
        #expect(RunVerdict.allCases.map(\.exitCode) == [0, 1, 3, 4, 130])
    }

    static func report() -> RunReport {
        var report = RunReport(caseID: "TC-002", title: "Binlog Corruption Recovery", started: 1_700_000_000, finished: 1_700_000_010,
                               tester: "CI", etlTool: "replica", toolkitVersion: "1.0.0", pipeline: "replica",
                               parameters: ["duration": 60], verdict: .pass)
        report.items = [ItemResult(text: "data", measure: .data, verdict: .pass, evidence: "destination matches the source (5 rows)")]
        report.markInconclusive(.step(number: 2, command: "toolkit corrupt --type magic-number",
                                      detail: "exit 1: toolkit: no binlog file on this host"))
        return report
    }

    @Test func aFailedStepIsNamedInEveryOutput() throws {
        let report = Self.report()
        #expect(report.verdict == .inconclusive)
        #expect(report.reason == "step 2: toolkit corrupt --type magic-number failed (exit 1: toolkit: no binlog file on this host)")
        let junit = JUnitReport.render(report)
        #expect(junit.contains("<error message=\"INCONCLUSIVE: step 2: toolkit corrupt --type magic-number failed (exit 1: toolkit: no binlog file on this host)\" type=\"INCONCLUSIVE\"/>"))
        #expect(junit.contains("errors=\"1\""))
        let markdown = CaseMarkdown.document(try #require(BuiltinCases.named("TC-002")), run: report)
        #expect(markdown.contains("| Result | INCONCLUSIVE |"))
        #expect(markdown.contains("INCONCLUSIVE: step 2: toolkit corrupt --type magic-number failed (exit 1: toolkit: no binlog file on this host)"))
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]
        let causes = json?["inconclusive"] as? [[String: Any]]
        #expect(causes?.first?["kind"] as? String == "step")
        #expect(causes?.first?["subject"] as? String == "step 2: toolkit corrupt --type magic-number")
        #expect(TimelinePage.render(report).contains("class=\"verdict INCONCLUSIVE\""))
    }

    @Test func anInterruptedRunStaysInterrupted() {
        var report = Self.report()
        report.verdict = .interrupted
        report.reason = "interrupted by SIGTERM"
        report.markInconclusive(.step(number: 3, command: "toolkit restore --all", detail: "exit 1"))
        #expect(report.verdict == .interrupted)
        #expect(report.reason == "interrupted by SIGTERM")
        #expect(report.inconclusive.count == 2)
        report.settle(checklist: .pass)
        #expect(report.verdict == .interrupted)
        #expect(report.reason?.hasPrefix("interrupted by SIGTERM; step 2: toolkit corrupt") == true, "\(report.reason ?? "")")
    }

    /// A failed restore > interrupted > inconclusive > blocked > the checklist's FAIL or PASS.
    @Test func settleRanksEveryCause() {
        func settled(_ verdict: RunVerdict, _ causes: [InconclusiveCause], checklist: RunVerdict) -> RunVerdict {
            var report = Self.report()
            report.inconclusive = []
            report.verdict = verdict
            for cause in causes { report.markInconclusive(cause) }
            report.settle(checklist: checklist)
            return report.verdict
        }
        let restore = InconclusiveCause.restoreFailed("the agent does not answer")
        let restarted = InconclusiveCause(kind: .agentRestarted, subject: "the agent restarted at 10:00:00 UTC", detail: "after ...")
        #expect(settled(.interrupted, [restore], checklist: .pass) == .inconclusive)
        #expect(settled(.interrupted, [restarted], checklist: .pass) == .interrupted)
        #expect(settled(.fail, [restarted], checklist: .pass) == .inconclusive)
        #expect(settled(.blocked, [restarted], checklist: .pass) == .inconclusive)
        #expect(settled(.blocked, [], checklist: .pass) == .blocked)
        #expect(settled(.pass, [], checklist: .fail) == .fail)
        #expect(settled(.fail, [], checklist: .pass) == .pass)
        var report = Self.report()
        report.verdict = .interrupted
        report.reason = "interrupted by SIGINT (Ctrl-C)"
        report.markInconclusive(restore)
        report.settle(checklist: .pass)
        #expect(report.verdict == .inconclusive)
        #expect(report.reason?.contains("the final restore (network --up) failed (the agent does not answer)") == true)
        #expect(report.reason?.hasSuffix("; interrupted by SIGINT (Ctrl-C)") == true, "\(report.reason ?? "")")
    }

    /// What the journal shows around a run: a restart, someone else's fault command, `toolkit down`.
    @Test func toolingCausesComeFromTheJournal() throws {
        let events = [
            JournalEvent(at: 1_700_000_001, kind: .faultCommand, client: "pid 10", detail: "down reject for 10 s", holder: true),
            JournalEvent(at: 1_700_000_002, kind: .faultCommand, client: "pid 99", detail: "down reject for 20 s", holder: false),
            JournalEvent(at: 1_700_000_003, kind: .faultCommand, client: "pid 98", detail: "up"),
            JournalEvent(at: 1_700_000_004, kind: .agentRestarted, detail: "the previous agent (pid 7) was killed by signal 9"),
            JournalEvent(at: 1_700_000_005, kind: .note, user: "corrupt", detail: "corrupted mysql-bin.000001"),
            JournalEvent(at: 1_700_000_006, kind: .note, user: "down", detail: "toolkit down --force while run TC-004 (pid 10) held the source"),
        ]
        let causes = InconclusiveCause.tooling(in: events)
        #expect(causes.map(\.kind) == [.foreignFault, .agentRestarted, .sourceDown])
        #expect(causes[0].line == "a fault the run did not start: `down reject for 20 s` at 22:13:22 UTC from pid 99")
        #expect(causes[1].line.hasPrefix("the agent restarted at 22:13:24 UTC: after the previous agent (pid 7) was killed by signal 9"))
        #expect(causes[2].line == "the source was stopped at 22:13:26 UTC: toolkit down --force while run TC-004 (pid 10) held the source")
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(causes[1])) as? [String: Any]
        #expect(json?["kind"] as? String == "agent_restarted")
    }
}
