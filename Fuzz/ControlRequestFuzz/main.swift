import AgentAPI
import CLibFuzzer
import Foundation

// One HTTP request to the control API as the router sees it: the method up to the first newline,
// the request target up to the second, the body after it. Whatever the bytes, the decoding either
// gives a request or throws a client's mistake (4xx); and a request it gives, sent again as the
// client encodes it, is read as the same operation.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var lines = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
    while lines.count < 3 { lines.append(bytes[size..<size]) }
    let method = String(decoding: lines[0], as: UTF8.self)
    let target = String(decoding: lines[1], as: UTF8.self)
    let body = Data(lines[2])
    let request: AgentRequest
    do {
        request = try AgentRequest(method: method, target: target, body: body)
    } catch {
        precondition((400..<500).contains(error.status), "status \(error.status) for a client's request: \(error.message)")
        return 0
    }
    guard let sent = try? request.encoded() else { preconditionFailure("\(request) cannot be encoded") }
    do {
        let again = try AgentRequest(method: sent.method, target: sent.target, body: sent.body)
        precondition(again.operation == request.operation, "\(request) came back as \(again)")
    } catch {
        preconditionFailure("\(request), encoded as \(sent.method) \(sent.target), is refused: \(error.message)")
    }
    return 0
}

libfuzzer_run(CommandLine.argc, CommandLine.unsafeArgv, testOneInput)
