import CLibFuzzer
import ConversationFuzzing

// A whole connection from its first byte: greeting, login, commands, binlog dumps and their streams.
// Options byte: bit 0 the session is decrypted by the proxy (TLS terminated), bit 1 query text not
// reported.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = ConversationInput(Array(UnsafeBufferPointer(start: data, count: size)))
    ConversationCheck.check(
        input.steps, sessionIsDecrypted: input.options & 1 != 0, reportsQueryText: input.options & 2 == 0)
    return 0
}

libfuzzer_run(CommandLine.argc, CommandLine.unsafeArgv, testOneInput)
