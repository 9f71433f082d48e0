/* CLuaShim: the C side of the Lua boundary (DESIGN.md §2).
 * Contract: every Lua-callable Swift function is reached through llms_trampoline, which calls the one
 * Swift dispatcher, and only after that Swift frame has returned raises the Lua error it reported.
 * Swift never calls lua_error / lua_call; the macros Swift cannot import are re-exported here. */
#ifndef LLMS_LUA_H
#define LLMS_LUA_H
#include <stddef.h>
#if __has_include(<lua5.4/lua.h>)
#include <lua5.4/lua.h>
#include <lua5.4/lualib.h>
#include <lua5.4/lauxlib.h>
#else
#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>
#endif

/* Status codes returned by the Swift dispatcher (#define: they import as Int32). */
#define LLMS_ERR_MSG  (-1)   /* message on top -> "where: msg" raised with lua_error      */
#define LLMS_ERR_ARG  (-2)   /* message on top, *arg = i -> luaL_argerror(L, i, msg)      */
#define LLMS_ERR_TYPE (-3)   /* type name on top, *arg = i -> luaL_typeerror(L, i, tname) */
#define LLMS_ERR_RAW  (-4)   /* message on top raised as is (already has a position)      */

/* dispatcher(L, ctx, &arg, &gckb): returns the number of results or an LLMS_ERR_* status;
 * gckb > 0: native kilobytes allocated during the call, stepped into the collector afterwards; gckb < 0: run
 * a full collection cycle afterwards (native memory pacing, see NativeGCPacing in Binding.swift). */
typedef int (*llms_dispatch_fn)(lua_State *L, void *ctx, int *arg, int *gckb);
void llms_set_dispatcher(llms_dispatch_fn fn);
/* Registers a retained Swift context (a boxed closure) and returns its id. */
int llms_register_ctx(void *ctx);
int llms_ctx_count(void);
/* Pushes a C closure that dispatches to the context with this id. */
void llms_push_function(lua_State *L, int id);
/* True when the value at idx is a function made by llms_push_function; *id receives its id. */
int llms_function_id(lua_State *L, int idx, int *id);

/* Message handler adding a traceback, and lua_pcall through it. */
int llms_msgh(lua_State *L);
int llms_pcall(lua_State *L, int nargs, int nresults);
/* llms_pcall with Ctrl-C turned into a Lua error ("interrupted!") for the duration of the call. */
int llms_pcall_interruptible(lua_State *L, int nargs, int nresults);
/* Loads a chunk (text only: binary chunks are refused) and runs it under llms_pcall. */
int llms_loadbuffer(lua_State *L, const char *buf, size_t len, const char *name);
int llms_loadfile(lua_State *L, const char *path);

/* Macro and variadic wrappers. */
static inline void llms_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline int llms_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int llms_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline const char *llms_tostring(lua_State *L, int i) { return lua_tolstring(L, i, NULL); }
static inline void llms_newtable(lua_State *L) { lua_createtable(L, 0, 0); }
static inline void *llms_newuserdata(lua_State *L, size_t sz) { return lua_newuserdatauv(L, sz, 0); }
static inline void llms_insert(lua_State *L, int i) { lua_rotate(L, i, 1); }
static inline void llms_remove(lua_State *L, int i) { lua_rotate(L, i, -1); lua_pop(L, 1); }
static inline void llms_replace(lua_State *L, int i) { lua_copy(L, -1, i); lua_pop(L, 1); }
static inline int llms_gc_step_kb(lua_State *L, int kb) { return lua_gc(L, LUA_GCSTEP, kb); }
static inline int llms_gc_collect(lua_State *L) { return lua_gc(L, LUA_GCCOLLECT); }
static inline int llms_gc_count_kb(lua_State *L) { return lua_gc(L, LUA_GCCOUNT); }
static inline int llms_isinteger(lua_State *L, int i) { return lua_isinteger(L, i); }
static inline void llms_pushcfunction(lua_State *L, lua_CFunction f) { lua_pushcclosure(L, f, 0); }
static inline int llms_getmetatable_named(lua_State *L, const char *name) { return luaL_getmetatable(L, name); }
static inline void llms_pushglobaltable(lua_State *L) { lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS); }
static inline void **llms_extraspace(lua_State *L) { return (void **)lua_getextraspace(L); }
static inline int llms_upvalue_is_trampoline(lua_State *L, int idx) { int id; return llms_function_id(L, idx, &id); }
/* Fast type check by metatable identity (the pointer is cached at registration). */
static inline void *llms_testudata_fast(lua_State *L, int idx, const void *mt) {
    void *p = lua_touserdata(L, idx);
    if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
    const void *m = lua_topointer(L, -1);
    lua_pop(L, 1);
    return m == mt ? p : NULL;
}

/* The sandbox (memory budgets, counting allocator, time-limit hook, watchdog). */
#include "llms_sandbox.h"
/* Pushes the table of sandboxed file functions (open, openfile, remove, rename, loadfile, readable) acting
 * through `policy` (an llmio_policy, see llms_fs.c); the host keeps the policy alive as long as the state. */
void llms_push_fs(lua_State *L, void *policy);
#endif
