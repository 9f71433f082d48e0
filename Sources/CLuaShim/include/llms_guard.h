/* llms_guard.h: two small guards for code that must not run unbounded or leave files behind.
 * - An instruction and time budget for a Lua state (used by the data-file loader,
 *   Sources/LLMLua/Bridge/DataFile.swift): a count hook that raises the limit error from C, inside Lua's
 *   own pcall.
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

/* The budget of a data-file state: instructions left and a monotonic deadline (checked every 100
 * instructions, so one costly instruction, such as copying a long vararg list, cannot stretch a loop). */
typedef struct llms_data_budget {
    long long limit;      /* instructions allowed */
    long long used;       /* instructions run so far */
    double seconds;       /* wall-clock limit */
    double deadline;      /* monotonic seconds */
} llms_data_budget;

/* Installs `b` on L (a state the host owns, whose extra space it does not use otherwise): from now on
 * the hook raises "instruction limit of N exceeded" or "time limit of S s exceeded". `b` must outlive
 * the calls made in L; llms_clear_data_budget removes the hook. */
void llms_set_data_budget(lua_State *L, llms_data_budget *b);
void llms_clear_data_budget(lua_State *L);

/* Starts catching SIGINT, SIGTERM and SIGHUP (nested calls are counted; the outermost restore puts the
 * previous handlers back). Clears any earlier caught signal. */
void llms_signals_catch(void);
void llms_signals_restore(void);
/* The signal caught since llms_signals_catch, or 0. */
int llms_signals_caught(void);
/* The child whose process group (its own, pgid == pid) the handler terminates; 0 for none. */
void llms_signals_set_child(pid_t pid);
#endif
