// llms_mpi.h: the MPI calls llmscript uses, reached through libmpi loaded at run time (dlopen), so the
// build needs no MPI headers or library and the binary runs where MPI is absent. Open MPI ABI only:
// handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the addresses of exported globals, MPI_IN_PLACE
// is (void *)1. Every call returns the MPI error code (0 = success); communicators are opaque pointers.
// A watchdog thread aborts the job with a message when a collective has not finished by its deadline.
#ifndef LLMS_MPI_H
#define LLMS_MPI_H
#include <stdint.h>

/// Loads libmpi (path, or NULL for LLMS_MPI_LIB or "libmpi.so.40"). 0 on success; otherwise see llms_mpi_error().
int llms_mpi_load(const char *path);
/// The last load error (dlerror text), or "".
const char *llms_mpi_error(void);
/// MPI_Init (once; sets MPI_ERRORS_RETURN on the world communicator and finalizes at exit).
int llms_mpi_init(void);
/// The world communicator (valid after llms_mpi_init).
void *llms_mpi_world(void);
int llms_mpi_rank(void *comm, int *rank);
int llms_mpi_size(void *comm, int *size);
int llms_mpi_barrier(void *comm);
/// Broadcast of count floats (or bytes when bytes != 0) from root, in place.
int llms_mpi_bcast(void *comm, void *buf, int64_t count, int bytes, int root);
/// In-place all-reduce of count floats; op: 0 sum, 1 max, 2 min.
int llms_mpi_allreduce_float(void *comm, float *buf, int64_t count, int op);
/// In-place all-reduce of count int64 values; op: 0 sum, 1 max, 2 min.
int llms_mpi_allreduce_int64(void *comm, int64_t *buf, int count, int op);
/// All-gather: each rank contributes count floats; recv holds size * count floats in rank order.
int llms_mpi_allgather_float(void *comm, const float *send, float *recv, int count);
/// MPI_Reduce_scatter_block: send holds size * count floats; recv receives this rank's count (op as above).
int llms_mpi_reduce_scatter_float(void *comm, const float *send, float *recv, int count, int op);
/// Blocking point-to-point of count floats with a tag. recv stores the number of floats received in *received.
int llms_mpi_send_float(void *comm, const float *buf, int count, int dest, int tag);
int llms_mpi_recv_float(void *comm, float *buf, int count, int source, int tag, int *received);
/// Non-blocking operations: *request receives an opaque MPI_Request, completed by llms_mpi_wait / llms_mpi_test.
int llms_mpi_isend_float(void *comm, const float *buf, int count, int dest, int tag, void **request);
int llms_mpi_irecv_float(void *comm, float *buf, int count, int source, int tag, void **request);
/// In-place non-blocking all-reduce of count floats; op: 0 sum, 1 max, 2 min.
int llms_mpi_iallreduce_float(void *comm, float *buf, int count, int op, void **request);
/// Waits for a request; *received: floats received (receives; -1 for other requests). Frees the request.
int llms_mpi_wait(void **request, int *received);
/// Tests a request: *done 1 when complete (then freed, *received as for wait), else 0.
int llms_mpi_test(void **request, int *done, int *received);
/// In-place sum all-reduce of count floats sent as 16-bit values: kind 0 = IEEE half, 1 = bfloat16 (round to
/// nearest even on the way out; partial sums are rounded to the 16-bit format at each reduction step, as
/// NCCL's half all-reduce does). Values are converted back to float32 in buf.
int llms_mpi_allreduce_half(void *comm, float *buf, int64_t count, int kind);
/// MPI_Comm_split; *out receives the new communicator (with MPI_ERRORS_RETURN set).
int llms_mpi_split(void *comm, int color, int key, void **out);
/// The text of an MPI error code.
void llms_mpi_error_string(int code, char *buf, int len);
/// Arms the watchdog: if llms_mpi_watch_end is not called within seconds, prints message to stderr and aborts the job.
void llms_mpi_watch_begin(const char *message, double seconds);
void llms_mpi_watch_end(void);
/// MPI_Abort on the world communicator.
void llms_mpi_abort(int code);
#endif
