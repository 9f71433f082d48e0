/* llms_fs.c: the file functions of a sandboxed state (io.open, the opening half of io.lines/io.input/
 * io.output, os.remove, os.rename, loadfile and the module searcher's reads), acting through an llmio
 * policy (CLLMIO/llmio.h: resolution beneath the allowed folders' descriptors, no link followed out).
 * Contract: each function converts its path exactly like the Lua function it replaces (luaL_checklstring /
 * luaL_optlstring: strings, and numbers converted to strings; anything else is Lua's own type error), checks
 * and opens *that* string, and hands Lua a real file handle (a luaL_Stream with the LUA_FILEHANDLE metatable
 * over fdopen of the descriptor), so Lua's io semantics are unchanged. Denials: io.open returns nil, message,
 * EACCES (like a missing file); the others raise. The policy is the C closure's first upvalue (light
 * userdata), owned by the host for the life of the state. */
#include "llms_lua.h"
#include "llmio.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const llmio_policy *policy(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

/* Pushes the denial message for `path`. */
static void push_denial(lua_State *L, const char *path, int write, int denied) {
    char buf[2048];
    llmio_denial_message(policy(L), path, write, denied, buf, sizeof buf);
    lua_pushstring(L, buf);
}

/* Lua's l_checkmode: [rwa]%+?b* */
static int valid_mode(const char *mode) {
    if (*mode == '\0' || strchr("rwa", *mode) == NULL) return 0;
    mode++;
    if (*mode == '+') mode++;
    return strspn(mode, "b") == strlen(mode);
}

