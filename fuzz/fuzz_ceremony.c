/* Key-ceremony messages from other guardians, in both groups:
 * dt_commitments_from_json (k = 3, the quorum of both elections of the
 * corpus), dt_share_ct_from_json and dt_share_ct_parse (the binary form).
 *
 * Input: a message (the same bytes are tried as each kind, in each group).
 * Promises checked: what parses is written back (dt_commitments_to_json,
 * dt_share_ct_to_json, dt_share_ct_serialize) and parses again to the same
 * values; the binary form is exactly the input; failures give a message
 * (JSON) or a zeroed share. */
#include <detente/ceremony.h>
#include <detente/group.h>

#include "fuzz.h"

#define K 3

static dt_group *groups[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    groups[0] = dt_group_create(DT_GROUP_RISTRETTO255);
    groups[1] = dt_group_create(DT_GROUP_INTEGER4096);
    FUZZ_CHECK(groups[0] && groups[1]);
    return 0;
}

static void commitments(const dt_group *g, const char *json, size_t len)
{
    dt_elem Kc[K], K2[K];
    dt_scalar c[K], v[K], c2[K], v2[K];
    char *id = NULL, *id2 = NULL, *msg = NULL, *out = NULL;
    uint32_t i = 0, i2 = 0;
    dt_err err = dt_commitments_from_json(g, &id, &i, Kc, c, v, K, json, len, &msg);
    if (err != DT_OK) {
        FUZZ_CHECK(msg != NULL || err == DT_ERR_NOMEM);
        free(msg);
        free(id);
        return;
    }
    FUZZ_CHECK(msg == NULL && id != NULL);
    FUZZ_CHECK(dt_commitments_to_json(g, &out, id, i, Kc, c, v, K) == DT_OK);
    FUZZ_CHECK(dt_commitments_from_json(g, &id2, &i2, K2, c2, v2, K, out, strlen(out), NULL) == DT_OK);
    FUZZ_CHECK(i2 == i && strcmp(id2, id) == 0);
    for (size_t j = 0; j < K; j++)
        FUZZ_CHECK(dt_elem_eq(g, &K2[j], &Kc[j]) && dt_scalar_eq(&c2[j], &c[j]) && dt_scalar_eq(&v2[j], &v[j]));
    free(out);
    free(id);
    free(id2);
}

static void share(const dt_group *g, const uint8_t *data, size_t size)
{
    dt_share_ct ct, ct2;
    char *msg = NULL, *out = NULL;
    unsigned char bin[8 + DT_ELEM_MAX_BYTES + DT_SCALAR_BYTES + 32];

    if (dt_share_ct_from_json(g, &ct, (const char *)data, size, &msg) == DT_OK) {
        FUZZ_CHECK(msg == NULL);
        FUZZ_CHECK(dt_share_ct_to_json(g, &out, &ct) == DT_OK);
        FUZZ_CHECK(dt_share_ct_from_json(g, &ct2, out, strlen(out), NULL) == DT_OK);
        FUZZ_CHECK(dt_share_ct_cmp_var(g, &ct, &ct2) == 0);
        free(out);
    } else {
        free(msg);
    }

    memset(&ct, 0xa5, sizeof ct);
    if (dt_share_ct_parse(g, &ct, data, size) == DT_OK) {
        FUZZ_CHECK(size == dt_share_ct_bytes(g) && size <= sizeof bin);
        dt_share_ct_serialize(g, bin, &ct);
        FUZZ_CHECK(memcmp(bin, data, size) == 0);
    } else {
        FUZZ_CHECK(fuzz_all_zero(&ct, sizeof ct));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t gi = 0; gi < 2; gi++) {
        commitments(groups[gi], (const char *)data, size);
        share(groups[gi], data, size);
    }
    return 0;
}
