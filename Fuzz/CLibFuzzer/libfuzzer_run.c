#include "CLibFuzzer.h"

#include <stdlib.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test_one_input)(const uint8_t *data, size_t size));

void libfuzzer_run(int argc, char **argv, int (*test_one_input)(const uint8_t *data, size_t size)) {
    exit(LLVMFuzzerRunDriver(&argc, &argv, test_one_input));
}
