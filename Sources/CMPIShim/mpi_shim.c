// mpi_shim.c: implementation of llms_mpi.h. libmpi is opened with RTLD_NOW | RTLD_GLOBAL (Open MPI's
// mca_*.so plugins resolve symbols from it); function pointers are declared here from mpi.h's prototypes.
#define _GNU_SOURCE
#include "llms_mpi.h"
#include <dlfcn.h>
#include <limits.h>
#include <math.h>
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
typedef void *Req;
typedef struct { int source, tag, error, cancelled; size_t ucount; char reserved[32]; } Status;  // Open MPI's MPI_Status (padded)
typedef void (*UserFn)(void *, void *, int *, Dtype *);
static int (*p_reduce_scatter_block)(const void *, void *, int, Dtype, Op, Comm);
static int (*p_send)(const void *, int, Dtype, int, int, Comm);
static int (*p_recv)(void *, int, Dtype, int, int, Comm, Status *);
static int (*p_isend)(const void *, int, Dtype, int, int, Comm, Req *);
static int (*p_irecv)(void *, int, Dtype, int, int, Comm, Req *);
static int (*p_iallreduce)(const void *, void *, int, Dtype, Op, Comm, Req *);
static int (*p_wait)(Req *, Status *);
static int (*p_test)(Req *, int *, Status *);
static int (*p_get_count)(const Status *, Dtype, int *);
static int (*p_op_create)(UserFn, int, Op *);
static void *h_uint16, *h_half_sum, *h_bf16_sum;
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
    SYM(p_reduce_scatter_block, "MPI_Reduce_scatter_block"); SYM(p_send, "MPI_Send"); SYM(p_recv, "MPI_Recv");
    SYM(p_isend, "MPI_Isend"); SYM(p_irecv, "MPI_Irecv"); SYM(p_iallreduce, "MPI_Iallreduce"); SYM(p_wait, "MPI_Wait");
    SYM(p_test, "MPI_Test"); SYM(p_get_count, "MPI_Get_count"); SYM(p_op_create, "MPI_Op_create");
    SYM(h_uint16, "ompi_mpi_uint16_t");
    loaded = 1;
    return 0;
}

static void finalize_at_exit(void) {
    int fin = 0;
    if (p_finalized && p_finalized(&fin) == 0 && !fin) p_finalize();
}

// 16-bit float formats, converted in software (the baseline x86-64 build has no F16C), round to nearest even.
static inline float f32_of_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t bits_of_f32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static uint16_t bf16_from_f32(float f) {
    uint32_t u = bits_of_f32(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);  // NaN stays NaN (quiet)
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}
static float f32_from_bf16(uint16_t h) { return f32_of_bits((uint32_t)h << 16); }

static uint16_t half_from_f32(float f) {
    uint32_t u = bits_of_f32(f), sign = (u >> 16) & 0x8000u;
    u &= 0x7fffffffu;
    if (u > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);          // NaN
    if (u >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);         // rounds to >= 65520: infinity
    if (u < 0x38800000u) {                                           // below the smallest normal half: subnormal or 0
        float a = f32_of_bits(u) * 16777216.0f;                      // scale by 2^24: the subnormal's integer mantissa
        return (uint16_t)(sign | (uint32_t)nearbyintf(a));           // current rounding mode: nearest even
    }
    uint32_t mant_odd = (u >> 13) & 1u;
    u += 0xc8000fffu + mant_odd;                                     // re-bias exponent (-112 << 23) and round
    return (uint16_t)(sign | (u >> 13));
}
static float f32_from_half(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0) return sign ? -(float)mant / 16777216.0f : (float)mant / 16777216.0f;
    if (exp == 31) return f32_of_bits(sign | 0x7f800000u | (mant << 13));
    return f32_of_bits(sign | ((exp + 112u) << 23) | (mant << 13));
}

static void half_sum(void *in, void *inout, int *len, Dtype *dt) {
    (void)dt;
    const uint16_t *a = in;
    uint16_t *b = inout;
    for (int i = 0; i < *len; i++) b[i] = half_from_f32(f32_from_half(a[i]) + f32_from_half(b[i]));
}
static void bf16_sum(void *in, void *inout, int *len, Dtype *dt) {
    (void)dt;
    const uint16_t *a = in;
    uint16_t *b = inout;
    for (int i = 0; i < *len; i++) b[i] = bf16_from_f32(f32_from_bf16(a[i]) + f32_from_bf16(b[i]));
}

int llms_mpi_init(void) {
    int done = 0;
    p_initialized(&done);
    if (done) return 0;
    int rc = p_init(NULL, NULL);
    if (rc) return rc;
    p_set_errh(h_world, h_errors_return);
    atexit(finalize_at_exit);
    rc = p_op_create(half_sum, 1, &h_half_sum);
    if (rc == 0) rc = p_op_create(bf16_sum, 1, &h_bf16_sum);
    if (rc) return rc;
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

int llms_mpi_reduce_scatter_float(void *c, const float *send, float *recv, int count, int op) {
    return p_reduce_scatter_block(send, recv, count, h_float, op_of(op), c);
}

int llms_mpi_send_float(void *c, const float *buf, int count, int dest, int tag) { return p_send(buf, count, h_float, dest, tag, c); }

static int received_floats(Status *st, int *received) {
    int n = 0, rc = p_get_count(st, h_float, &n);
    if (received) *received = n;
    return rc;
}

int llms_mpi_recv_float(void *c, float *buf, int count, int source, int tag, int *received) {
    Status st;
    memset(&st, 0, sizeof st);
    int rc = p_recv(buf, count, h_float, source, tag, c, &st);
    if (rc) return rc;
    return received_floats(&st, received);
}

int llms_mpi_isend_float(void *c, const float *buf, int count, int dest, int tag, void **req) {
    return p_isend(buf, count, h_float, dest, tag, c, req);
}
int llms_mpi_irecv_float(void *c, float *buf, int count, int source, int tag, void **req) {
    return p_irecv(buf, count, h_float, source, tag, c, req);
}
int llms_mpi_iallreduce_float(void *c, float *buf, int count, int op, void **req) {
    return p_iallreduce((void *)1, buf, count, h_float, op_of(op), c, req);
}

int llms_mpi_wait(void **req, int *received) {
    Status st;
    memset(&st, 0, sizeof st);
    int rc = p_wait(req, &st);
    if (rc) return rc;
    if (received) { *received = -1; received_floats(&st, received); }
    return 0;
}

int llms_mpi_test(void **req, int *done, int *received) {
    Status st;
    memset(&st, 0, sizeof st);
    int rc = p_test(req, done, &st);
    if (rc) return rc;
    if (*done && received) { *received = -1; received_floats(&st, received); }
    return 0;
}

int llms_mpi_allreduce_half(void *c, float *buf, int64_t count, int kind) {
    if (count <= 0) return 0;
    uint16_t *w = malloc((size_t)count * sizeof(uint16_t));
    if (!w) return -1;
    for (int64_t i = 0; i < count; i++) w[i] = kind ? bf16_from_f32(buf[i]) : half_from_f32(buf[i]);
    int rc = 0;
    for (int64_t done = 0; done < count && rc == 0;) {
        int n = (int)(count - done > INT_MAX / 2 ? INT_MAX / 2 : count - done);
        rc = p_allreduce((void *)1, w + done, n, h_uint16, kind ? h_bf16_sum : h_half_sum, c);
        done += n;
    }
    if (rc == 0)
        for (int64_t i = 0; i < count; i++) buf[i] = kind ? f32_from_bf16(w[i]) : f32_from_half(w[i]);
    free(w);
    return rc;
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
