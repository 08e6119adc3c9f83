import Foundation

/// What a person entered for a run, marked as theirs: who, and when.
public struct TesterAnswer: Codable, Sendable, Hashable {
    public var tester: String
    /// Seconds since 1970.
    public var at: Double
    /// Their verdict on an item (PASS or FAIL); nil for an observation.
    public var verdict: ItemVerdict?
    /// What they saw, or their note.
    public var text: String?

    public init(tester: String, at: Double, verdict: ItemVerdict? = nil, text: String? = nil) {
        self.tester = tester
        self.at = at
        self.verdict = verdict
        self.text = text
    }

    /// "Ann at 10:04:07 UTC".
    var signature: String { "\(tester) at \(RunReport.clock(at)) UTC" }
}

/// Everything people entered for a run: what they saw per measure (`--observe error_message=...`)
/// and their verdicts per item number (`--item 4=FAIL:...`). Kept in `result.json`, so that a
/// report re-judged later keeps them.
public struct TesterAnswers: Codable, Sendable, Hashable {
    /// By measure name (`error_message`, `detection`, ...).
    public var observed: [String: TesterAnswer] = [:]
    /// By item number, from 1.
    public var items: [String: TesterAnswer] = [:]

    public init() {}

    public var isEmpty: Bool { observed.isEmpty && items.isEmpty }

    /// Bad input, naming the flag and what is allowed.
    public struct Invalid: Error, CustomStringConvertible { public let description: String }

    /// `--observe MEASURE=TEXT` and `--item N=PASS|FAIL[:note]` as `tester` entered them at `at`,
    /// for a case with `checklist`. Throws naming the flag.
    public static func parse(observe: [String], items: [String], checklist: [ChecklistItem], tester: String,
                             at: Double) throws(Invalid) -> TesterAnswers {
        var answers = TesterAnswers()
        let measures = Set(checklist.map(\.measure.rawValue))
        for entry in observe {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw Invalid(description: "--observe takes MEASURE=TEXT, got '\(entry)'")
            }
            let name = String(entry[..<equals]), text = String(entry[entry.index(after: equals)...])
            guard measures.contains(name) else {
                throw Invalid(description: "--observe \(name): the case's checklist measures \(measures.sorted().joined(separator: ", "))")
            }
            guard !text.isEmpty else { throw Invalid(description: "--observe \(name)= says nothing: give what you saw") }
            answers.observed[name] = TesterAnswer(tester: tester, at: at, text: text)
        }
        for entry in items {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let number = Int(parts[0]) else {
                throw Invalid(description: "--item takes N=PASS|FAIL[:note], got '\(entry)'")
            }
            guard (1...max(1, checklist.count)).contains(number), !checklist.isEmpty else {
                throw Invalid(description: "--item \(number): the case's checklist has items 1 to \(checklist.count)")
            }
            let verdictAndNote = parts[1].split(separator: ":", maxSplits: 1)
            guard let word = verdictAndNote.first, let verdict = ItemVerdict(rawValue: word.uppercased()),
                  verdict == .pass || verdict == .fail else {
                throw Invalid(description: "--item \(number)= must be PASS or FAIL (a note after a colon), got '\(parts[1])'")
            }
            let note = verdictAndNote.count > 1 ? String(verdictAndNote[1]) : nil
            answers.items[String(number)] = TesterAnswer(tester: tester, at: at, verdict: verdict, text: note)
        }
        return answers
    }

    /// These answers, then `later`'s over them.
    public func merging(_ later: TesterAnswers) -> TesterAnswers {
        var merged = self
        merged.observed.merge(later.observed) { $1 }
        merged.items.merge(later.items) { $1 }
        return merged
    }
}

extension RunReport {
    /// Judges the checklist again from the stored measurements with this version's rules, and with
    /// what people entered (`adding` over what the report already holds): a message the tester saw
    /// is the message item's (judged by its pattern) when none was measured; another observation is
    /// noted in its item's evidence; a person's verdict on an item is the item's verdict, and where it
    /// differs from the measured one the evidence shows both. A BLOCKED run stays as it is.
    public mutating func judge(_ testCase: TestCase, adding: TesterAnswers = TesterAnswers()) {
        guard verdict != .blocked else { return }
        let answers = (observations.testerAnswers ?? TesterAnswers()).merging(adding)
        observations.testerAnswers = answers.isEmpty ? nil : answers
        var judged = observations
        if judged.message == nil, let seen = answers.observed[Measure.errorMessage.rawValue], let text = seen.text {
            judged.message = ObservedMessage(text: text, source: "seen by \(seen.signature)")
        }
        items = Checklist.evaluate(testCase.checklist, judged).enumerated().map { index, result in
            var result = result
            if let seen = answers.observed[result.measure.rawValue], let text = seen.text,
               !(result.measure == .errorMessage && observations.message == nil) {
                result.evidence += "; \(seen.signature) saw: \(text)"
            }
            if let person = answers.items[String(index + 1)], let verdict = person.verdict {
                let note = person.text.map { ": \($0)" } ?? ""
                result.evidence = verdict == result.verdict
                    ? "\(verdict.rawValue), confirmed by \(person.signature)\(note); measured: \(result.evidence)"
                    : "measured \(result.verdict.rawValue) → \(verdict.rawValue) by \(person.signature)\(note); measured: \(result.evidence)"
                result.verdict = verdict
                result.person = person
            }
            return result
        }
        if verdict == .pass || verdict == .fail { verdict = Checklist.runVerdict(items) }
    }
}
