/* llms_guard.c: instruction budget hook and the signal catcher of staging commands (see llms_guard.h). */
#include "llms_guard.h"
#include <lauxlib.h>
#include <signal.h>
#include <string.h>

/* ---- Instruction budget ---- */

static void llms_instruction_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    int count = lua_gethookcount(L);
    lua_sethook(L, llms_instruction_hook, LUA_MASKCOUNT, 1);   /* keep raising if something catches it */
    luaL_error(L, "instruction limit of %d exceeded", count);
}

void llms_set_instruction_limit(lua_State *L, int count) {
    lua_sethook(L, llms_instruction_hook, LUA_MASKCOUNT, count > 0 ? count : 1);
}

/* ---- Signals ---- */

static const int g_caught_signals[3] = { SIGINT, SIGTERM, SIGHUP };
static struct sigaction g_previous[3];
static int g_depth = 0;
static volatile sig_atomic_t g_caught = 0;
static volatile pid_t g_child = 0;

static void llms_guard_handler(int sig) {
    g_caught = sig;
    pid_t child = g_child;
    if (child > 0) kill(-child, SIGTERM);
}

void llms_signals_catch(void) {
    if (g_depth++ > 0) { g_caught = 0; return; }
    g_caught = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = llms_guard_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;               /* no SA_RESTART: a blocking waitpid returns EINTR */
    sigset_t unblock;
    sigemptyset(&unblock);
    for (int i = 0; i < 3; i++) {
        sigaction(g_caught_signals[i], &sa, &g_previous[i]);
        if (g_previous[i].sa_handler == SIG_IGN) sigaction(g_caught_signals[i], &g_previous[i], NULL);  /* nohup, & */
        sigaddset(&unblock, g_caught_signals[i]);
    }
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);   /* a parent may have blocked them */
}

void llms_signals_restore(void) {
    if (g_depth == 0 || --g_depth > 0) return;
    for (int i = 0; i < 3; i++) sigaction(g_caught_signals[i], &g_previous[i], NULL);
    g_child = 0;
}

int llms_signals_caught(void) { return g_caught; }

void llms_signals_set_child(pid_t pid) {
    g_child = pid;
    if (pid > 0 && g_caught) kill(-pid, SIGTERM);   /* a signal that came just before the spawn */
}
