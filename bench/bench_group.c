/* Micro-benchmarks of the group layer and the proofs, one JSON line per
 * operation: the median of repeated runs, in microseconds, with DESIGN.md's
 * cost-model figure for the same operation and the ratio to it.
 * usage: bench_group [--quick] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <detente/proof.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct ctx {
    const dt_group *g;
    dt_elem K, a, b, alpha, beta, bases[2];
    dt_scalar s, x, e[2], c[2], v[2], xi;
    unsigned char enc[DT_ELEM_MAX_BYTES], he[32];
} ctx;

typedef void (*op_fn)(ctx *c);

static void op_pow_g(ctx *c) { dt_elem_pow_g(c->g, &c->a, &c->x); }
static void op_pow(ctx *c) { dt_elem_pow(c->g, &c->a, &c->K, &c->x); }
static void op_pow_var(ctx *c) { dt_elem_pow_var(c->g, &c->a, &c->K, &c->x); }
static void op_mul(ctx *c) { dt_elem_mul(c->g, &c->a, &c->a, &c->K); }
static void op_multi2(ctx *c) { dt_elem_multi_pow_var(c->g, &c->a, c->bases, c->e, 2); }
static void op_decode(ctx *c)
{
    if (dt_elem_decode(c->g, &c->b, c->enc, dt_group_elem_bytes(c->g)) != DT_OK)
        abort();
}
static void op_encrypt01(ctx *c)
{
    /* one 0/1 selection: encryption and its range proof */
    dt_elgamal_encrypt(c->g, &c->alpha, &c->beta, &c->K, 1, &c->xi);
    if (dt_range_prove(c->g, c->c, c->v, c->he, &c->K, &c->alpha, &c->beta, &c->xi, 1, 1) != DT_OK)
        abort();
}
static void op_verify01(ctx *c)
{
    /* one 0/1 selection: decoding both components and checking the range proof */
    unsigned char ea[DT_ELEM_MAX_BYTES], eb[DT_ELEM_MAX_BYTES];
    size_t n = dt_group_elem_bytes(c->g);
    dt_elem_encode(c->g, ea, &c->alpha);
    dt_elem_encode(c->g, eb, &c->beta);
    if (dt_elem_decode(c->g, &c->a, ea, n) != DT_OK || dt_elem_decode(c->g, &c->b, eb, n) != DT_OK ||
        dt_range_verify_var(c->g, c->he, &c->K, &c->a, &c->b, c->c, c->v, 1) != DT_OK)
        abort();
}

static void bench(ctx *c, const char *op, op_fn fn, int reps, int inner, double floor_us)
{
    double *t = calloc((size_t)reps, sizeof *t);
    for (int r = 0; r < reps; r++) {
        double t0 = now_us();
        for (int i = 0; i < inner; i++)
            fn(c);
        t[r] = (now_us() - t0) / inner;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    printf("{\"bench\":\"group\",\"group\":\"%s\",\"op\":\"%s\",\"us_per_op\":%.3f,\"repeats\":%d", dt_group_name(c->g),
           op, t[reps / 2], reps);
    if (floor_us > 0)
        printf(",\"cost_model_us\":%.2f,\"ratio\":%.2f", floor_us, t[reps / 2] / floor_us);
    printf("}\n");
    fflush(stdout);
    free(t);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    dt_group_id ids[2] = {DT_GROUP_RISTRETTO255, DT_GROUP_INTEGER4096};
    /* DESIGN.md cost model, one core (us): fixed-base, variable-base, add, decode;
     * per 0/1 selection with the stock calls: encrypt 370, verify 420 (ristretto255). */
    const double model[2][6] = {{17.6, 50.4, 16.1, 5.3, 370, 420}, {1290, 1290, 5.1, 1290, 0, 0}};
    for (int k = 0; k < 2; k++) {
        ctx c;
        dt_group *g = dt_group_create(ids[k]);
        int big = ids[k] == DT_GROUP_INTEGER4096;
        int reps = quick ? 3 : 11, inner = big ? 3 : 200;
        memset(&c, 0, sizeof c);
        c.g = g;
        if (dt_scalar_random(g, &c.s) || dt_scalar_random(g, &c.x) || dt_scalar_random(g, &c.xi) ||
            dt_scalar_random(g, &c.e[0]) || dt_scalar_random(g, &c.e[1]))
            return 1;
        memset(c.he, 7, 32);
        dt_elem_pow_g(g, &c.K, &c.s);
        c.a = c.K;
        dt_elem_generator(g, &c.bases[0]);
        c.bases[1] = c.K;
        dt_elem_encode(g, c.enc, &c.K);
        bench(&c, "pow_g", op_pow_g, reps, inner, model[k][0]);
        bench(&c, "pow", op_pow, reps, inner, model[k][1]);
        bench(&c, "pow_var", op_pow_var, reps, inner, model[k][1]);
        bench(&c, "mul", op_mul, reps, inner * 20, model[k][2]);
        bench(&c, "decode", op_decode, reps, inner, model[k][3]);
        bench(&c, "multi_pow_var_2", op_multi2, reps, inner, 0);
        bench(&c, "encrypt_selection_01", op_encrypt01, reps, big ? 1 : 50, model[k][4]);
        bench(&c, "verify_selection_01", op_verify01, reps, big ? 1 : 50, model[k][5]);
        dt_group_destroy(g);
    }
    return 0;
}
