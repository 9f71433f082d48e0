/* beneath.c: the implementation of llmio.h (see the contract there).
 * Resolution of `rel` from an allowed folder's descriptor:
 *   - openat2(root, rel, {flags, mode, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS}): the kernel refuses `..`
 *     above the root and links that leave it (absolute links included) with EXDEV, atomically;
 *   - otherwise (ENOSYS/EPERM from a kernel or seccomp filter without openat2) `walk`: one component at a
 *     time with openat(O_PATH|O_NOFOLLOW) from the descriptor of the previous one, a stack of descriptors for
 *     `..`, and a symbolic link's text (read from the link's own descriptor) spliced in front of the rest of
 *     the path; an absolute link or `..` above the root is EXDEV. Same semantics, no lookup by name from `/`. */
#define _GNU_SOURCE
#include "llmio.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define LLMIO_HAVE_OPENAT2 1
#endif

struct root { int fd; int writable; char *abs; char *real; char *shown; };
struct llmio_policy { int n, cap; struct root *roots; };

static _Thread_local void *current_policy = NULL;
void *llmio_current(void) { return current_policy; }
void llmio_set_current(void *policy) { current_policy = policy; }

static int force_walk = 0;
void llmio_force_walk(int on) { force_walk = on; }

#define WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)

/* `path` made absolute from the current directory, with empty and `.` components dropped (`..` kept: it is
 * resolved by the kernel beneath a folder, never lexically). NULL when out of memory or no cwd. */
static char *absolute(const char *path) {
    char cwd[PATH_MAX];
    const char *base = "";
    if (path[0] != '/') { if (!getcwd(cwd, sizeof cwd)) return NULL; base = cwd; }
    size_t cap = strlen(base) + strlen(path) + 3;
    char *joined = malloc(cap), *out = malloc(cap);
    if (!joined || !out) { free(joined); free(out); return NULL; }
    snprintf(joined, cap, "%s/%s", base, path);
    size_t o = 0;
    for (char *s = joined; *s;) {
        while (*s == '/') s++;
        char *e = s; while (*e && *e != '/') e++;
        size_t len = (size_t)(e - s);
        if (len && !(len == 1 && s[0] == '.')) { out[o++] = '/'; memcpy(out + o, s, len); o += len; }
        s = e;
    }
    if (o == 0) out[o++] = '/';
    out[o] = 0;
    free(joined);
    return out;
}

llmio_policy *llmio_policy_new(void) { return calloc(1, sizeof(llmio_policy)); }

void llmio_policy_free(llmio_policy *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) {
        close(p->roots[i].fd); free(p->roots[i].abs); free(p->roots[i].real); free(p->roots[i].shown);
    }
    free(p->roots); free(p);
}

static void mkdirs(const char *abs) {
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", abs) >= (int)sizeof buf) return;
    for (char *s = buf + 1; *s; s++) if (*s == '/') { *s = 0; mkdir(buf, 0755); *s = '/'; }
    mkdir(buf, 0755);
}

int llmio_policy_add(llmio_policy *p, const char *dir, const char *shown, int writable, int create) {
    char *abs = absolute(dir);
    if (!abs) return ENOMEM;
    if (create) mkdirs(abs);
    int fd = open(abs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) { int e = errno; free(abs); return e; }
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 4;
        struct root *r = realloc(p->roots, (size_t)cap * sizeof *r);
        if (!r) { close(fd); free(abs); return ENOMEM; }
        p->roots = r; p->cap = cap;
    }
    struct root *r = &p->roots[p->n++];
    r->fd = fd; r->writable = writable; r->abs = abs;
    r->real = realpath(abs, NULL);
    r->shown = shown ? strdup(shown) : NULL;
    return 0;
}