static int open_flags(const char *mode) {
    int plus = strchr(mode, '+') != NULL;
    switch (mode[0]) {
    case 'w': return (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC;
    case 'a': return (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_APPEND;
    default: return plus ? O_RDWR : O_RDONLY;
    }
}

static int fs_fclose(lua_State *L) {
    luaL_Stream *p = (luaL_Stream *)luaL_checkudata(L, 1, LUA_FILEHANDLE);
    int res = fclose(p->f);
    return luaL_fileresult(L, res == 0, NULL);
}

/* Opens `path` with an fopen `mode` through the policy. Returns the FILE* or NULL with errno, *denied set. */
static FILE *policy_fopen(lua_State *L, const char *path, const char *mode, int *denied) {
    int fd = llmio_open(policy(L), path, open_flags(mode), 0666, denied);
    if (fd < 0) return NULL;
    char m[4] = {mode[0], strchr(mode, '+') ? '+' : 0, 0, 0};
    FILE *f = fdopen(fd, m);
    if (!f) { int e = errno; close(fd); errno = e; }
    return f;
}

static void push_stream(lua_State *L, FILE *f) {
    luaL_Stream *p = (luaL_Stream *)lua_newuserdatauv(L, sizeof(luaL_Stream), 0);
    p->closef = NULL;
    luaL_setmetatable(L, LUA_FILEHANDLE);
    p->f = f;
    p->closef = &fs_fclose;
}

/* io.open(filename [, mode]) */
static int fs_open(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    const char *mode = luaL_optstring(L, 2, "r");
    luaL_argcheck(L, valid_mode(mode), 2, "invalid mode");
    int denied = 0;
    FILE *f = policy_fopen(L, path, mode, &denied);
    if (!f) {
        if (!denied) return luaL_fileresult(L, 0, path);
        luaL_pushfail(L);
        push_denial(L, path, open_flags(mode) != O_RDONLY, denied);
        lua_pushinteger(L, EACCES);
        return 3;
    }
    push_stream(L, f);
    return 1;
}

/* openfile(filename, mode): a file handle, or raises (the denial, or Lua's "cannot open file" wording).
 * The opening half of io.lines, io.input and io.output; numbers convert like lua_tostring does there. */
static int fs_openfile(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    const char *mode = luaL_optstring(L, 2, "r");
    luaL_argcheck(L, valid_mode(mode), 2, "invalid mode");
    int denied = 0;
    FILE *f = policy_fopen(L, path, mode, &denied);
    if (!f) {
        if (denied) { push_denial(L, path, open_flags(mode) != O_RDONLY, denied); return lua_error(L); }
        return luaL_error(L, "cannot open file '%s' (%s)", path, strerror(errno));
    }
    push_stream(L, f);
    return 1;
}

/* os.remove(filename): a file, or an empty folder (like C's remove). */
static int fs_remove(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    int denied = 0;
    int r = llmio_remove(policy(L), path, 0, &denied);
    if (r != 0 && !denied && (errno == EISDIR || errno == EPERM)) r = llmio_remove(policy(L), path, 1, &denied);
    if (denied) { push_denial(L, path, 1, denied); return lua_error(L); }
    return luaL_fileresult(L, r == 0, path);
}

/* os.rename(oldname, newname) */
static int fs_rename(lua_State *L) {
    const char *from = luaL_checkstring(L, 1);
    const char *to = luaL_checkstring(L, 2);
    int denied = 0;
    int r = llmio_rename(policy(L), from, to, &denied);
    if (denied) {
        /* name the path that was refused: try the source alone */
        char name[256];
        int d2 = 0, fd = llmio_open_parent(policy(L), from, 1, name, sizeof name, &d2);
        if (fd >= 0) close(fd);
        push_denial(L, d2 ? from : to, 1, d2 ? d2 : denied);
        return lua_error(L);
    }
    return luaL_fileresult(L, r == 0, NULL);
}

/* Reads the whole file at descriptor fd into a Lua buffer on the stack. Returns 0 or an errno. */
static int read_all(lua_State *L, int fd, luaL_Buffer *b) {
    luaL_buffinit(L, b);
    for (;;) {
        char *p = luaL_prepbuffer(b);
        ssize_t n = read(fd, p, LUAL_BUFFERSIZE);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) return 0;
        luaL_addsize(b, (size_t)n);
    }
}

/* loadfile([filename [, mode [, env]]]) as text only: like luaL_loadfilex (a first line starting with '#'
 * is skipped, a UTF-8 BOM too), returning the chunk or nil and the message; a denial raises. */
static int fs_loadfile(lua_State *L) {
    const char *path = luaL_optstring(L, 1, NULL);
    int env = !lua_isnone(L, 3) ? 3 : 0;
    int status;
    if (path == NULL) {
        status = luaL_loadfilex(L, NULL, "t");   /* standard input: no path to check */
    } else {
        int denied = 0;
        int fd = llmio_open(policy(L), path, O_RDONLY, 0, &denied);
        if (fd < 0) {
            if (denied) { push_denial(L, path, 0, denied); return lua_error(L); }
            luaL_pushfail(L);
            lua_pushfstring(L, "cannot open %s: %s", path, strerror(errno));
            return 2;
        }
        luaL_Buffer b;
        int e = read_all(L, fd, &b);
        close(fd);
        if (e) { luaL_pushfail(L); lua_pushfstring(L, "cannot read %s: %s", path, strerror(e)); return 2; }
        luaL_pushresult(&b);
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        size_t skip = 0;
        if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) skip = 3;
        if (skip < len && s[skip] == '#') {   /* keep the newline so line numbers stay right */
            while (skip < len && s[skip] != '\n') skip++;
        }
        lua_pushfstring(L, "@%s", path);
        status = luaL_loadbufferx(L, s + skip, len - skip, lua_tostring(L, -1), "t");
        lua_remove(L, -2); lua_remove(L, -2);   /* the chunk name and the source */
    }
    if (status != LUA_OK) { luaL_pushfail(L); lua_insert(L, -2); return 2; }
    if (env) {
        lua_pushvalue(L, env);
        if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
    }
    return 1;
}

/* readable(filename): true, or nil and 'denied' / 'missing' (for the module searcher). */
static int fs_readable(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    int denied = 0;
    int fd = llmio_open(policy(L), path, O_RDONLY, 0, &denied);
    if (fd >= 0) { close(fd); lua_pushboolean(L, 1); return 1; }
    luaL_pushfail(L);
    lua_pushstring(L, denied ? "denied" : "missing");
    return 2;
}

void llms_push_fs(lua_State *L, void *policy) {
    static const luaL_Reg fns[] = {
        {"open", fs_open}, {"openfile", fs_openfile}, {"remove", fs_remove}, {"rename", fs_rename},
        {"loadfile", fs_loadfile}, {"readable", fs_readable}, {NULL, NULL},
    };
    lua_createtable(L, 0, 6);
    for (const luaL_Reg *r = fns; r->name; r++) {
        lua_pushlightuserdata(L, policy);
        lua_pushcclosure(L, r->func, 1);
        lua_setfield(L, -2, r->name);
    }
}
