/* CLuaShim implementation: the trampoline and protected-call helpers. See llms_lua.h for the contract;
 * the sandbox's allocator, budgets and hooks are in llms_sandbox.c. */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>
#include "llms_lua.h"
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>

static llms_dispatch_fn g_dispatch;
static void **g_ctx;
static int g_nctx, g_capctx;

void llms_set_dispatcher(llms_dispatch_fn fn) { g_dispatch = fn; }
int llms_ctx_count(void) { return g_nctx; }

int llms_register_ctx(void *ctx) {
    if (g_nctx == g_capctx) {
        int cap = g_capctx ? g_capctx * 2 : 256;
        void **grown = realloc(g_ctx, (size_t)cap * sizeof(void *));
        if (!grown) abort();
        g_ctx = grown; g_capctx = cap;
    }
    g_ctx[g_nctx] = ctx;
    return g_nctx++;
}

static int llms_trampoline(lua_State *L) {
    lua_Integer id = lua_tointeger(L, lua_upvalueindex(1));
    if (id < 0 || id >= g_nctx || g_dispatch == NULL)     /* upvalues can be rewritten by debug.setupvalue */
        return luaL_error(L, "invalid llmscript function id %d", (int)id);
    int arg = 0, gckb = 0, top = lua_gettop(L);
    llms_sandbox *sb = llms_sandbox_of(L);
    if (sb != NULL) {                                     /* sandbox: deadline before the call, memory after */
        if (sb->limit_s > 0 && (sb->expired || llms_monotonic() > sb->deadline)) return llms_sandbox_raise_timeout(L, sb);
        sb->in_native++;
    }
    size_t held = sb != NULL ? sb->held : 0;
    int n = g_dispatch(L, g_ctx[id], &arg, &gckb);        /* the Swift frame is gone after this line */
    if (sb != NULL) {
        sb->in_native--;
        if (sb->held > held) {                            /* transient buffers of this call (llms_sandbox_hold) */
            llms_budget_credit(sb->budget, sb->held - held);
            sb->held = held;
        }
        if (sb->over && sb->in_native == 0) {
            sb->over = 0; sb->mem_hit = 1;
            return luaL_error(L, "sandbox: memory limit of %I bytes exceeded", (lua_Integer)sb->limit);
        }
    }
    if (gckb > 0) lua_gc(L, LUA_GCSTEP, gckb);             /* native bytes as GC debt (sandboxed states) */
    else if (gckb < 0) lua_gc(L, LUA_GCCOLLECT);          /* a full cycle for native memory (NativeGCPacing) */
    if (n >= 0) return n;
    switch (n) {
    case LLMS_ERR_ARG:  return luaL_argerror(L, arg, lua_tostring(L, -1));
    case LLMS_ERR_TYPE: {                                  /* the call's own stack back first: a missing */
        char tname[128];                                   /* argument is 'no value', not the name pushed */
        snprintf(tname, sizeof tname, "%s", lua_tostring(L, -1));
        lua_settop(L, top);
        return luaL_typeerror(L, arg, tname);
    }
    case LLMS_ERR_RAW:  return lua_error(L);
    default:
        luaL_where(L, 1); lua_insert(L, -2); lua_concat(L, 2);
        return lua_error(L);
    }
}

void llms_push_function(lua_State *L, int id) {
    lua_pushinteger(L, id);
    lua_pushcclosure(L, llms_trampoline, 1);
}

int llms_function_id(lua_State *L, int idx, int *id) {
    if (lua_tocfunction(L, idx) != llms_trampoline) return 0;
    if (lua_getupvalue(L, idx, 1) == NULL) return 0;
    *id = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return *id >= 0 && *id < g_nctx;
}

int llms_msgh(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int llms_pcall(lua_State *L, int nargs, int nresults) {
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, llms_msgh);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

int llms_loadbuffer(lua_State *L, const char *buf, size_t len, const char *name) {
    return luaL_loadbufferx(L, buf, len, name, "t");
}

int llms_loadfile(lua_State *L, const char *path) {
    return luaL_loadfilex(L, path, "t");
}

/* Ctrl-C while Lua runs: like lua.c, the SIGINT handler only sets a hook; the hook raises
 * "interrupted!" at the next Lua instruction (inside Lua frames, so no longjmp crosses Swift). */
static lua_State *volatile g_interrupt_L = NULL;

static void llms_lstop(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    llms_sandbox *sb = llms_sandbox_of(L);                /* a sandbox keeps its time-limit hook */
    if (sb != NULL && sb->limit_s > 0) llms_sandbox_set_hook(L, 10000);
    luaL_error(L, "interrupted!");
}

static void llms_laction(int sig) {
    signal(sig, SIG_DFL);   /* a second Ctrl-C kills the process */
    if (g_interrupt_L) lua_sethook(g_interrupt_L, llms_lstop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* Only the main thread takes Ctrl-C: worker states (parallel.pool, pipeline Lua steps) are set up on other
 * threads and must not take the target from the main state (nor reset it when they finish). */
static int llms_on_main_thread(void) { return getpid() == (pid_t)syscall(SYS_gettid); }

int llms_pcall_interruptible(lua_State *L, int nargs, int nresults) {
    if (!llms_on_main_thread()) return llms_pcall(L, nargs, nresults);
    lua_State *outer = g_interrupt_L;   /* nested calls (a REPL entry running a script) restore the outer state */
    g_interrupt_L = L;
    sigset_t set;                       /* a parent may have blocked SIGINT (spawned processes inherit the mask) */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    void (*old)(int) = signal(SIGINT, llms_laction);
    int status = llms_pcall(L, nargs, nresults);
    signal(SIGINT, old == SIG_ERR ? SIG_DFL : old);
    g_interrupt_L = outer;
    return status;
}
