import Agent
import ArgumentParser
import Foundation
import Infrastructure
import Measurements

struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "The agent's journal: faults, connections, logins, binlog requests and positions.",
        discussion: "Reads the journal's newest segments in the state directory (journal/), from the end, so it works while the agent is down too.")

    @Flag(help: "One JSON object per line.") var json = false
    @Flag(help: "Keep printing new events until Ctrl-C.") var follow = false
    @Option(parsing: .unconditional, help: "Only the last N events (0 = all).") var last = 50
    @Option(help: "State directory (env TOOLKIT_HOME).") var home: String?

    func validate() throws {
        guard last >= 0 && last <= 10_000_000 else {
            throw ValidationError("--last must be a whole number from 0 to 10000000, got \(last)")
        }
    }

    func run() throws {
        let state = StateDirectory.resolve(flag: home)
        let journal = JournalDirectory(state: state)
        let numbers = journal.segmentNumbers()
        guard !numbers.isEmpty || FileManager.default.fileExists(atPath: journal.legacyFile.path) else {
            throw ToolkitError("no journal in \(state.root.path) yet; start the agent with `toolkit up`")
        }
        let events = journal.lastEvents(last)
        events.forEach(print(_:))
        guard follow else { return }
        // New events: from the newest segment, on to the next one when it rotates.
        var number = numbers.last ?? 1
        var offset = UInt64(JournalDirectory.read(journal.segmentURL(number))?.count ?? 0)
        let codec = JournalCodec()
        Interrupt.install()
        while !Interrupt.requested {
            Interrupt.sleep(seconds: 0.25)
            let fresh = JournalDirectory.read(journal.segmentURL(number), from: offset) ?? Data()
            if let lastNewline = fresh.lastIndex(of: UInt8(ascii: "\n")) {
                for line in JournalDirectory.lines(fresh) { if let event = try? codec.decodeLine(line) { print(event) } }
                offset += UInt64(lastNewline - fresh.startIndex + 1)
            } else if fresh.isEmpty, journal.segmentNumbers().contains(number + 1) {
                number += 1
                offset = 0
            }
        }
    }

    private func print(_ event: JournalEvent) {
        Console.write(json ? JSONOutput.line(event) : EventLine(event).text)
    }
}

/// One journal event as a line of text.
struct EventLine {
    let event: JournalEvent
    init(_ event: JournalEvent) { self.event = event }

    /// "14:03:07.250", local time, as every event line starts.
    static func clock(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss.SSS"
        return formatter.string(from: date)
    }

    var text: String {
        var parts = [Self.clock(event.date), event.kind.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)]
        if let window = event.window { parts.append("window=\(window)") }
        if let conn = event.conn { parts.append("conn=\(conn)") }
        if let client = event.client { parts.append("client=\(client)") }
        if let user = event.user { parts.append("user=\(user)") }
        if let fault = event.fault { parts.append("fault=\(fault.description)") }
        if let file = event.file { parts.append("file=\(file)") }
        if let position = event.position { parts.append("pos=\(position)") }
        if let gtid = event.gtid, !gtid.isEmpty { parts.append("gtid=\(gtid)") }
        if let serverID = event.serverID { parts.append("server_id=\(serverID)") }
        if let count = event.count { parts.append("count=\(count)") }
        if let code = event.code { parts.append("error=\(code)") }
        if let message = event.message { parts.append("\"\(message)\"") }
        if let transaction = event.transaction { parts.append("inside=\(transaction.gtid)") }
        if let detail = event.detail { parts.append(detail) }
        if let resume = event.resume { parts.append(resume.summary) }
        return parts.joined(separator: " ")
    }
}
