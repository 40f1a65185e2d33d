/* Private: the group object and the interface between the generic code
 * (group.c) and the two backends (group_int.c, group_r255.c).
 *
 * The generic layer checks arguments, lengths and identity special cases it
 * can handle once for every group (scalar encoding, reduction by Horner's rule,
 * random scalars, bounded discrete logarithms); a backend implements the
 * arithmetic. Backend functions are called with valid, non-NULL arguments
 * only, and every one of them allows its output to alias its inputs. */
#ifndef DT_GROUP_IMPL_H
#define DT_GROUP_IMPL_H

#include <gmp.h>

#include <detente/group.h>

#include "group/r255_point.h"

#if GMP_NAIL_BITS != 0
#error "detente needs a GMP built without nail bits"
#endif

/* Limbs of the largest p (4096 bits) and of a scalar (256 bits). */
#define DT_INT_MAX_BITS 4096
#define DT_INT_MAX_LIMBS (DT_INT_MAX_BITS / GMP_NUMB_BITS)
#define DT_SCALAR_LIMBS (8 * DT_SCALAR_BYTES / GMP_NUMB_BITS)
/* Scratch space (in limbs) for mpn_sec_powm and the other mpn_sec_ calls;
 * dt_group_create_integer checks that the group's needs fit. */
#define DT_INT_SCRATCH_LIMBS 1536

_Static_assert(DT_INT_MAX_LIMBS * sizeof(mp_limb_t) == DT_ELEM_MAX_BYTES,
               "a dt_elem holds exactly one 4096-bit integer");

typedef struct dt_group_ops {
    /* in has exactly elem_bytes bytes; on failure out need not be set. */
    dt_err (*elem_decode)(const dt_group *g, dt_elem *out, const unsigned char *in);
    void (*elem_encode)(const dt_group *g, unsigned char *out, const dt_elem *e);
    void (*elem_identity)(const dt_group *g, dt_elem *r);
    void (*elem_generator)(const dt_group *g, dt_elem *r);
    void (*elem_mul)(const dt_group *g, dt_elem *r, const dt_elem *a, const dt_elem *b);
    void (*elem_div)(const dt_group *g, dt_elem *r, const dt_elem *a, const dt_elem *b);
    void (*elem_pow)(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e);
    void (*elem_pow_var)(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e);
    void (*elem_pow_g)(const dt_group *g, dt_elem *r, const dt_scalar *e);
    /* n >= 1 */
    void (*elem_multi_pow_var)(const dt_group *g, dt_elem *r, const dt_elem *base,
                               const dt_scalar *e, size_t n);
    /* out = (in, 64 bytes big-endian) mod q; constant time */
    void (*scalar_reduce64)(const dt_group *g, dt_scalar *out, const unsigned char in[64]);
    void (*scalar_add)(const dt_group *g, dt_scalar *r, const dt_scalar *a, const dt_scalar *b);
    void (*scalar_sub)(const dt_group *g, dt_scalar *r, const dt_scalar *a, const dt_scalar *b);
    void (*scalar_mul)(const dt_group *g, dt_scalar *r, const dt_scalar *a, const dt_scalar *b);
    /* a is not zero */
    void (*scalar_inv)(const dt_group *g, dt_scalar *r, const dt_scalar *a);
    /* Optional (NULL: one by one). Decodes n elements of elem_bytes each; DT_OK
     * only if every one is valid; on failure out is unspecified. */
    dt_err (*elem_decode_batch_var)(const dt_group *g, dt_elem *out, const unsigned char *const *in, size_t n);
    /* Optional (0 and NULL: a dt_fixed_base keeps its base and calls
     * elem_pow). fixed_base_init fills fixed_base_bytes of table for base;
     * fixed_base_pow is constant time in e. */
    size_t fixed_base_bytes;
    void (*fixed_base_init)(const dt_group *g, void *table, const dt_elem *base);
    void (*fixed_base_pow)(const dt_group *g, const void *table, dt_elem *r, const dt_scalar *e);
    /* Optional (NULL: elem_multi_pow_var). n >= 1; DT_ERR_NOMEM if scratch
     * space cannot be allocated (r need not be set). */
    dt_err (*msm_var)(const dt_group *g, dt_elem *r, const dt_elem *base, const dt_scalar *e, size_t n);
    /* running products (group.h); NULL: the dt_prod holds a dt_elem and
     * elem_mul does the work */
    void (*prod_init)(const dt_group *g, dt_prod *p);
    void (*prod_mul)(const dt_group *g, dt_prod *p, const dt_elem *e);
    void (*prod_mul_prod)(const dt_group *g, dt_prod *p, const dt_prod *q);
    void (*prod_get)(const dt_group *g, dt_elem *r, const dt_prod *p);
    /* Optional (NULL: prod_get on each): r[i] = p[i] for i < n */
    void (*prod_get_many)(const dt_group *g, dt_elem *r, const dt_prod *p, size_t n);
} dt_group_ops;

