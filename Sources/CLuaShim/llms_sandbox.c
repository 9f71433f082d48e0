/* llms_sandbox.c: per-state memory budgets, the counting allocator, the time-limit hook and the process
 * watchdog of sandboxed states. Contract in include/llms_sandbox.h. */
#include "llms_lua.h"
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>

/* ---- Budgets ---- */

struct llms_budget {
    atomic_size_t used;         /* bytes charged here: own allocations and the children's */
    size_t limit;               /* 0: no limit of its own */
    llms_budget *parent;        /* one reference held */
    atomic_int refs;
};

llms_budget *llms_budget_new(size_t limit, llms_budget *parent) {
    llms_budget *b = (llms_budget *)calloc(1, sizeof *b);
    if (b == NULL) return NULL;
    atomic_init(&b->used, 0);
    atomic_init(&b->refs, 1);
    b->limit = limit;
    b->parent = parent;
    if (parent != NULL) llms_budget_retain(parent);
    return b;
}

void llms_budget_retain(llms_budget *b) { if (b != NULL) atomic_fetch_add(&b->refs, 1); }

void llms_budget_release(llms_budget *b) {
    while (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1) {
        llms_budget *parent = b->parent;
        free(b);
        b = parent;                                       /* drop the reference the child held */
    }
}

void llms_budget_credit(llms_budget *b, size_t n) {
    for (; b != NULL; b = b->parent) atomic_fetch_sub(&b->used, n);
}

int llms_budget_charge(llms_budget *b, size_t n, int force) {
    int ok = 1;
    for (llms_budget *p = b; p != NULL; p = p->parent) {
        size_t before = atomic_fetch_add(&p->used, n);
        if (p->limit > 0 && (n > p->limit || before > p->limit - n)) {
            ok = 0;
            if (!force) {                                 /* undo b .. p */
                for (llms_budget *q = b; q != p->parent; q = q->parent) atomic_fetch_sub(&q->used, n);
                return 0;
            }
        }
    }
    return ok;
}

size_t llms_budget_used(const llms_budget *b) { return b ? atomic_load(&((llms_budget *)b)->used) : 0; }
size_t llms_budget_limit(const llms_budget *b) { return b ? b->limit : 0; }

size_t llms_budget_available(const llms_budget *b) {
    size_t room = SIZE_MAX;
    for (; b != NULL; b = b->parent) {
        if (b->limit == 0) continue;
        size_t used = llms_budget_used(b);
        size_t left = used >= b->limit ? 0 : b->limit - used;
        if (left < room) room = left;
    }
    return room;
}

size_t llms_budget_effective_limit(const llms_budget *b) {
    for (; b != NULL; b = b->parent) if (b->limit > 0) return b->limit;
    return 0;
}

/* ---- The counting allocator ---- */

double llms_monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The bytes malloc really takes for a request of n (glibc: an 8-byte header, 16-byte granules, 32 at least):
 * counting these instead of n keeps a heap of small objects (a table is 56 + 16 bytes) within the limit in
 * resident memory too. Lua passes the same n back as osize, so the count stays exact. */
static size_t llms_chunk(size_t n) {
    if (n == 0) return 0;
    if (n > SIZE_MAX - 32) return n;
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

static void *llms_sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    llms_sandbox *sb = (llms_sandbox *)ud;
    size_t old = ptr ? llms_chunk(osize) : 0;             /* with ptr == NULL, osize is a type tag */
    if (nsize == 0) {
        free(ptr);
        sb->used -= old;
        llms_budget_credit(sb->budget, old);
        return NULL;
    }
    size_t now = llms_chunk(nsize);
    if (now > old && !llms_budget_charge(sb->budget, now - old, sb->in_native > 0)) {
        if (sb->in_native > 0) sb->over = 1;              /* granted: no longjmp across Swift; raised after the call */
        else { sb->mem_hit = 1; return NULL; }            /* never refuse a shrink (the manual's rule) */
    }
    void *p = realloc(ptr, nsize);
    if (p == NULL) {
        if (ptr == NULL || nsize > osize) {               /* a failed growth: nothing changed */
            if (now > old) llms_budget_credit(sb->budget, now - old);
            return NULL;
        }
        p = ptr;                                          /* a failed shrink keeps the block; Lua treats it as shrunk */
    }
    if (now < old) llms_budget_credit(sb->budget, old - now);
    sb->used = sb->used - old + now;
    return p;
}

static int llms_sandbox_panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "llmscript: PANIC: unprotected error in call to Lua API (%s)\n", msg ? msg : "?");
    return 0;
}

