import CLibFuzzer
import ConversationFuzzing

// A replica's connection after its dump request: the input's steps are the binlog stream (and any
// client bytes, such as semi-sync acknowledgements), after a fixed login and dump. Options byte:
// see `ReplicationPreamble`.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = ConversationInput(Array(UnsafeBufferPointer(start: data, count: size)))
    ConversationCheck.check(ReplicationPreamble.steps(options: input.options) + input.steps)
    return 0
}

// The preamble itself must be read as a replica's login and dump, or every input would only test garbage.
for options: UInt8 in 0..<4 {
    let preamble = ConversationCheck.run(ReplicationPreamble.steps(options: options), chunked: false)
    precondition(preamble.observable && preamble.isReplication, "preamble \(options) not read as a dump: \(preamble)")
}

libfuzzer_run(CommandLine.argc, CommandLine.unsafeArgv, testOneInput)
