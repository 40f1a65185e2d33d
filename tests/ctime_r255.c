/* Constant-time test of the ristretto255 secret-scalar paths, as
 * libsecp256k1's src/ctime_tests.c: the secrets are marked undefined for
 * Valgrind's memcheck, which then reports any branch or memory index that
 * depends on them ("Conditional jump or move depends on uninitialised
 * value", "Use of uninitialised value" in an address). Run it as
 *   valgrind --error-exitcode=1 ctime_r255
 * (CTest does, when valgrind is installed). Outputs that become public are
 * declassified explicitly before they are used as public values. */
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include <detente/group.h>

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

int main(void)
{
    dt_group *g;
    dt_fixed_base *fk = NULL, *fg = NULL;
    dt_elem K, r, gen;
    dt_scalar x, y, z;
    unsigned char wide[64], enc[32];
    int ok = 0;

    if (!RUNNING_ON_VALGRIND) {
        fprintf(stderr, "ctime_r255: only meaningful under valgrind: valgrind --error-exitcode=1 %s\n",
                "ctime_r255");
        return 1;
    }
    g = dt_group_create(DT_GROUP_RISTRETTO255);
    if (!g)
        goto out;
    if (dt_scalar_random(g, &x) != DT_OK || dt_scalar_random(g, &y) != DT_OK ||
        dt_random_bytes(wide, sizeof wide) != DT_OK)
        goto out;
    dt_elem_pow_g(g, &K, &x); /* a public key, made from a public x */
    dt_elem_generator(g, &gen);
    fk = dt_fixed_base_create(g, &K);
    fg = dt_fixed_base_create(g, &gen);
    if (!fk || !fg)
        goto out;

    /* from here on, x, y and wide are secret */
    SECRET(&x, sizeof x);
    SECRET(&y, sizeof y);
    SECRET(wide, sizeof wide);

    dt_elem_pow_g(g, &r, &x);      /* the group's table for g */
    dt_fixed_base_pow(fg, &r, &x); /* a table made at run time, for g */
    dt_fixed_base_pow(fk, &r, &y); /* and for K */
    dt_elem_pow(g, &r, &K, &x);    /* variable base, constant time */
    dt_elem_encode(g, enc, &r);
    dt_scalar_reduce(g, &z, wide, sizeof wide);
    dt_scalar_add(g, &z, &z, &x);
    dt_scalar_sub(g, &z, &z, &y);
    dt_scalar_mul(g, &z, &z, &x);
    dt_scalar_neg(g, &z, &z);
    /* the secret's edge values: zero and one */
    memset(&x, 0, sizeof x);
    SECRET(&x, sizeof x);
    dt_elem_pow_g(g, &r, &x);
    dt_fixed_base_pow(fk, &r, &x);
    dt_elem_pow(g, &r, &K, &x);
    dt_scalar_from_u64(g, &x, 1);
    SECRET(&x, sizeof x);
    dt_elem_pow_g(g, &r, &x);
    dt_fixed_base_pow(fk, &r, &x);
    dt_elem_pow(g, &r, &K, &x);

    /* the result is public: r = K^1 */
    PUBLIC(&r, sizeof r);
    PUBLIC(enc, sizeof enc);
    PUBLIC(&z, sizeof z);
    ok = dt_elem_eq(g, &r, &K);
out:
    dt_fixed_base_destroy(fk);
    dt_fixed_base_destroy(fg);
    dt_group_destroy(g);
    if (!ok) {
        fprintf(stderr, "ctime_r255: setup or result failed\n");
        return 1;
    }
    printf("ctime_r255: pow_g, fixed_base_pow (g, K), pow, encode, scalar reduce/add/sub/mul/neg "
           "checked with secret scalars\n");
    return 0;
}
