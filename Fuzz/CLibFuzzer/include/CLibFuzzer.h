#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver (compiler-rt, linked by `-sanitize=fuzzer`) with the process's
/// arguments and `test_one_input` as the target, then exits with its status.
///
/// SwiftPM links an executable target's entry point as `main` (`--defsym main=<Module>_main`),
/// which replaces libFuzzer's own `main`; the target's top-level code calls this instead.
_Noreturn void libfuzzer_run(int argc, char **argv, int (*test_one_input)(const uint8_t *data, size_t size));

#endif
