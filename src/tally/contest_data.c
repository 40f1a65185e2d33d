#include <stdlib.h>
#include <string.h>

#include <detente/tally.h>

void dt_contest_data_kdf(unsigned char out[32], const unsigned char k[32], uint32_t i, const char *label,
                         uint32_t bits)
{
    size_t ll = strlen(label);
    unsigned char *msg = malloc(4 + 14 + 1 + 12 + ll + 4);
    size_t n = 0;
    if (!msg)
        dt_misuse("dt_contest_data_kdf: out of memory");
    msg[n++] = (unsigned char)(i >> 24);
    msg[n++] = (unsigned char)(i >> 16);
    msg[n++] = (unsigned char)(i >> 8);
    msg[n++] = (unsigned char)i;
    memcpy(msg + n, "share_enc_keys", 14);
    n += 14;
    msg[n++] = 0;
    memcpy(msg + n, "contest_data", 12);
    n += 12;
    memcpy(msg + n, label, ll);
    n += ll;
    msg[n++] = (unsigned char)(bits >> 24);
    msg[n++] = (unsigned char)(bits >> 16);
    msg[n++] = (unsigned char)(bits >> 8);
    msg[n++] = (unsigned char)bits;
    dt_hmac_sha256(out, k, 32, msg, n);
    free(msg);
}

dt_err dt_contest_data_open(const dt_group *g, unsigned char *plain, const unsigned char he[DT_HASH_BYTES],
                            const dt_elem *K, const dt_elem *C0, const dt_elem *beta, const char *label,
                            const unsigned char *C1, size_t c1len, const unsigned char C2[32], uint32_t num_bytes)
{
    dt_hash_ctx h;
    unsigned char k[32], k0[32], ki[32], mac[32];
    size_t eb = dt_group_elem_bytes(g);
    uint32_t bits = num_bytes * 8;
    unsigned char *m;

    if (num_bytes > c1len || c1len % 32 != 0 || num_bytes > 0x1fffffff)
        return DT_ERR_ENCODING;
    dt_hash_init(&h, he);
    dt_hash_u8(&h, 0x22);
    dt_hash_elem(&h, g, K);
    dt_hash_elem(&h, g, C0);
    dt_hash_elem(&h, g, beta);
    dt_hash_final(&h, k);
    dt_contest_data_kdf(k0, k, 0, label, bits);
    m = malloc(eb + c1len);
    if (!m)
        return DT_ERR_NOMEM;
    dt_elem_encode(g, m, C0);
    memcpy(m + eb, C1, c1len);
    dt_hmac_sha256(mac, k0, 32, m, eb + c1len);
    free(m);
    if (!dt_ct_eq(mac, C2, 32)) {
        dt_memzero(k, sizeof k);
        return DT_ERR_PROOF;
    }
    for (size_t blk = 0; blk * 32 < num_bytes; blk++) {
        dt_contest_data_kdf(ki, k, (uint32_t)blk + 1, label, bits);
        for (size_t i = 0; i < 32 && blk * 32 + i < num_bytes; i++)
            plain[blk * 32 + i] = C1[blk * 32 + i] ^ ki[i];
    }
    dt_memzero(k, sizeof k);
    dt_memzero(ki, sizeof ki);
    return DT_OK;
}

static int varint(const unsigned char *p, size_t n, size_t *pos, uint64_t *out)
{
    unsigned sh = 0;
    *out = 0;
    for (;;) {
        if (*pos >= n || sh > 28)
            return -1;
        unsigned char b = p[(*pos)++];
        *out |= (uint64_t)(b & 0x7f) << sh;
        sh += 7;
        if (!(b & 0x80))
            return 0;
    }
}

dt_err dt_contest_data_parse(const unsigned char *plain, size_t n, char *status, size_t statuslen, uint32_t **over,
                             size_t *nover, size_t *nwrite_ins)
{
    size_t pos = 0;
    uint64_t cnt, len, x;
    uint32_t *ov = NULL;
    if (over)
        *over = NULL;
    if (varint(plain, n, &pos, &cnt) || cnt > n)
        return DT_ERR_ENCODING;
    if (over && cnt) {
        ov = calloc((size_t)cnt, sizeof *ov);
        if (!ov)
            return DT_ERR_NOMEM;
    }
    for (uint64_t i = 0; i < cnt; i++) {
        /* an option's sequence order, or 0xFFFFFFFF: egk-ec's marker that
         * the overvote list was cut to its first L + 1 options */
        if (varint(plain, n, &pos, &x) || (x > 0x7fffffff && x != 0xFFFFFFFFu)) {
            free(ov);
            return DT_ERR_ENCODING;
        }
        if (ov)
            ov[i] = (uint32_t)x;
    }
    if (nover)
        *nover = (size_t)cnt;
    if (varint(plain, n, &pos, &cnt) || cnt > n)
        goto bad;
    if (nwrite_ins)
        *nwrite_ins = (size_t)cnt;
    for (uint64_t i = 0; i < cnt; i++) {
        if (varint(plain, n, &pos, &len) || len > n - pos)
            goto bad;
        pos += (size_t)len;
    }
    if (varint(plain, n, &pos, &len) || len > n - pos || len + 1 > statuslen)
        goto bad;
    memcpy(status, plain + pos, (size_t)len);
    status[len] = 0;
    if (over)
        *over = ov;
    else
        free(ov);
    return DT_OK;
bad:
    free(ov);
    return DT_ERR_ENCODING;
}
