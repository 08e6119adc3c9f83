import Foundation
import Testing
@testable import TestCases

/// `CaseCheck`: every mistake in a case file is refused before anything runs, in one line
/// `FILE:LINE: field: what is allowed`.
@Suite struct CaseCheckTests {
    static let tc004 = BuiltinCases.tc004
    static let tc007 = BuiltinCases.tc007

    /// The line of the first line of `text` that contains `marker` (1-based).
    static func line(of marker: String, in text: String) -> Int {
        (text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(marker) } ?? -1) + 1
    }

    /// The one line `CaseCheck` refuses `text` with (the file named "f.yaml").
    static func refusal(_ text: String, overrides: [CaseOverride] = [], commandCheck: CaseCheck.CommandCheck? = nil) -> String {
        do {
            _ = try CaseCheck.load(text, file: "f.yaml", overrides: overrides, commandCheck: commandCheck)
            return "accepted"
        } catch {
            return error.description
        }
    }

    static func replacing(_ old: String, _ new: String, in text: String = tc004) -> String {
        precondition(text.contains(old), "\(old) is not in the case")
        return text.replacingOccurrences(of: old, with: new)
    }

    @Test func everyBuiltinAndExportedCasePasses() throws {
        for (index, source) in BuiltinCases.sources.enumerated() {
            let testCase = try CaseCheck.load(source, file: "builtin \(index + 1)")
            let exported = try CaseCheck.load(testCase.yaml, file: testCase.fileName)
            #expect(exported == testCase)
        }
    }

    @Test func exportedNumbersAreWrittenAsPeopleWriteThem() throws {
        let yaml = try #require(BuiltinCases.named("TC-004")).yaml
        #expect(yaml.contains("duration: 60\n"), "\(yaml)")
        #expect(yaml.contains("within: 30\n"))
        #expect(!yaml.contains("e+"))
        var testCase = try #require(BuiltinCases.named("TC-004"))
        testCase.parameters["duration"] = 2.5
        #expect(testCase.yaml.contains("duration: 2.5\n"))
    }

    @Test func aTypoInAFaultTypeIsRefused() {
        let text = Self.replacing("{type: reject, seconds: '${duration}'}", "{type: rejct, seconds: '${duration}'}")
        let line = Self.line(of: "type: rejct", in: text)
        #expect(Self.refusal(text) == "f.yaml:\(line): steps[2].fault.type: one of reject, timeout, service, reset, latency, got 'rejct'")
    }

    @Test func anUnknownStepKeyIsRefused() {
        let text = Self.replacing("    fault: {type: reject", "    fualt: {type: reject")
        let line = Self.line(of: "fualt:", in: text)
        #expect(Self.refusal(text) == "f.yaml:\(line): steps[2].fualt: unknown key; here has text, observe, fault, toolkit, restore, wait")
    }

    @Test func unknownKeysAreRefusedAtEveryLevel() {
        var text = Self.replacing("  severity: High\n", "  severity: High\n  severty: Low\n")
        #expect(Self.refusal(text) == "f.yaml:\(Self.line(of: "severty", in: text)): metadata.severty: unknown key; here has category, etl_tools, severity, created, author")
        text = Self.replacing("id: TC-004\n", "id: TC-004\nowner: me\n")
        #expect(Self.refusal(text).hasPrefix("f.yaml:2: owner: unknown key; a case has id, title, metadata,"))
        text = Self.replacing("    within: 30\n", "    within: 30\n    withn: 5\n")
        #expect(Self.refusal(text) == "f.yaml:\(Self.line(of: "withn", in: text)): checklist[1].withn: unknown key; here has text, measure, within, pattern, window")
    }

    @Test func secondsThatAreNotANumberAreRefused() {
        let text = Self.replacing("seconds: '${duration}'}", "seconds: 'soon'}")
        #expect(Self.refusal(text) == "f.yaml:\(Self.line(of: "'soon'", in: text)): steps[2].fault.seconds: a whole number of seconds from 1 to 86400, or ${parameter}, got 'soon'")
    }

    @Test func crashGoesOnlyWithAServiceFault() throws {
        let text = Self.replacing("{type: reject, seconds: '${duration}'}", "{type: reject, seconds: '${duration}', crash: true}")
        #expect(Self.refusal(text) == "f.yaml:\(Self.line(of: "crash: true", in: text)): steps[2].fault.crash: goes only with type service, got type reject")
        let service = Self.replacing("{type: reject, seconds: '${duration}'}", "{type: service, seconds: '${duration}', crash: true}")
        let testCase = try CaseCheck.load(service, file: "f.yaml")
        #expect(testCase.steps[1].fault?.crash == true)
        #expect(testCase.yaml.contains("crash: true"))
    }

    @Test func whatWasRefusedBeforeIsStillRefused() {
        var text = Self.replacing("measure: detection", "measure: detektion")
        #expect(Self.refusal(text) == "f.yaml:\(Self.line(of: "detektion", in: text)): checklist[1].measure: one of detection, error_message, recovery, reconnect_every_cycle, position, data, stays_connected, pipeline_running, manual, got 'detektion'")
        text = Self.replacing("'${duration}'", "'${duraton}'")
        #expect(Self.refusal(text) == "f.yaml:\(Self.line(of: "duraton", in: text)): steps[2].fault.seconds: ${duraton} is not among the case's parameters (it has: duration)")
        text = Self.replacing("title: Connection Refused Handling\n", "title: [unclosed\n")
        #expect(Self.refusal(text).hasPrefix("f.yaml:"))
        #expect(Self.refusal(text).contains(": the file: YAML: "))
        #expect(!Self.refusal(text).contains("\n"))
    }

    @Test func wrongTypesAreRefused() {
        var text = Self.replacing("restore: true", "restore: yes")
        #expect(Self.refusal(text) == "f.yaml:\(Self.line(of: "restore: yes", in: text)): steps[4].restore: true or false, got 'yes'")
        text = Self.replacing("within: 30", "within: '30'")
        #expect(Self.refusal(text) == "f.yaml:\(Self.line(of: "within: '30'", in: text)): checklist[1].within: a number of seconds from 0.001 to 86400, got '30'")
        text = Self.replacing("title: Connection Refused Handling", "title: 1234")
        #expect(Self.refusal(text) == "f.yaml:2: title: text (quote it: '1234'), got a number")
        text = Self.replacing("preconditions:\n", "preconditions: none\nx:\n")
        #expect(Self.refusal(text).hasPrefix("f.yaml:\(Self.line(of: "preconditions: none", in: text)): preconditions: a list, got 'none'"))
        text = Self.replacing("    wait: recovery", "    wait: forever")
        #expect(Self.refusal(text) == "f.yaml:\(Self.line(of: "wait: forever", in: text)): steps[5].wait: one of recovery, sync, got 'forever'")
    }

    @Test func structuralMistakesAreRefused() {
        var text = Self.replacing("title: Connection Refused Handling\n", "")
        #expect(Self.refusal(text) == "f.yaml:1: title: required: The case's title.")
        text = Self.replacing("    wait: sync\n", "    wait: sync\n    restore: true\n")
        #expect(Self.refusal(text) == "f.yaml:\(Self.line(of: "restore: true", in: text)): steps[1]: one action at most (fault, toolkit, restore, wait), got wait and restore")
        text = Self.replacing("title: Connection Refused Handling\n", "title: Connection Refused Handling\ntitle: Again\n")
        #expect(Self.refusal(text) == "f.yaml:3: title: given twice (first on line 2)")
        text = Self.replacing("{type: reject, seconds: '${duration}'}", "{type: reset, seconds: '${duration}'}")
        #expect(Self.refusal(text) == "f.yaml:\(Self.line(of: "type: reset", in: text)): steps[2].fault.seconds: goes only with type reject, timeout, service, latency, got type reset")
        text = Self.replacing("{type: reject, seconds: '${duration}'}", "{type: timeout}")
        #expect(Self.refusal(text) == "f.yaml:\(Self.line(of: "type: timeout", in: text)): steps[2].fault.seconds: required with type timeout")
        text = Self.replacing("id: TC-004", "id: TC 004")
        #expect(Self.refusal(text) == "f.yaml:1: id: letters, digits, - and _, got 'TC 004'")
    }

    @Test func numbersOutOfRangeInTheCaseAreRefused() {
        for (value, shown) in [("0", "0"), ("-5", "-5"), ("1e300", "1e300"), (".inf", ".inf"), (".nan", ".nan"), ("2.5", "2.5")] {
            let text = Self.replacing("  duration: 60\n", "  duration: \(value)\n")
            #expect(Self.refusal(text) == "f.yaml:\(Self.line(of: "  duration: \(value)", in: text)): parameters.duration: a whole number of seconds from 1 to 86400, got \(shown)")
        }
        let inPlace = Self.replacing("seconds: '${duration}'}", "seconds: 1e300}")
        #expect(Self.refusal(inPlace) == "f.yaml:\(Self.line(of: "1e300", in: inPlace)): steps[2].fault.seconds: a whole number of seconds from 1 to 86400, got 1e300")
        // A parameter no built-in rule covers, used where a range applies.
        let flap = Self.replacing("{duration: 300, interval: 30}", "{duration: 300, interval: 0}", in: Self.tc007)
        #expect(Self.refusal(flap) == "f.yaml:\(Self.line(of: "interval: '${interval}'", in: flap)): steps[2].fault.interval: a whole number of seconds from 1 to 3600, got 0 (${interval}, parameters line \(Self.line(of: "interval: 0", in: flap)))")
        let within = Self.replacing("within: 30", "within: -1")
        #expect(Self.refusal(within) == "f.yaml:\(Self.line(of: "within: -1", in: within)): checklist[1].within: a number of seconds from 0.001 to 86400, got -1")
    }

    @Test func overridesAreRangeCheckedNamingTheirFlag() {
        let parameters = Self.line(of: "  duration: 60", in: Self.tc004)
        for value in [1e300, .infinity, .nan, 0, -5] {
            let text = value.isNaN ? "nan" : value.isInfinite ? "inf" : value == 1e300 ? "1e300" : String(Int(value))
            let override = CaseOverride(name: "duration", value: value, origin: "--set duration=\(text)")
            let shown = value == 1e300 ? "1e+300" : value.isNaN ? "nan" : value.isInfinite ? "inf" : text
            #expect(Self.refusal(Self.tc004, overrides: [override])
                    == "f.yaml:\(parameters): --set duration=\(text): duration must be a whole number of seconds from 1 to 86400, got \(shown)")
        }
        let interval = CaseOverride(name: "interval", value: 0, origin: "--set interval=0")
        #expect(Self.refusal(Self.tc007, overrides: [interval])
                == "f.yaml:\(Self.line(of: "interval: '${interval}'", in: Self.tc007)): steps[2].fault.interval: a whole number of seconds from 1 to 3600, got 0 (${interval}, from --set interval=0)")
        let longer = CaseOverride(name: "interval", value: 600, origin: "--set interval=600")
        #expect(Self.refusal(Self.tc007, overrides: [longer])
                == "f.yaml:\(Self.line(of: "interval: '${interval}'", in: Self.tc007)): steps[2].fault.seconds: at least the interval (600 s) when flapping, got 300")
        let unknown = CaseOverride(name: "speed", value: 3, origin: "--set speed=3")
        #expect(Self.refusal(Self.tc007, overrides: [unknown]).hasSuffix(": --set speed=3: TC-007 has no parameter 'speed' (it has: duration, interval, recovery_within, catch_up_within, read_within)"))
        let fine = CaseOverride(name: "duration", value: 5, origin: "--duration 5")
        #expect((try? CaseCheck.load(Self.tc004, file: "f.yaml", overrides: [fine]))?.parameters["duration"] == 5)
    }

    /// A step runs the scenario commands only, with their own flags, never elsewhere.
    @Test(arguments: [
        ("[cases, export, /elsewhere]", 1, "a step runs one of corrupt, restore, replicate, schema-change, transaction, break, generate-data, network, got 'cases'"),
        ("[down]", 1, "a step runs one of corrupt, restore, replicate, schema-change, transaction, break, generate-data, network, got 'down'"),
        ("[run, self]", 1, "a step runs one of corrupt, restore, replicate, schema-change, transaction, break, generate-data, network, got 'run'"),
        ("[corrupt, --type, truncate, --home, /etc]", 4, "--home is not allowed in a step: a step acts on the run's own source and state directory"),
        ("[corrupt, --type, truncate, '--config=/etc/shadow']", 4, "a name or a number, not a path, got '--config=/etc/shadow'"),
        ("[corrupt, --type, truncate, --config, x]", 4, "--config is not allowed in a step: a step acts on the run's own source and state directory"),
        ("[generate-data, --host, db.example]", 2, "--host is not allowed in a step: a step acts on the run's own source and state directory"),
        ("[restore, --file, ../../etc/passwd]", 3, "a name or a number, not a path, got '../../etc/passwd'"),
        ("[network, --status]", 2, "a flag of network (--type, --duration, --interval, --latency, --jitter, --bandwidth, --only, --backend, --down, --up, --flap, --slow, --off, --crash, --detach), got '--status'"),
        ("[corrupt, truncate]", 2, "a flag of corrupt (--type, --file, --percentage, --count, --no-backup, --rotate), got 'truncate'"),
        ("[corrupt, --type]", 2, "--type needs a value"),
        ("[]", 0, "a scenario command and its flags, e.g. [corrupt, --type, truncate]"),
    ])
    func stepCommandsAreLimited(step: String, index: Int, message: String) {
        let text = Self.replacing("    wait: sync\n", "    toolkit: \(step)\n")
        let line = Self.line(of: "toolkit: [", in: text)
        let field = index == 0 ? "steps[1].toolkit[1]" : "steps[1].toolkit[\(index)]"
        #expect(Self.refusal(text) == "f.yaml:\(line): \(field): \(message)")
    }

    @Test func stepCommandsAreCheckedOnceSubstituted() {
        let text = Self.replacing("    wait: sync\n", "    toolkit: [generate-data, --count, '${duration}']\n")
        let line = Self.line(of: "toolkit: [", in: text)
        let seen = LockedArguments()
        let check: CaseCheck.CommandCheck = { arguments in
            seen.set(arguments)
            return arguments.last == "0" ? "--count must be a whole number from 1 to 100000000, got 0" : nil
        }
        #expect(Self.refusal(text, commandCheck: check) == "accepted")
        #expect(seen.get() == ["generate-data", "--count", "60"])
        let zero = CaseOverride(name: "duration", value: 1, origin: "--duration 1")
        _ = Self.refusal(text, overrides: [zero], commandCheck: check)
        #expect(seen.get() == ["generate-data", "--count", "1"])
        let bad = Self.replacing("  duration: 60\n", "  duration: 60\n  count: 0\n", in: Self.replacing("'${duration}'", "'${count}'", in: text))
        #expect(Self.refusal(bad, commandCheck: check)
                == "f.yaml:\(line + 1): steps[1].toolkit: toolkit generate-data --count 0: --count must be a whole number from 1 to 100000000, got 0 (${count}, parameters line \(Self.line(of: "count: 0", in: bad)))")
        let huge = Self.replacing("  duration: 60\n", "  duration: 60\n  count: 1e300\n", in: Self.replacing("'${duration}'", "'${count}'", in: text))
        #expect(Self.refusal(huge).hasSuffix(": parameters.count: a number from -1000000000000000 to 1000000000000000, got 1e300"))
    }

    // MARK: Hostile files

    @Test func aFileOverOneMebibyteIsRefused() {
        let text = Self.tc004 + "\n# " + String(repeating: "x", count: CaseCheck.maxBytes) + "\n"
        #expect(Self.refusal(text) == "f.yaml:1: the file: a case file is at most 1 MiB (1048576 bytes), this one has \(text.utf8.count)")
    }

    /// One step with 1,000 `observe` lines, repeated 1,000 times through a second alias: 70 KB
    /// that expands to a million nodes. Refused at once, without expanding it.
    @Test func aTwoLevelAliasIsRefusedQuickly() throws {
        let observe = (1...1000).map { "      - question \($0)" }.joined(separator: "\n")
        let repeats = Array(repeating: "  - *step", count: 1000).joined(separator: "\n")
        let text = """
            id: TC-X
            title: Aliases
            metadata: {category: a, etl_tools: b, severity: c, created: d, author: e}
            description: x
            anchors:
              - &step
                text: Observe
                observe:
            \(observe)
            steps:
            \(repeats)
            checklist: [{text: data, measure: data}]
            """
        #expect(text.utf8.count > 20_000)
        let clock = ContinuousClock()
        var message = ""
        let elapsed = clock.measure { message = Self.refusal(text) }
        // The line of the node whose expansion passed the budget: the 9th copy of the observe list.
        #expect(message == "f.yaml:\(Self.line(of: "- question 1", in: text)): the file: at most 10000 values once aliases are expanded (aliases that repeat aliases multiply)")
        #expect(elapsed < .seconds(2), "\(elapsed)")
    }

    @Test func billionLaughsIsRefused() {
        var lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for level in 1...9 {
            let previous = Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ")
            lines.append("a\(level): &a\(level) [\(previous)]")
        }
        let text = lines.joined(separator: "\n") + "\n"
        let message = Self.refusal(text)
        #expect(message.hasSuffix("the file: at most 10000 values once aliases are expanded (aliases that repeat aliases multiply)"), "\(message)")
    }

    @Test func deepNestingIsRefusedBeforeParsing() {
        let text = "id: " + String(repeating: "[", count: 100_000) + "\n"
        #expect(Self.refusal(text) == "f.yaml:1: the file: nesting at most 64 levels deep")
        let dashes = "steps:\n" + String(repeating: "- ", count: 100_000) + "x\n"
        #expect(Self.refusal(dashes) == "f.yaml:2: the file: nesting at most 64 levels deep")
    }

    @Test func mergeKeysAreNotPartOfTheFormat() {
        let text = Self.replacing("  - text: Verify pipeline recovery\n", "  - <<: {text: x}\n    text: Verify pipeline recovery\n")
        #expect(Self.refusal(text) == "f.yaml:\(Self.line(of: "<<:", in: text)): steps[5].<<: merge keys are not part of the format: write the keys out, or alias the whole value")
    }
}

final class LockedArguments: @unchecked Sendable {
    private var value: [String] = []
    private let lock = NSLock()
    func set(_ new: [String]) { lock.withLock { value = new } }
    func get() -> [String] { lock.withLock { value } }
}