/* The rest of `abs` below `prefix` ("" for the folder itself), or NULL when `abs` is not inside it. */
static const char *below(const char *abs, const char *prefix) {
    if (!prefix) return NULL;
    size_t n = strlen(prefix);
    if (n == 1 && prefix[0] == '/') return abs + 1;
    if (strncmp(abs, prefix, n) != 0 || (abs[n] != 0 && abs[n] != '/')) return NULL;
    return abs[n] ? abs + n + 1 : abs + n;
}

/* ---- resolution beneath one descriptor ---- */

#define MAX_LINKS 40
#define MAX_DEPTH 256

static int walk(int rootfd, const char *rel, int flags, mode_t mode) {
    size_t cap = strlen(rel) + 1;
    char *rest = malloc(cap > 2 ? cap : 2);
    if (!rest) { errno = ENOMEM; return -1; }
    memcpy(rest, rel, cap);
    int stack[MAX_DEPTH], depth = 0, links = 0, result = -1, err = 0;
    size_t pos = 0;
#define CUR (depth ? stack[depth - 1] : rootfd)
    for (;;) {
        while (rest[pos] == '/') pos++;
        if (!rest[pos]) {   /* the path names a folder reached so far */
            result = openat(CUR, ".", flags | O_CLOEXEC, mode); err = errno; break;
        }
        size_t start = pos;
        while (rest[pos] && rest[pos] != '/') pos++;
        size_t len = pos - start;
        int last = rest[pos] == 0;
        char comp[NAME_MAX + 1];
        if (len > NAME_MAX) { err = ENAMETOOLONG; break; }
        memcpy(comp, rest + start, len); comp[len] = 0;
        if (strcmp(comp, ".") == 0) continue;
        if (strcmp(comp, "..") == 0) {
            if (depth == 0) { err = EXDEV; break; }
            close(stack[--depth]);
            continue;
        }
        char target[PATH_MAX];
        ssize_t tn = -1;
        if (!last) {
            int fd = openat(CUR, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) { err = errno; break; }
            struct stat st;
            if (fstat(fd, &st) != 0) { err = errno; close(fd); break; }
            if (S_ISLNK(st.st_mode)) {
                tn = readlinkat(fd, "", target, sizeof target - 1);
                close(fd);
                if (tn < 0) { err = errno; break; }
            } else if (S_ISDIR(st.st_mode)) {
                if (depth == MAX_DEPTH) { close(fd); err = ENAMETOOLONG; break; }
                stack[depth++] = fd;
                continue;
            } else { close(fd); err = ENOTDIR; break; }
        } else {
            int fd = openat(CUR, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
            if (fd >= 0) { result = fd; break; }
            err = errno;
            if ((err != ELOOP && err != ENOTDIR && err != EMLINK) || (flags & O_NOFOLLOW)) break;
            tn = readlinkat(CUR, comp, target, sizeof target - 1);
            if (tn < 0) {   /* not a link (any more): a race retries the component, anything else fails */
                if (errno == EINVAL && err == ELOOP && ++links <= MAX_LINKS) { pos = start; continue; }
                break;
            }
        }
        /* a symbolic link: its text replaces the component */
        if (++links > MAX_LINKS) { err = ELOOP; break; }
        target[tn] = 0;
        if (target[0] == '/') { err = EXDEV; break; }
        size_t restLen = strlen(rest + pos);   /* "" or "/more/components" */
        char *next = malloc((size_t)tn + restLen + 1);
        if (!next) { err = ENOMEM; break; }
        memcpy(next, target, (size_t)tn);
        memcpy(next + tn, rest + pos, restLen + 1);
        free(rest); rest = next; pos = 0;
    }
#undef CUR
    while (depth) close(stack[--depth]);
    free(rest);
    if (result < 0) errno = err;
    return result;
}

static int beneath(int rootfd, const char *rel, int flags, mode_t mode) {
    if (!*rel) rel = ".";
#ifdef LLMIO_HAVE_OPENAT2
    if (!force_walk) {
        struct open_how how;
        memset(&how, 0, sizeof how);
        how.flags = (unsigned long long)(flags | O_CLOEXEC);
        how.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;   /* O_TMPFILE includes O_DIRECTORY */
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        for (int tries = 0; tries < 8; tries++) {
            long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
            if (fd >= 0) return (int)fd;
            if (errno == EAGAIN) continue;   /* a concurrent rename: the kernel asks for a retry */
            if (errno != ENOSYS && errno != EPERM) return -1;
            break;
        }
        if (errno == EAGAIN) return -1;
    }
#endif
    return walk(rootfd, rel, flags, mode);
}

/* Tries the folders containing `abs` (longest first). `op` gets the folder's descriptor and the rest. */
typedef int (*root_op)(int rootfd, const char *rel, void *ctx);

static int with_roots(const llmio_policy *p, const char *path, int write, int *denied, root_op op, void *ctx) {
    if (denied) *denied = 0;
    char *abs = absolute(path);
    if (!abs) { errno = ENOMEM; return -1; }
    const char *rels[64]; int fds[64]; size_t lens[64]; int n = 0, readonlyMatch = 0;
    for (int i = 0; i < p->n && n < 64; i++) {
        const struct root *r = &p->roots[i];
        const char *aliases[2] = {r->abs, r->real};
        for (int k = 0; k < 2; k++) {
            const char *rel = below(abs, aliases[k]);
            if (!rel) continue;
            if (write && !r->writable) { readonlyMatch = 1; break; }
            size_t len = strlen(aliases[k]);
            int j = n++;
            while (j > 0 && lens[j - 1] < len) { rels[j] = rels[j - 1]; fds[j] = fds[j - 1]; lens[j] = lens[j - 1]; j--; }
            rels[j] = rel; fds[j] = r->fd; lens[j] = len;
            break;
        }
    }
    int result = -1, err = 0, escaped = 0;
    for (int i = 0; i < n; i++) {
        result = op(fds[i], rels[i], ctx);
        if (result >= 0) break;
        if (errno == EXDEV) escaped = 1; else if (!err) err = errno;
    }
    free(abs);
    if (result >= 0) return result;
    if (err) { errno = err; return -1; }
    if (denied) *denied = (readonlyMatch && !escaped) ? LLMIO_DENIED_READONLY : LLMIO_DENIED_OUTSIDE;
    errno = EACCES;
    return -1;
}

struct open_ctx { int flags; mode_t mode; };
static int op_open(int rootfd, const char *rel, void *ctx) {
    struct open_ctx *c = ctx;
    return beneath(rootfd, rel, c->flags, c->mode);
}

int llmio_open(const llmio_policy *p, const char *path, int flags, mode_t mode, int *denied) {
    if (denied) *denied = 0;
    if (!p) return open(path, flags | O_CLOEXEC, mode);
    struct open_ctx c = {flags, mode};
    return with_roots(p, path, (flags & WRITE_FLAGS) != 0, denied, op_open, &c);
}

/* Splits `rel` into its parent (opened beneath) and last component. */
struct parent_ctx { char *name; size_t cap; };
static int op_parent(int rootfd, const char *rel, void *ctx) {
    struct parent_ctx *c = ctx;
    size_t n = strlen(rel);
    while (n && rel[n - 1] == '/') n--;
    size_t s = n;
    while (s && rel[s - 1] != '/') s--;
    size_t len = n - s;
    if (len == 0) { errno = EBUSY; return -1; }   /* the allowed folder itself */
    if ((len == 1 && rel[s] == '.') || (len == 2 && rel[s] == '.' && rel[s + 1] == '.')) { errno = EINVAL; return -1; }
    if (len >= c->cap) { errno = ENAMETOOLONG; return -1; }
    memcpy(c->name, rel + s, len); c->name[len] = 0;
    char dir[PATH_MAX];
    if (s >= sizeof dir) { errno = ENAMETOOLONG; return -1; }
    memcpy(dir, rel, s); dir[s] = 0;
    return beneath(rootfd, dir, O_PATH | O_DIRECTORY, 0);
}

int llmio_open_parent(const llmio_policy *p, const char *path, int write, char *name, size_t cap, int *denied) {
    if (denied) *denied = 0;
    if (!p) {
        size_t n = strlen(path);
        while (n > 1 && path[n - 1] == '/') n--;
        size_t s = n;
        while (s && path[s - 1] != '/') s--;
        if (n - s >= cap || n == s) { errno = n == s ? EINVAL : ENAMETOOLONG; return -1; }
        memcpy(name, path + s, n - s); name[n - s] = 0;
        char dir[PATH_MAX];
        if (s >= sizeof dir) { errno = ENAMETOOLONG; return -1; }
        if (s == 0) strcpy(dir, "."); else { memcpy(dir, path, s); dir[s] = 0; }
        return open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    struct parent_ctx c = {name, cap};
    return with_roots(p, path, write, denied, op_parent, &c);
}

int llmio_mkdir(const llmio_policy *p, const char *path, mode_t mode, int *denied) {
    if (!p) { if (denied) *denied = 0; return mkdir(path, mode); }
    char name[NAME_MAX + 1];
    int dfd = llmio_open_parent(p, path, 1, name, sizeof name, denied);
    if (dfd < 0) return -1;
    int r = mkdirat(dfd, name, mode), e = errno;
    close(dfd); errno = e;
    return r;
}

int llmio_remove(const llmio_policy *p, const char *path, int dir, int *denied) {
    if (!p) { if (denied) *denied = 0; return dir ? rmdir(path) : unlink(path); }
    char name[NAME_MAX + 1];
    int dfd = llmio_open_parent(p, path, 1, name, sizeof name, denied);
    if (dfd < 0) return -1;
    int r = unlinkat(dfd, name, dir ? AT_REMOVEDIR : 0), e = errno;
    close(dfd); errno = e;
    return r;
}

int llmio_rename(const llmio_policy *p, const char *from, const char *to, int *denied) {
    if (!p) { if (denied) *denied = 0; return rename(from, to); }
    char a[NAME_MAX + 1], b[NAME_MAX + 1];
    int fa = llmio_open_parent(p, from, 1, a, sizeof a, denied);
    if (fa < 0) return -1;
    int fb = llmio_open_parent(p, to, 1, b, sizeof b, denied);
    if (fb < 0) { int e = errno; close(fa); errno = e; return -1; }
    int r = renameat(fa, a, fb, b), e = errno;
    close(fa); close(fb); errno = e;
    return r;
}

int llmio_denial_message(const llmio_policy *p, const char *path, int write, int denied, char *buf, size_t cap) {
    char folders[1024];
    size_t o = 0;
    folders[0] = 0;
    for (int i = 0; p && i < p->n; i++) {
        const struct root *r = &p->roots[i];
        if (!r->shown || (write && !r->writable)) continue;
        int seen = 0;   /* a folder given twice (as --allow-read and the recipe's folder, say) is named once */
        for (int j = 0; j < i && !seen; j++)
            seen = p->roots[j].shown && strcmp(p->roots[j].shown, r->shown) == 0 && (!write || p->roots[j].writable);
        if (seen) continue;
        int k = snprintf(folders + o, sizeof folders - o, "%s%s", o ? ", " : "", r->shown);
        if (k < 0 || (size_t)k >= sizeof folders - o) break;
        o += (size_t)k;
    }
    const char *verb = write ? "writing" : "reading";
    const char *where = write ? "outside the writable folders" : "outside the allowed folders";
    if (write && o == 0)
        return snprintf(buf, cap, "sandbox: %s '%s' is not allowed (%s; no folder is writable: name one with --allow-write DIR)",
                        verb, path, where);
    return snprintf(buf, cap, "sandbox: %s '%s' is not allowed (%s%s%s)", verb, path, where, o ? ": " : "", folders);
}
