/* llms_guard.c: instruction budget hook and the signal catcher of staging commands (see llms_guard.h). */
#include "llms_guard.h"
#include <lauxlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>

/* ---- Instruction and time budget ---- */

#define LLMS_DATA_HOOK_EVERY 100

static double llms_guard_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void llms_data_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    llms_data_budget *b = *(llms_data_budget **)lua_getextraspace(L);
    if (b == NULL) return;
    b->used += LLMS_DATA_HOOK_EVERY;
    if (b->used >= b->limit) luaL_error(L, "instruction limit of %I exceeded", (lua_Integer)b->limit);
    if (llms_guard_now() > b->deadline) luaL_error(L, "time limit of %f s exceeded", (lua_Number)b->seconds);
}

void llms_set_data_budget(lua_State *L, llms_data_budget *b) {
    b->used = 0;
    b->deadline = llms_guard_now() + b->seconds;
    *(llms_data_budget **)lua_getextraspace(L) = b;
    lua_sethook(L, llms_data_hook, LUA_MASKCOUNT, LLMS_DATA_HOOK_EVERY);
}

void llms_clear_data_budget(lua_State *L) {
    lua_sethook(L, NULL, 0, 0);
    *(llms_data_budget **)lua_getextraspace(L) = NULL;
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
