#define _GNU_SOURCE
#include "cspawn.h"

int cspawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

short cspawn_setsid_flag(void) {
    return POSIX_SPAWN_SETSID;
}
