// allreduce.c: the plain-MPI reference for BENCHMARKS.md: in-place MPI_Allreduce (sum) of N floats,
// timed over iterations after a warm-up, median per op printed by rank 0. Build and run:
//   mpicc -O2 -o /tmp/allreduce scripts/bench/allreduce.c
//   mpirun -np 2 --oversubscribe --allow-run-as-root --mca btl self,vader /tmp/allreduce 1048576 50
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    long n = argc > 1 ? atol(argv[1]) : 1048576;
    int iters = argc > 2 ? atoi(argv[2]) : 50;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    float *buf = malloc(sizeof(float) * (size_t)n);
    double *t = malloc(sizeof(double) * (size_t)iters);
    for (long i = 0; i < n; i++) buf[i] = 1.0f;
    for (int i = 0; i < 5; i++) MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    for (int i = 0; i < iters; i++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        t[i] = MPI_Wtime() - t0;
    }
    qsort(t, (size_t)iters, sizeof(double), cmp);
    if (rank == 0) printf("C MPI_Allreduce %ld floats: median %.3f ms (%.2f GB/s algbw)\n", n, t[iters / 2] * 1e3,
                          4.0 * (double)n / t[iters / 2] / 1e9);
    free(buf); free(t);
    MPI_Finalize();
    return 0;
}
