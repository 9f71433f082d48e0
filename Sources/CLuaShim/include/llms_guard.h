/* llms_guard.h: two small guards for code that must not run unbounded or leave files behind.
 * - An instruction budget for a Lua state (used by the data-file loader, Sources/LLMLua/Bridge/DataFile.swift):
 *   a count hook that raises "instruction limit of N exceeded" from C, inside Lua's own pcall.
 * - A process-level catcher of SIGINT/SIGTERM/SIGHUP for commands that stage files in a temporary folder
 *   (`llmscript plugin`): the handler records the signal and terminates the current child's process
 *   group; the command notices, unwinds normally (removing its folder) and exits 128 + signal.
 * Implementation in llms_guard.c. */
#ifndef LLMS_GUARD_H
#define LLMS_GUARD_H
#include <sys/types.h>
#if __has_include(<lua5.4/lua.h>)
#include <lua5.4/lua.h>
#else
#include <lua.h>
#endif

/* Raises "instruction limit of `count` exceeded" once `count` (>= 1) VM instructions have run in L. */
void llms_set_instruction_limit(lua_State *L, int count);

/* Starts catching SIGINT, SIGTERM and SIGHUP (nested calls are counted; the outermost restore puts the
 * previous handlers back). Clears any earlier caught signal. */
void llms_signals_catch(void);
void llms_signals_restore(void);
/* The signal caught since llms_signals_catch, or 0. */
int llms_signals_caught(void);
/* The child whose process group (its own, pgid == pid) the handler terminates; 0 for none. */
void llms_signals_set_child(pid_t pid);
#endif