/* Parameters of an integer group: values are little-endian limb arrays, as
 * mpn_ functions take them. Elements are stored in dt_elem.opaque as n limbs
 * (the rest of the buffer is zero). */
typedef struct dt_int_params {
    mp_limb_t p[DT_INT_MAX_LIMBS];
    mp_limb_t g[DT_INT_MAX_LIMBS];
    mp_limb_t q[DT_SCALAR_LIMBS];
    mp_size_t n;      /* limbs of p; p[n-1] != 0 */
    mp_size_t nq;     /* limbs of q; q[nq-1] != 0 */
    mp_bitcnt_t qbits; /* bit length of q */
    int batch_member;  /* p - 1 = 2 q r' with r' prime: batched membership tests are sound */
    mp_limb_t *gtab;   /* g's fixed-base table (dt_int_table, group_int.c), for elem_pow_g */
} dt_int_params;

/* The integer group's fixed-base tables: windows of DT_INT_FB_W bits of a
 * scalar below 2^256; window i holds b^(j 2^(w i)) for j < 2^w, each of n
 * limbs, one window's entries contiguous (what mpn_sec_tabselect reads). */
#define DT_INT_FB_W 5
#define DT_INT_FB_WINDOWS ((8 * DT_SCALAR_BYTES + DT_INT_FB_W - 1) / DT_INT_FB_W)
#define DT_INT_FB_ENTRIES (1 << DT_INT_FB_W)
#define DT_INT_FB_LIMBS ((size_t)DT_INT_FB_WINDOWS * DT_INT_FB_ENTRIES * DT_INT_MAX_LIMBS)

struct dt_group {
    dt_group_id id;
    const dt_group_ops *ops;
    const char *name;
    size_t elem_bytes;   /* encoding length of an element */
    size_t scalar_bytes; /* encoding length of a scalar */
    size_t store_bytes;  /* bytes of dt_elem.opaque that hold the value */
    unsigned char q_be[DT_SCALAR_BYTES];
    union {
        dt_int_params ip; /* integer group */
        struct {
            dt_ge_affine gen;   /* the generator */
            dt_r255_table gtab; /* its fixed-base table, for elem_pow_g */
        } r255;               /* ristretto255 */
    };
};

/* A fixed-base table (dt_fixed_base_create): the group's table bytes follow. */
struct dt_fixed_base {
    const dt_group *g;
    dt_elem base;
    uint64_t table[];
};

/* Backends: allocate and fill in a group; NULL on failure. The integer group
 * checks its parameters; trusted (the embedded standard constants) skips only
 * the primality tests of p and q. */
dt_group *dt_group_int_create(const char *p_hex, const char *q_hex, const char *g_hex,
                              int trusted);
dt_group *dt_group_r255_create(void);
/* ristretto255: r = prod base[i]^e[i] for any n, by Straus's method in
 * pieces of DT_R255_STRAUS_MAX terms on the stack: dt_elem_multi_pow_var's
 * way when dt_msm_var's scratch space cannot be allocated (and for up to
 * DT_R255_STRAUS_MAX terms always). Variable time. Declared here for tests. */
void dt_r255_multi_pow_stack_var(dt_elem *r, const dt_elem *base, const dt_scalar *e, size_t n);
/* ElectionGuard 2.0 standard parameters (hex) */
extern const char dt_group_int4096_p_hex[];
extern const char dt_group_int4096_q_hex[];
extern const char dt_group_int4096_g_hex[];

#endif
