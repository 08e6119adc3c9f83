#ifndef CSPAWN_H
#define CSPAWN_H
#include <spawn.h>

/// Close every descriptor from `lowest` up in the child (glibc 2.34+), so that children never
/// inherit our sockets: a server started by the agent must not hold the gateway's listener or a
/// control-API connection open.
int cspawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowest);

/// Start the child in a session of its own (POSIX_SPAWN_SETSID).
short cspawn_setsid_flag(void);
#endif
