/* llmio: opening, creating, renaming and removing files *beneath* allowed folders (the sandbox's file rule),
 * shared by the Swift IO layer (LLMIO) and the Lua io/os functions of a sandboxed state (CLuaShim/llms_fs.c).
 * Contract: a policy holds a directory descriptor for every allowed folder, opened once. A path is made
 * absolute (lexically, from the current directory), matched against the folders, and the rest of it is
 * resolved from the folder's descriptor by the kernel: openat2(RESOLVE_BENEATH) where the kernel has it,
 * otherwise component by component with openat(O_NOFOLLOW) from descriptors, following a symbolic link only
 * while it stays inside the folder. `..` or a link leading out of the folder is refused (EXDEV), whatever a
 * concurrent process swaps in between, because nothing is ever looked up again by name from `/`.
 * Removals, renames and new folders act from the descriptor of the resolved parent (unlinkat, renameat,
 * mkdirat). With a NULL policy every function acts on the plain path (a trusted state). */
#ifndef LLMIO_H
#define LLMIO_H
#include <stddef.h>
#include <sys/types.h>

typedef struct llmio_policy llmio_policy;

/* open(2)'s O_PATH (glibc hides it without _GNU_SOURCE, which Swift does not define). */
#define LLMIO_O_PATH 010000000

/* Why a policy refused a path (0: it did not; the call then failed, if at all, with the system's errno). */
#define LLMIO_DENIED_OUTSIDE  1   /* outside every allowed folder, or `..`/a link leads out of it */
#define LLMIO_DENIED_READONLY 2   /* inside a folder that may be read but not written */

llmio_policy *llmio_policy_new(void);
void llmio_policy_free(llmio_policy *p);
/* Allows `dir` (opened now, following links: the user chose it). `shown`: how denials name it (the text the
 * user wrote; NULL keeps it out of messages). `create`: make a missing folder first (mkdir -p).
 * Returns 0, or an errno when the folder cannot be opened. */
int llmio_policy_add(llmio_policy *p, const char *dir, const char *shown, int writable, int create);

/* open(2) of `path` with `flags` (O_CLOEXEC is added). A write (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC,
 * O_APPEND) needs a writable folder. Returns the descriptor, or -1 with errno (EACCES and *denied set when
 * the policy refused). `denied` may be NULL. */
int llmio_open(const llmio_policy *p, const char *path, int flags, mode_t mode, int *denied);
/* mkdir(2), unlink(2) (dir != 0: rmdir), rename(2): all need writable folders, act on the last component
 * from the descriptor of its resolved parent, never follow a link in the last component. */
int llmio_mkdir(const llmio_policy *p, const char *path, mode_t mode, int *denied);
int llmio_remove(const llmio_policy *p, const char *path, int dir, int *denied);
int llmio_rename(const llmio_policy *p, const char *from, const char *to, int *denied);
/* The parent folder of `path` opened O_PATH|O_DIRECTORY beneath an allowed folder, and its last component
 * copied into `name` (cap bytes). For *at operations the Swift side does itself (recursive removal). */
int llmio_open_parent(const llmio_policy *p, const char *path, int write, char *name, size_t cap, int *denied);

/* The sandbox's message for a refusal: `sandbox: reading 'P' is not allowed (outside the allowed folders:
 * a, b)`, with `P` as given and only the folders' shown names. Returns the length (snprintf semantics). */
int llmio_denial_message(const llmio_policy *p, const char *path, int write, int denied, char *buf, size_t cap);

/* The policy in force on this thread (an opaque host object, NULL for none): a thread-local slot the
 * Swift side sets for the duration of a sandboxed call (FileAccess.with). */
void *llmio_current(void);
void llmio_set_current(void *policy);

/* Testing aid: 1 makes the resolution use the openat(O_NOFOLLOW) walk even where openat2 exists. */
void llmio_force_walk(int on);
#endif
