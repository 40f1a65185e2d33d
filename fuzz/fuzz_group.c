/* Element and scalar decoders of one group (FUZZ_GROUP_INT: the integer
 * group; otherwise ristretto255): dt_scalar_decode, dt_elem_decode and
 * dt_elem_decode_batch_var.
 *
 * Input: any bytes. Decoded whole, then its first encoding-length bytes
 * alone, then cut into up to four encodings for the batched decoder.
 * Promises checked: what decodes re-encodes to the same bytes; a failure
 * leaves the identity (elements) or zero (scalars); the batched decoder
 * accepts exactly when each element alone is accepted (it may wrongly
 * accept with probability 2^-128 only) and then gives the same elements. */
#include <detente/group.h>

#include "fuzz.h"

#ifdef FUZZ_GROUP_INT
#define FUZZ_GROUP DT_GROUP_INTEGER4096
#else
#define FUZZ_GROUP DT_GROUP_RISTRETTO255
#endif
#define FUZZ_BATCH 4

static dt_group *grp;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    grp = dt_group_create(FUZZ_GROUP);
    FUZZ_CHECK(grp != NULL);
    return 0;
}

static void check_scalar(const unsigned char *in, size_t len)
{
    dt_scalar s;
    unsigned char enc[DT_SCALAR_BYTES];
    memset(&s, 0xa5, sizeof s);
    if (dt_scalar_decode(grp, &s, in, len) == DT_OK) {
        FUZZ_CHECK(len == dt_group_scalar_bytes(grp));
        dt_scalar_encode(grp, enc, &s);
        FUZZ_CHECK(memcmp(enc, in, len) == 0);
    } else {
        FUZZ_CHECK(fuzz_all_zero(s.be, sizeof s.be));
    }
}

/* Returns 1 if in (len bytes) decodes, with the element in *e. */
static int check_elem(dt_elem *e, const unsigned char *in, size_t len)
{
    unsigned char enc[DT_ELEM_MAX_BYTES];
    if (dt_elem_decode(grp, e, in, len) == DT_OK) {
        FUZZ_CHECK(len == dt_group_elem_bytes(grp));
        dt_elem_encode(grp, enc, e);
        FUZZ_CHECK(memcmp(enc, in, len) == 0);
        return 1;
    }
    FUZZ_CHECK(dt_elem_is_identity(grp, e));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const size_t eb = dt_group_elem_bytes(grp), sb = dt_group_scalar_bytes(grp);
    unsigned char *in = fuzz_dup(data, size);
    dt_elem one[FUZZ_BATCH], batch[FUZZ_BATCH];
    const unsigned char *parts[FUZZ_BATCH];
    size_t n = size / eb;
    int all_ok = 1;

    check_scalar(in, size);
    if (size > sb)
        check_scalar(in, sb);
    check_elem(&one[0], in, size);
    if (n > FUZZ_BATCH)
        n = FUZZ_BATCH;
    for (size_t i = 0; i < n; i++) {
        parts[i] = in + i * eb;
        all_ok &= check_elem(&one[i], parts[i], eb);
    }
    if (n > 0) {
        dt_err err = dt_elem_decode_batch_var(grp, batch, parts, eb, n);
        FUZZ_CHECK((err == DT_OK) == all_ok);
        for (size_t i = 0; err == DT_OK && i < n; i++)
            FUZZ_CHECK(dt_elem_eq(grp, &batch[i], &one[i]));
    }
    free(in);
    return 0;
}
