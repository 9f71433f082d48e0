// mpi_shim.c: implementation of llms_mpi.h. libmpi is opened with RTLD_NOW | RTLD_GLOBAL (Open MPI's
// mca_*.so plugins resolve symbols from it); function pointers are declared here from mpi.h's prototypes.
#define _GNU_SOURCE
#include "llms_mpi.h"
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef void *Comm, *Dtype, *Op, *Errh;
static int (*p_init)(int *, char ***);
static int (*p_initialized)(int *);
static int (*p_finalized)(int *);
static int (*p_finalize)(void);
static int (*p_rank)(Comm, int *);
static int (*p_size)(Comm, int *);
static int (*p_barrier)(Comm);
static int (*p_bcast)(void *, int, Dtype, int, Comm);
static int (*p_allreduce)(const void *, void *, int, Dtype, Op, Comm);
static int (*p_allgather)(const void *, int, Dtype, void *, int, Dtype, Comm);
static int (*p_split)(Comm, int, int, Comm *);
static int (*p_set_errh)(Comm, Errh);
static int (*p_error_string)(int, char *, int *);
static int (*p_abort)(Comm, int);
static void *h_world, *h_float, *h_byte, *h_int64, *h_sum, *h_max, *h_min, *h_errors_return;
static char load_error[512];
static int loaded;

const char *llms_mpi_error(void) { return load_error; }

#define SYM(var, name)                                                                                   \
    do {                                                                                                 \
        *(void **)&(var) = dlsym(lib, name);                                                             \
        if (!(var)) { snprintf(load_error, sizeof load_error, "%s lacks symbol %s (not Open MPI?)", path, name); return 2; } \
    } while (0)

int llms_mpi_load(const char *path) {
    if (loaded) return 0;
    if (!path) path = getenv("LLMS_MPI_LIB");
    if (!path || !*path) path = "libmpi.so.40";
    void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!lib) { snprintf(load_error, sizeof load_error, "%s", dlerror()); return 1; }
    SYM(p_init, "MPI_Init"); SYM(p_initialized, "MPI_Initialized"); SYM(p_finalized, "MPI_Finalized");
    SYM(p_finalize, "MPI_Finalize"); SYM(p_rank, "MPI_Comm_rank"); SYM(p_size, "MPI_Comm_size");
    SYM(p_barrier, "MPI_Barrier"); SYM(p_bcast, "MPI_Bcast"); SYM(p_allreduce, "MPI_Allreduce");
    SYM(p_allgather, "MPI_Allgather"); SYM(p_split, "MPI_Comm_split");
    SYM(p_set_errh, "MPI_Comm_set_errhandler"); SYM(p_error_string, "MPI_Error_string"); SYM(p_abort, "MPI_Abort");
    SYM(h_world, "ompi_mpi_comm_world"); SYM(h_float, "ompi_mpi_float"); SYM(h_byte, "ompi_mpi_byte");
    SYM(h_int64, "ompi_mpi_int64_t"); SYM(h_sum, "ompi_mpi_op_sum"); SYM(h_max, "ompi_mpi_op_max");
    SYM(h_min, "ompi_mpi_op_min"); SYM(h_errors_return, "ompi_mpi_errors_return");
    loaded = 1;
    return 0;
}

static void finalize_at_exit(void) {
    int fin = 0;
    if (p_finalized && p_finalized(&fin) == 0 && !fin) p_finalize();
}

int llms_mpi_init(void) {
    int done = 0;
    p_initialized(&done);
    if (done) return 0;
    int rc = p_init(NULL, NULL);
    if (rc) return rc;
    p_set_errh(h_world, h_errors_return);
    atexit(finalize_at_exit);
    return 0;
}

void *llms_mpi_world(void) { return h_world; }
int llms_mpi_rank(void *c, int *r) { return p_rank(c, r); }
int llms_mpi_size(void *c, int *s) { return p_size(c, s); }
int llms_mpi_barrier(void *c) { return p_barrier(c); }

