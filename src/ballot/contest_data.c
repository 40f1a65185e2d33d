/* Contest data (spec 3.3.6, 3.3.7): egk-ec's plaintext layout and the
 * hashed ElGamal encryption with the record's KDF (docs/record-format.md,
 * item 4), exactly what the verifier opens (verify.c, contest_data_open). */
#include <stdlib.h>
#include <string.h>

#include "ballot/ballot_impl.h"

#define DT_CD_KDF_LABEL "share_enc_keys"
#define DT_CD_CONTEXT "contest_data"
#define DT_CD_BLOCK 32
#define DT_CD_CHOP 30 /* egk-ec's CHOP_WRITE_INS */

/* ---- layout ---- */

typedef struct cd_text {
    const unsigned char *p;
    size_t n;
} cd_text;

static size_t put_varint(unsigned char *buf, size_t pos, uint32_t x)
{
    for (;;) {
        unsigned char byte = (unsigned char)(x & 0x7f);
        x >>= 7;
        if (x)
            byte |= 0x80;
        if (buf)
            buf[pos] = byte;
        pos++;
        if (!x)
            return pos;
    }
}

static size_t put_bytes(unsigned char *buf, size_t pos, const unsigned char *p, size_t n)
{
    pos = put_varint(buf, pos, (uint32_t)n);
    if (buf && n)
        memcpy(buf + pos, p, n);
    return pos + n;
}

/* Writes (buf not NULL) or measures the encoding. */
static size_t put_all(unsigned char *buf, const uint32_t *over, size_t nover, const cd_text *w, size_t nw,
                      const char *status)
{
    size_t pos = put_varint(buf, 0, (uint32_t)nover);
    for (size_t i = 0; i < nover; i++)
        pos = put_varint(buf, pos, over[i]);
    pos = put_varint(buf, pos, (uint32_t)nw);
    for (size_t i = 0; i < nw; i++)
        pos = put_bytes(buf, pos, w[i].p, w[i].n);
    return put_bytes(buf, pos, (const unsigned char *)status, strlen(status));
}

