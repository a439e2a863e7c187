/* n! with GMP's own mpz_fac_ui, then mpz_get_str: the reference for ours(gmp).
   Usage: fac_gmp n [runs]. Prints "<n> <digits> <median seconds> <runs>", each run timed inside with
   clock_gettime(CLOCK_MONOTONIC) from mpz_init to the finished decimal string, after one untimed warm-up run. */
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s n [runs]\n", argv[0]);
        return 2;
    }
    unsigned long n = strtoul(argv[1], NULL, 10);
    int runs = argc > 2 ? atoi(argv[2]) : 1;
    if (runs < 1 || runs > 99) runs = 1;
    double times[99];
    size_t digits = 0;
    /* run -1 is an untimed warm-up (first-touch page faults, allocator), as the .NET bench does */
    for (int run = -1; run < runs; run++) {
        double start = now();
        mpz_t f;
        mpz_init(f);
        mpz_fac_ui(f, n);
        char *text = mpz_get_str(NULL, 10, f);
        double elapsed = now() - start;
        digits = strlen(text);
        void (*free_func)(void *, size_t);
        mp_get_memory_functions(NULL, NULL, &free_func);
        free_func(text, digits + 1);
        mpz_clear(f);
        if (run >= 0) times[run] = elapsed;
    }
    /* median: insertion sort of a handful of values */
    for (int i = 1; i < runs; i++)
        for (int j = i; j > 0 && times[j - 1] > times[j]; j--) {
            double t = times[j]; times[j] = times[j - 1]; times[j - 1] = t;
        }
    double median = runs % 2 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
    printf("%lu %zu %.6f %d\n", n, digits, median, runs);
    return 0;
}
