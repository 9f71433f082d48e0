/* llms_sandbox.h: the sandbox's C side (llmscript --sandbox): per-state memory budgets, the counting
 * allocator, the time-limit hook and the process watchdog. Implementation in llms_sandbox.c.
 *
 * Memory: every sandboxed state charges one budget (llms_budget). A budget has its own limit and an
 * optional parent; a charge is applied to the budget and to every ancestor and fails when any of them
 * would pass its limit, so worker states (children of the state that started them, created with the
 * parent's remaining budget as their limit) can never take more than the parent has left. Budgets are
 * reference counted: native memory (tensor storages, transient Swift buffers) holds a reference until it
 * is freed, so a budget outlives its state when a tensor does. Nothing is process-wide: closing a state
 * releases its reference and changes no other state's limit. */
#ifndef LLMS_SANDBOX_H
#define LLMS_SANDBOX_H
#include <stddef.h>
#if __has_include(<lua5.4/lua.h>)
#include <lua5.4/lua.h>
#else
#include <lua.h>
#endif

/* Opaque: its counters are C11 atomics (charged from any thread). */
typedef struct llms_budget llms_budget;
/* A budget of `limit` bytes (0: no limit of its own) under `parent` (NULL: none); holds one reference
 * on the parent. Returns NULL when out of memory. The caller owns one reference. */
llms_budget *llms_budget_new(size_t limit, llms_budget *parent);
void llms_budget_retain(llms_budget *b);
void llms_budget_release(llms_budget *b);
/* Adds n bytes to b and its ancestors. Returns 1 when all stay within their limits; otherwise returns 0
 * and charges nothing, unless `force` (then the bytes stay charged: the caller must credit them). */
int llms_budget_charge(llms_budget *b, size_t n, int force);
/* Removes n bytes from b and its ancestors. */
void llms_budget_credit(llms_budget *b, size_t n);
/* Bytes charged to b (its own allocations and its children's). */
size_t llms_budget_used(const llms_budget *b);
/* b's own limit (0: none). */
size_t llms_budget_limit(const llms_budget *b);
/* The most that can still be charged to b: the smallest headroom over b and its ancestors
 * (SIZE_MAX when none has a limit). */
size_t llms_budget_available(const llms_budget *b);
/* The limit that applies to b: its own or the nearest ancestor's (0: none). */
size_t llms_budget_effective_limit(const llms_budget *b);

/* A sandboxed state's record, the userdata of its counting allocator. The allocator charges Lua heap
 * growth to `budget` and refuses growth past it; inside a native call (in_native > 0) growth is granted
 * and flagged (`over`), so no allocation error longjmps across Swift; the trampoline raises it after the
 * Swift frame returns. The count hook raises "time limit" at every tick after the deadline. */
typedef struct llms_sandbox {
    size_t used;        /* this state's Lua heap bytes (as malloc chunks: request + header, rounded) */
    size_t limit;       /* the memory limit that applies to this state (0: none) */
    size_t held;        /* bytes a running native call holds for transient buffers (llms_sandbox_hold) */
    int in_native;      /* > 0 while a native function runs */
    int over;           /* the limit was passed inside a native call */
    int mem_hit;        /* the limit refused an allocation at least once */
    int expired;        /* the time limit passed */
    double limit_s;     /* 0: no time limit */
    double deadline;    /* monotonic seconds */
    llms_budget *budget;/* the state's budget (one reference) */
    void *host;         /* the host's object for this budget (retained by the host; see MemoryBudget.swift) */
} llms_sandbox;

/* A new state with the counting allocator and its own budget of limit_bytes (0: none); NULL when out of
 * memory. Close it with llms_sandbox_close. */
lua_State *llms_sandbox_newstate(size_t limit_bytes);
/* A new sandboxed state whose budget is a child of `parent`: its limit is what the parent has left now,
 * and everything it allocates is charged to the parent too. */
lua_State *llms_sandbox_newstate_child(llms_budget *parent);
/* The sandbox of a state, or NULL for an ordinary state. */
llms_sandbox *llms_sandbox_of(lua_State *L);
/* lua_close, then releases the state's budget reference and frees the record. */
void llms_sandbox_close(lua_State *L);
/* Charges n bytes of transient native memory to the state's budget until the running native call
 * returns (the host credits `held` then). Returns 0, charging nothing, when they do not fit. */
int llms_sandbox_hold(llms_sandbox *sb, size_t n);
/* Starts the time limit now: a count hook every 10000 instructions checks the monotonic clock. */
void llms_sandbox_set_time_limit(lua_State *L, double seconds);
/* Lua function: returns expired (boolean), memory limit hit (boolean), the limits (bytes, seconds). */
int llms_sandbox_status(lua_State *L);
/* Monotonic clock in seconds. */
double llms_monotonic(void);
/* lua_pcall for host callbacks from inside a native call: Lua code run from here is counted normally. */
int llms_callback_pcall(lua_State *L, int nargs, int nresults);
/* Process watchdog for native calls the hook cannot interrupt: after `seconds`, prints `message` to
 * stderr and exits with status 1. 0 disarms it. */
void llms_watchdog_arm(double seconds, const char *message);

/* Internal to CLuaShim (the trampoline and the Ctrl-C hook). */
int llms_sandbox_raise_timeout(lua_State *L, llms_sandbox *sb);
void llms_sandbox_set_hook(lua_State *L, int count);
#endif