dt_err dt_ballot_cd_encode(unsigned char **d, size_t *dlen, uint32_t *num_bytes, const dt_rec_mcontest *mc, int status,
                    const uint32_t *over, size_t nover, char *const *write_ins, size_t nwrite)
{
    const size_t cap = (size_t)DT_CD_BLOCK * ((size_t)mc->votes_allowed + 1);
    const char *st = dt_ballot_cd_status_names[status];
    static const unsigned char star[] = "*";
    uint32_t *ov = calloc(nover + 1, sizeof *ov);
    cd_text *w = calloc(nwrite + 1, sizeof *w);
    unsigned char *chopped = calloc(nwrite + 1, DT_CD_CHOP + 1);
    unsigned char *buf = NULL;
    size_t nov = nover, nw = nwrite, n;
    dt_err err = DT_ERR_NOMEM;

    *d = NULL;
    *dlen = 0;
    *num_bytes = 0;
    if (!ov || !w || !chopped)
        goto out;
    if (nover)
        memcpy(ov, over, nover * sizeof *ov);
    for (size_t i = 0; i < nwrite; i++)
        w[i] = (cd_text){(const unsigned char *)write_ins[i], strlen(write_ins[i])};

    /* egk-ec's truncation, step by step, while the data does not fit */
    n = put_all(NULL, ov, nov, w, nw, st);
    if (n > cap && nw > mc->votes_allowed) {
        nw = mc->votes_allowed;
        w[nw++] = (cd_text){star, 1};
        n = put_all(NULL, ov, nov, w, nw, st);
    }
    if (n > cap) {
        for (size_t i = 0; i < nw; i++) {
            size_t cut = DT_CD_CHOP;
            unsigned char *c = chopped + i * (DT_CD_CHOP + 1);
            if (w[i].n <= DT_CD_CHOP)
                continue;
            while (cut > 0 && (w[i].p[cut] & 0xc0) == 0x80) /* a UTF-8 boundary */
                cut--;
            memcpy(c, w[i].p, cut);
            c[cut] = '*';
            w[i] = (cd_text){c, cut + 1};
        }
        n = put_all(NULL, ov, nov, w, nw, st);
    }
    if (n > cap && nov > (size_t)mc->votes_allowed + 1) {
        nov = (size_t)mc->votes_allowed + 1;
        ov[nov++] = DT_BALLOT_CD_MARKER;
        n = put_all(NULL, ov, nov, w, nw, st);
    }
    if (n > cap && nw > 0) {
        nw = 1;
        w[0] = (cd_text){star, 1};
        n = put_all(NULL, ov, nov, w, nw, st);
    }
    if (n > cap && nov > 0) {
        nov = 1;
        ov[0] = DT_BALLOT_CD_MARKER;
        n = put_all(NULL, ov, nov, w, nw, st);
    }
    if (n > cap) /* cannot happen: 1 + 5 + 1 + 2 + 11 bytes <= 30 */
        dt_misuse("dt_ballot_cd_encode: contest data does not fit");
    buf = calloc(cap, 1);
    if (!buf)
        goto out;
    put_all(buf, ov, nov, w, nw, st);
    /* egk-ec fills with zeros to 32 (L+1) - 2 bytes when the data is shorter */
    *num_bytes = (uint32_t)(n < cap - 2 ? cap - 2 : n);
    *d = buf;
    *dlen = cap;
    buf = NULL;
    err = DT_OK;
out:
    if (ov)
        dt_memzero(ov, (nover + 1) * sizeof *ov);
    if (w)
        dt_memzero(w, (nwrite + 1) * sizeof *w);
    if (chopped)
        dt_memzero(chopped, (nwrite + 1) * (DT_CD_CHOP + 1));
    free(ov);
    free(w);
    free(chopped);
    free(buf);
    return err;
}

/* ---- parsing an opened D ---- */

static int get_varint(const unsigned char *d, size_t n, size_t *pos, uint32_t *out)
{
    uint64_t x = 0;
    for (unsigned sh = 0; sh <= 28; sh += 7) {
        unsigned char byte;
        if (*pos >= n)
            return 0;
        byte = d[(*pos)++];
        x |= (uint64_t)(byte & 0x7f) << sh;
        if (!(byte & 0x80)) {
            if (x > 0xFFFFFFFFu)
                return 0;
            *out = (uint32_t)x;
            return 1;
        }
    }
    return 0;
}

