/* MPI's own figure for `cargo xtask bench ddp`: `MPI_Allreduce` (sum) of N floats, the
 * median of REPS calls after three warm-up calls, printed by rank 0 as `ms=<median>`.
 *
 *     mpicc -O2 -o allreduce allreduce.c && mpirun -n 2 ./allreduce 1048576 20
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    long n = argc > 1 ? atol(argv[1]) : 1L << 20;
    int reps = argc > 2 ? atoi(argv[2]) : 20;
    float *send = malloc(n * sizeof(float)), *recv = malloc(n * sizeof(float));
    double *times = malloc(reps * sizeof(double));
    if (!send || !recv || !times || reps < 1) {
        fprintf(stderr, "allreduce: bad arguments or out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (long i = 0; i < n; i++) send[i] = (float)(i % 1000) * 0.001f;
    for (int i = 0; i < 3; i++)
        MPI_Allreduce(send, recv, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    for (int i = 0; i < reps; i++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t = MPI_Wtime();
        MPI_Allreduce(send, recv, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        times[i] = MPI_Wtime() - t;
    }
    qsort(times, reps, sizeof(double), cmp);
    if (rank == 0) printf("ms=%.4f\n", times[reps / 2] * 1e3);
    free(send);
    free(recv);
    free(times);
    MPI_Finalize();
    return 0;
}
