import Soak
import Testing

@Suite("Soak lengths and ranges on the command line")
struct SoakLengthTests {
    @Test(arguments: [
        ("90", 90), ("90s", 90), ("30m", 1_800), ("2h", 7_200), ("1h30m", 5_400), ("2m5s", 125),
        ("1d12h", 129_600), ("168h", 604_800), ("0s", 0),
    ])
    func parses(text: String, seconds: Int) throws {
        #expect(try SoakLength.parse(text, flag: "--duration", allowed: 0...10_000_000) == seconds)
    }

    @Test(arguments: ["", "s", "1x", "1.5h", "-5", "30m1h", "1h1h", "h30", "1 h", "5m ", "9999999999", "1s2"])
    func refusesWhatIsNotALength(text: String) {
        #expect(throws: SoakInputError(
            flag: "--duration", message: "--duration must be a length like 90, 90s, 30m, 2h or 1h30m, got '\(text)'")
        ) { try SoakLength.parse(text, flag: "--duration", allowed: 1...100) }
    }

    @Test func refusesALengthOutOfRange() {
        #expect(throws: SoakInputError(flag: "--duration", message: "--duration must be from 1s to 30d, got '31d'")) {
            try SoakLength.parse("31d", flag: "--duration", allowed: 1...2_592_000)
        }
        #expect(throws: SoakInputError(flag: "--checkpoint-every", message: "--checkpoint-every must be from 1s to 30d, got '0'")) {
            try SoakLength.parse("0", flag: "--checkpoint-every", allowed: 1...2_592_000)
        }
    }

    @Test func ranges() throws {
        #expect(try SoakLength.parseRange("5s..60s", flag: "--gap", allowed: 1...86_400) == SoakRange(min: 5, max: 60))
        #expect(try SoakLength.parseRange("5..1m30s", flag: "--gap", allowed: 1...86_400) == SoakRange(min: 5, max: 90))
        #expect(try SoakLength.parseRange("7s..7s", flag: "--gap", allowed: 1...86_400) == SoakRange(min: 7, max: 7))
        for text in ["5s", "5s..", "..5s", "5s...6s", "a..b", "5s..6s..7s"] {
            #expect(throws: SoakInputError(
                flag: "--fault-length", message: "--fault-length must be a range MIN..MAX of lengths like 5s..60s, got '\(text)'")
            ) { try SoakLength.parseRange(text, flag: "--fault-length", allowed: 1...86_400) }
        }
        #expect(throws: SoakInputError(flag: "--gap", message: "--gap must have MIN at most MAX, got '60s..5s'")) {
            try SoakLength.parseRange("60s..5s", flag: "--gap", allowed: 1...86_400)
        }
        #expect(throws: SoakInputError(flag: "--gap", message: "--gap must be lengths from 1s to 1d, got '0s..5s'")) {
            try SoakLength.parseRange("0s..5s", flag: "--gap", allowed: 1...86_400)
        }
    }

    @Test func textAndClock() throws {
        #expect(SoakLength.text(5_400) == "1h30m")
        #expect(SoakLength.text(90_061) == "1d1h1m1s")
        #expect(SoakLength.text(0) == "0s")
        #expect(SoakLength.clock(3_725) == "1:02:05")
        #expect(SoakLength.clock(604_800) == "168:00:00")
        for seconds in [1, 59, 60, 61, 3_599, 86_400, 604_799] {
            #expect(try SoakLength.parse(SoakLength.text(seconds), flag: "--duration", allowed: 1...1_000_000) == seconds)
        }
    }

    @Test func faultNames() throws {
        #expect(try SoakFault.parseList("reject,kill-connections") == [.reject, .killConnections])
        let allowed = "reject, timeout, flap, service, crash, reset, latency, bandwidth, kill-connections"
        for (text, name) in [("reject,nope", "nope"), ("", ""), ("reject,", ""), ("Reject", "Reject")] {
            #expect(throws: SoakInputError(
                flag: "--faults", message: "--faults must be a comma-separated list of \(allowed), got '\(name)'")
            ) { try SoakFault.parseList(text) }
        }
        #expect(throws: SoakInputError(flag: "--faults", message: "--faults names 'reset' twice, got 'reset,flap,reset'")) {
            try SoakFault.parseList("reset,flap,reset")
        }
        #expect(SoakFault.defaults.filter(\.isInstant) == [.reset])
        #expect(SoakFault.allCases.filter(\.isInstant) == [.reset, .killConnections])
    }
}
