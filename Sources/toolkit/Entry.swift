import ArgumentParser
import Foundation
import Infrastructure

/// Runs the command and maps every failure to one line on stderr and an exit code:
/// 0 success, 1 a failed operation, 2 bad input (nothing changed).
@main
enum Entry {
    static func main() async {
        do {
            var command = try Toolkit.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch let error as ToolkitError {
            writeStandardError("toolkit: \(error.message)\n")
            exit(error.exitCode)
        } catch let error as ExitCode {
            exit(error.rawValue)
        } catch {
            let code = Toolkit.exitCode(for: error)
            if code == .success {
                print(Toolkit.fullMessage(for: error))
                exit(0)
            }
            let message = oneLine(Toolkit.message(for: error))
            writeStandardError("toolkit: \(message)\n")
            exit(code == .validationFailure || error is ValidationError || code.rawValue == 64 ? 2 : 1)
        }
    }
}

/// ArgumentParser's parse errors, reworded to name the flag and what it takes, on one line.
func oneLine(_ message: String) -> String {
    let first = message.split(separator: "\n").first.map(String.init) ?? message
    // "The value 'abc' is invalid for '--count <count>'", then for a typed value either
    // ". Please provide one of 'a', 'b' or 'c'." or ". Please provide one of the following:\n  - a\n  - b".
    guard first.hasPrefix("The value '"), let flagStart = first.range(of: "for '--") else { return first }
    let value = first.dropFirst("The value '".count).prefix { $0 != "'" }
    let flag = "--" + first[flagStart.upperBound...].prefix { $0 != " " && $0 != "'" }
    var allowed: [String] = []
    if let list = message.range(of: "Please provide one of ") {
        let rest = message[list.upperBound...]
        if rest.hasPrefix("the following:") {
            allowed = rest.split(separator: "\n").dropFirst().map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " -")) }
        } else {
            allowed = rest.split(separator: "'", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 1 }.map { String($0.element) }
        }
    }
    guard let last = allowed.last else { return "\(flag) takes a number, got '\(value)' (see --help for its range)" }
    let list = allowed.count == 1 ? last : allowed.dropLast().joined(separator: ", ") + " or " + last
    var line = "\(flag) must be \(list), got '\(value)'"
    if flag == "--type", ["latency", "bandwidth"].contains(value), allowed.contains("reject") {
        line += " (latency and bandwidth are --slow faults: --slow --latency MS, --slow --bandwidth BYTES)"
    }
    return line
}