/* Well-formed UTF-8 without NUL (RFC 3629: no overlongs, no surrogates). */
static int utf8_ok(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        size_t k;
        uint32_t cp;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

dt_err dt_ballot_cd_decode(dt_pcontest *pc, const unsigned char *d, size_t n, size_t total)
{
    size_t pos = 0;
    uint32_t cnt, len;

    if (!get_varint(d, n, &pos, &cnt) || cnt > n)
        return DT_ERR_INVALID;
    pc->over = calloc(cnt ? cnt : 1, sizeof *pc->over);
    if (!pc->over)
        return DT_ERR_NOMEM;
    pc->nover = cnt;
    for (size_t i = 0; i < cnt; i++)
        if (!get_varint(d, n, &pos, &pc->over[i]))
            return DT_ERR_INVALID;
    if (!get_varint(d, n, &pos, &cnt) || cnt > n)
        return DT_ERR_INVALID;
    if (cnt) {
        pc->write_ins = calloc(cnt, sizeof *pc->write_ins);
        if (!pc->write_ins)
            return DT_ERR_NOMEM;
        pc->nwrite = cnt;
    }
    for (size_t i = 0; i < cnt; i++) {
        if (!get_varint(d, n, &pos, &len) || len > n - pos || !utf8_ok(d + pos, len))
            return DT_ERR_INVALID;
        if (!(pc->write_ins[i] = malloc((size_t)len + 1)))
            return DT_ERR_NOMEM;
        memcpy(pc->write_ins[i], d + pos, len);
        pc->write_ins[i][len] = '\0';
        pos += len;
    }
    if (!get_varint(d, n, &pos, &len) || len > n - pos)
        return DT_ERR_INVALID;
    pc->status = -1;
    for (int s = 0; s < 4; s++)
        if (strlen(dt_ballot_cd_status_names[s]) == len && memcmp(d + pos, dt_ballot_cd_status_names[s], len) == 0)
            pc->status = s;
    if (pc->status < 0)
        return DT_ERR_INVALID;
    pos += len;
    for (; pos < total; pos++) /* the zero fill and the block padding */
        if (d[pos])
            return DT_ERR_INVALID;
    pc->has_data = true;
    return DT_OK;
}

/* ---- hashed ElGamal ---- */

static void kdf(unsigned char out[DT_HASH_BYTES], const unsigned char k[DT_HASH_BYTES], uint32_t i, const char *label,
                uint32_t bits)
{
    dt_hash_ctx h; /* HMAC(k, ...): no domain byte, nothing length-prefixed */
    dt_hash_init(&h, k);
    dt_hash_u32(&h, i);
    dt_hash_bytes(&h, DT_CD_KDF_LABEL, sizeof DT_CD_KDF_LABEL - 1);
    dt_hash_u8(&h, 0);
    dt_hash_bytes(&h, DT_CD_CONTEXT, sizeof DT_CD_CONTEXT - 1);
    dt_hash_bytes(&h, label, strlen(label));
    dt_hash_u32(&h, bits);
    dt_hash_final(&h, out);
}

static void mac_over(const dt_ballot_ctx *ctx, unsigned char mac[DT_HASH_BYTES], const unsigned char k0[DT_HASH_BYTES],
                     const unsigned char *c0, const unsigned char *c1, size_t len)
{
    dt_hash_ctx h;
    dt_hash_init(&h, k0);
    dt_hash_bytes(&h, c0, ctx->eb);
    dt_hash_bytes(&h, c1, len);
    dt_hash_final(&h, mac);
}

void dt_ballot_cd_crypt(const dt_ballot_ctx *ctx, unsigned char mac[DT_HASH_BYTES], unsigned char *buf, size_t len,
                 int encrypt, const unsigned char *c0, const unsigned char *beta_enc, const char *label,
                 uint32_t num_bytes)
{
    unsigned char k[DT_HASH_BYTES], k0[DT_HASH_BYTES], ki[DT_HASH_BYTES];
    uint32_t bits = 8 * num_bytes;
    dt_hash_ctx h;

    DT_BALLOT_CHECK(len % DT_CD_BLOCK == 0 && len / DT_CD_BLOCK < 0x7fffffffu && num_bytes < 0x10000000u);
    dt_hash_init(&h, ctx->he);
    dt_hash_u8(&h, DT_H_CONTEST_DATA_KEY);
    dt_hash_bytes(&h, ctx->Kenc, ctx->eb);
    dt_hash_bytes(&h, c0, ctx->eb);
    dt_hash_bytes(&h, beta_enc, ctx->eb);
    dt_hash_final(&h, k);
    kdf(k0, k, 0, label, bits);
    if (!encrypt)
        mac_over(ctx, mac, k0, c0, buf, len);
    for (size_t blk = 0; blk < len / DT_CD_BLOCK; blk++) {
        kdf(ki, k, (uint32_t)blk + 1, label, bits);
        for (size_t i = 0; i < DT_CD_BLOCK; i++)
            buf[blk * DT_CD_BLOCK + i] ^= ki[i];
    }
    if (encrypt)
        mac_over(ctx, mac, k0, c0, buf, len);
    dt_memzero(k, sizeof k);
    dt_memzero(k0, sizeof k0);
    dt_memzero(ki, sizeof ki);
}