static lua_State *llms_sandbox_open(llms_budget *budget) {
    if (budget == NULL) return NULL;
    llms_sandbox *sb = (llms_sandbox *)calloc(1, sizeof *sb);
    if (sb == NULL) { llms_budget_release(budget); return NULL; }
    sb->budget = budget;
    sb->limit = llms_budget_effective_limit(budget);
    lua_State *L = lua_newstate(llms_sandbox_alloc, sb);
    if (L == NULL) { llms_budget_release(budget); free(sb); return NULL; }
    lua_atpanic(L, llms_sandbox_panic);
    return L;
}

lua_State *llms_sandbox_newstate(size_t limit_bytes) {
    return llms_sandbox_open(llms_budget_new(limit_bytes, NULL));
}

lua_State *llms_sandbox_newstate_child(llms_budget *parent) {
    size_t room = llms_budget_available(parent);
    return llms_sandbox_open(llms_budget_new(room == SIZE_MAX ? 0 : (room > 0 ? room : 1), parent));
}

llms_sandbox *llms_sandbox_of(lua_State *L) {
    void *ud = NULL;
    return lua_getallocf(L, &ud) == llms_sandbox_alloc ? (llms_sandbox *)ud : NULL;
}

void llms_sandbox_close(lua_State *L) {
    llms_sandbox *sb = llms_sandbox_of(L);
    lua_close(L);
    if (sb == NULL) return;
    llms_budget_release(sb->budget);
    free(sb);
}

int llms_sandbox_hold(llms_sandbox *sb, size_t n) {
    if (sb == NULL || n == 0) return 1;
    if (!llms_budget_charge(sb->budget, n, 0)) return 0;
    sb->held += n;
    return 1;
}

/* ---- Time limit ---- */

int llms_sandbox_raise_timeout(lua_State *L, llms_sandbox *sb) {
    char secs[64];
    sb->expired = 1;
    snprintf(secs, sizeof secs, "%.14g", sb->limit_s);
    return luaL_error(L, "sandbox: time limit of %s s exceeded", secs);
}

/* After the deadline the hook fires at every instruction and raises again, so a pcall that catches the
 * error cannot keep the script alive: the next instruction outside it fails too. */
static void llms_sandbox_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    llms_sandbox *sb = llms_sandbox_of(L);
    if (sb == NULL || sb->limit_s <= 0) return;
    if (sb->expired || llms_monotonic() > sb->deadline) {
        lua_sethook(L, llms_sandbox_hook, LUA_MASKCOUNT, 1);
        llms_sandbox_raise_timeout(L, sb);
    }
}

void llms_sandbox_set_hook(lua_State *L, int count) {
    lua_sethook(L, llms_sandbox_hook, LUA_MASKCOUNT, count);
}

void llms_sandbox_set_time_limit(lua_State *L, double seconds) {
    llms_sandbox *sb = llms_sandbox_of(L);
    if (sb == NULL) return;
    sb->limit_s = seconds > 0 ? seconds : 0;
    sb->expired = 0;
    sb->deadline = llms_monotonic() + sb->limit_s;
    if (sb->limit_s > 0) llms_sandbox_set_hook(L, 10000);
    else lua_sethook(L, NULL, 0, 0);
}

int llms_sandbox_status(lua_State *L) {
    llms_sandbox *sb = llms_sandbox_of(L);
    if (sb != NULL && sb->limit_s > 0 && !sb->expired && llms_monotonic() > sb->deadline) sb->expired = 1;
    lua_pushboolean(L, sb != NULL && sb->expired);
    lua_pushboolean(L, sb != NULL && sb->mem_hit);
    lua_pushinteger(L, sb != NULL ? (lua_Integer)sb->limit : 0);
    lua_pushnumber(L, sb != NULL ? (lua_Number)sb->limit_s : 0);
    return 4;
}

int llms_callback_pcall(lua_State *L, int nargs, int nresults) {
    llms_sandbox *sb = llms_sandbox_of(L);
    int saved = 0;
    if (sb != NULL) { saved = sb->in_native; sb->in_native = 0; }
    int status = lua_pcall(L, nargs, nresults, 0);
    if (sb != NULL) sb->in_native = saved;
    return status;
}

/* ---- Process watchdog ---- */

static char g_watchdog_msg[512];

static void llms_watchdog_fire(int sig) {
    (void)sig;
    size_t n = strlen(g_watchdog_msg);
    if (write(2, g_watchdog_msg, n) < 0) { /* nothing left to do */ }
    _exit(1);
}

void llms_watchdog_arm(double seconds, const char *message) {
    struct itimerval t;
    memset(&t, 0, sizeof t);
    if (seconds > 0) {
        snprintf(g_watchdog_msg, sizeof g_watchdog_msg, "%s\n", message ? message : "llmscript: time limit exceeded");
        signal(SIGALRM, llms_watchdog_fire);
        t.it_value.tv_sec = (time_t)seconds;
        t.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
        if (t.it_value.tv_sec == 0 && t.it_value.tv_usec == 0) t.it_value.tv_usec = 1;
    }
    setitimer(ITIMER_REAL, &t, NULL);
}