static void *op_of(int op) { return op == 1 ? h_max : op == 2 ? h_min : h_sum; }

int llms_mpi_bcast(void *c, void *buf, int64_t count, int bytes, int root) {
    size_t item = bytes ? 1 : sizeof(float);
    for (int64_t done = 0; done < count;) {  // MPI counts are int: large buffers go in chunks
        int n = (int)(count - done > INT_MAX / 2 ? INT_MAX / 2 : count - done);
        int rc = p_bcast((char *)buf + done * item, n, bytes ? h_byte : h_float, root, c);
        if (rc) return rc;
        done += n;
    }
    return 0;
}

int llms_mpi_allreduce_float(void *c, float *buf, int64_t count, int op) {
    for (int64_t done = 0; done < count;) {
        int n = (int)(count - done > INT_MAX / 2 ? INT_MAX / 2 : count - done);
        int rc = p_allreduce((void *)1 /* MPI_IN_PLACE */, buf + done, n, h_float, op_of(op), c);
        if (rc) return rc;
        done += n;
    }
    return 0;
}

int llms_mpi_allreduce_int64(void *c, int64_t *buf, int count, int op) {
    return p_allreduce((void *)1, buf, count, h_int64, op_of(op), c);
}

int llms_mpi_allgather_float(void *c, const float *send, float *recv, int count) {
    return p_allgather(send, count, h_float, recv, count, h_float, c);
}

int llms_mpi_split(void *c, int color, int key, void **out) {
    int rc = p_split(c, color, key, out);
    if (rc == 0) p_set_errh(*out, h_errors_return);
    return rc;
}

void llms_mpi_error_string(int code, char *buf, int len) {
    int n = 0;
    if (!p_error_string || p_error_string(code, buf, &n) != 0) snprintf(buf, (size_t)len, "MPI error %d", code);
}

void llms_mpi_abort(int code) {
    if (p_abort) p_abort(h_world, code);
    _exit(code);
}

// Watchdog: one thread, started on first use, wakes at the armed deadline.
static pthread_mutex_t wd_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cv = PTHREAD_COND_INITIALIZER;
static int wd_started, wd_armed;
static struct timespec wd_deadline;
static char wd_message[512];

static void *watchdog(void *arg) {
    (void)arg;
    pthread_mutex_lock(&wd_mu);
    for (;;) {
        if (!wd_armed) { pthread_cond_wait(&wd_cv, &wd_mu); continue; }
        int rc = pthread_cond_timedwait(&wd_cv, &wd_mu, &wd_deadline);
        if (rc != 0 && wd_armed) {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            if (now.tv_sec > wd_deadline.tv_sec || (now.tv_sec == wd_deadline.tv_sec && now.tv_nsec >= wd_deadline.tv_nsec)) {
                fprintf(stderr, "%s\n", wd_message);
                fflush(stderr);
                llms_mpi_abort(3);
            }
        }
    }
    return NULL;
}

void llms_mpi_watch_begin(const char *message, double seconds) {
    pthread_mutex_lock(&wd_mu);
    if (!wd_started) {
        pthread_t t;
        if (pthread_create(&t, NULL, watchdog, NULL) == 0) { pthread_detach(t); wd_started = 1; }
    }
    snprintf(wd_message, sizeof wd_message, "%s", message);
    clock_gettime(CLOCK_REALTIME, &wd_deadline);
    time_t whole = (time_t)seconds;
    wd_deadline.tv_sec += whole;
    wd_deadline.tv_nsec += (long)((seconds - (double)whole) * 1e9);
    if (wd_deadline.tv_nsec >= 1000000000L) { wd_deadline.tv_sec += 1; wd_deadline.tv_nsec -= 1000000000L; }
    wd_armed = 1;
    pthread_cond_signal(&wd_cv);
    pthread_mutex_unlock(&wd_mu);
}

void llms_mpi_watch_end(void) {
    pthread_mutex_lock(&wd_mu);
    wd_armed = 0;
    pthread_cond_signal(&wd_cv);
    pthread_mutex_unlock(&wd_mu);
}
