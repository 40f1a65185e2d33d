/* Contest data (spec 3.3.6, 3.3.7): egk-ec's plaintext layout and the
 * hashed ElGamal encryption with the record's KDF (docs/record-format.md,
 * item 4), exactly what the verifier opens (verify.c, contest_data_open). */
#include <stdlib.h>
#include <string.h>

#include "ballot/ballot_impl.h"
#include "util/ctcheck.h"

#define DT_CD_KDF_LABEL "share_enc_keys"
#define DT_CD_CONTEXT "contest_data"
#define DT_CD_BLOCK 32
#define DT_CD_CHOP 30     /* egk-ec's CHOP_WRITE_INS */
#define DT_CD_VARINT 5    /* bytes of a 32-bit varint, at most */
#define DT_CD_MARKER_LEN 5 /* the varint of DT_BALLOT_CD_MARKER */

/* ---- layout, in constant time ----
 *
 * The status, the options marked in an overvote and the write-ins (their
 * bytes, lengths and number) are secrets: nothing below branches on them or
 * indexes memory with them (docs/security.md, "Constant time"; checked by
 * tests/ctime_secrets.c). What is public: the manifest (L, the options and
 * their sequence numbers) and the sizes of the inputs' buffers.
 *
 * How: the record is 32 (L+1) bytes whatever the votes. egk-ec's truncation
 * steps, each taken while the data does not fit, are decided by masks over
 * sizes computed for every case. Every byte that could be in the record is
 * laid out at a public position of a candidate stream with a secret "kept"
 * bit, and an order-preserving oblivious compaction (log2 passes, each
 * moving every kept byte by 2^k when bit k of its offset is set) brings
 * the kept bytes to the front. The work is O(N log N) in the stream's
 * public size N. */

/* x, its value hidden from the compiler: a comparison of a loop counter
 * with a secret is then no affine function of the counter, which GCC
 * otherwise takes as the loop's induction variable and folds into the
 * addresses of the writes (an address computed from the secret, though the
 * same in the end: memcheck saw it). */
static inline uint64_t ct_hide(uint64_t x)
{
#if defined(__GNUC__)
    __asm__("" : "+r"(x));
#endif
    return x;
}

/* a < b, a == b: 0 or 1; a and b below 2^63 */
static inline uint64_t ct_lt(uint64_t a, uint64_t b)
{
    return (ct_hide(a) - ct_hide(b)) >> 63;
}

static inline uint64_t ct_eq(uint64_t a, uint64_t b)
{
    uint64_t x = ct_hide(a) ^ ct_hide(b);
    return 1 ^ ((x | (0 - x)) >> 63);
}

/* bit ? a : b, for a bit of 0 or 1 */
static inline uint64_t ct_sel(uint64_t bit, uint64_t a, uint64_t b)
{
    return b ^ ((0 - bit) & (a ^ b));
}

/* the size of x's varint (x < 2^32) */
static inline uint64_t ct_varint_size(uint64_t x)
{
    return 1 + ct_lt(0x7f, x) + ct_lt(0x3fff, x) + ct_lt(0x1fffff, x) + ct_lt(0xfffffff, x);
}

/* A public value's varint (buf NULL: its size only). */
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

/* The candidate stream, one word a byte: the byte (bits 0-7), whether the
 * record keeps it (bit 8), and for the compaction the number of bytes
 * dropped before it, how far it moves (bits 9-31: N < 2^23). */
#define DT_CD_KEPT_BIT 8
#define DT_CD_OFF_BIT 9
#define DT_CD_MAX_STREAM ((size_t)1 << 23)

typedef struct cd_stream {
    uint32_t *e;
    size_t n;
} cd_stream;

static void put_byte(cd_stream *s, uint64_t v, uint64_t keep)
{
    s->e[s->n++] = (uint32_t)(v & 0xff) | (uint32_t)keep << DT_CD_KEPT_BIT;
}

/* A secret value's varint in DT_CD_VARINT positions, its size of them kept. */
static void put_varint_ct(cd_stream *s, uint64_t x, uint64_t keep)
{
    const uint64_t size = ct_varint_size(x);
    for (unsigned j = 0; j < DT_CD_VARINT; j++) {
        uint64_t more = ct_lt(j + 1, size); /* another byte follows */
        put_byte(s, ((x >> (7 * j)) & 0x7f) | (more << 7), keep & ct_lt(j, size));
    }
}

/* Moves the kept bytes to the front, in order. After the passes for bits
 * 0..k-1, a kept byte with offset d sits at p - (d mod 2^k): distinct for
 * distinct kept bytes (two of them are further apart than the bytes dropped
 * between them), so a move never lands on a kept byte. */
static void compact(uint32_t *e, size_t n)
{
    uint32_t dropped = 0;
    for (size_t p = 0; p < n; p++) {
        e[p] |= dropped << DT_CD_OFF_BIT;
        dropped += ((e[p] >> DT_CD_KEPT_BIT) & 1u) ^ 1u;
    }
    for (unsigned k = 0; ((size_t)1 << k) < n; k++) {
        const size_t step = (size_t)1 << k;
        for (size_t p = step; p < n; p++) {
            uint32_t x = e[p], mv = (x >> DT_CD_KEPT_BIT) & (x >> (DT_CD_OFF_BIT + k)) & 1u;
            e[p - step] ^= (0u - mv) & (e[p - step] ^ x);
            e[p] = x & ~(mv << DT_CD_KEPT_BIT); /* moved out: no longer kept here */
        }
    }
}

/* One write-in slot's facts, before the layout is decided. */
typedef struct cd_slot {
    uint64_t len;  /* its length, at most 32 (L+1) + 1 */
    uint64_t cut;  /* egk-ec's cut at a UTF-8 boundary, at most DT_CD_CHOP */
    uint64_t cuttable; /* 1 when longer than DT_CD_CHOP: cut when the data does not fit */
    uint64_t live; /* 1 for the nw first slots */
} cd_slot;

dt_err dt_ballot_cd_encode_slots(unsigned char **d, size_t *dlen, uint32_t *num_bytes, const dt_rec_mcontest *mc,
                                 int status, const unsigned char *marked, const unsigned char *slots,
                                 size_t slot_size, const uint32_t *lens, size_t nslots, size_t nw)
{
    const uint64_t L = mc->votes_allowed, cap = (uint64_t)DT_CD_BLOCK * (L + 1), nwv = nw;
    const uint64_t st = (uint64_t)(unsigned)status;
    const size_t m = mc->noptions;
    /* positions of a slot in the stream: a kept text is at most cap bytes,
     * a cut one DT_CD_CHOP + 1 */
    const size_t wr = slot_size < cap ? (slot_size > DT_CD_CHOP + 1 ? slot_size : DT_CD_CHOP + 1) : (size_t)cap;
    cd_slot *sl = calloc(nslots ? nslots : 1, sizeof *sl);
    cd_stream s = {0};
    unsigned char *buf = NULL;
    size_t N = 2 * DT_CD_VARINT + DT_CD_MARKER_LEN + 1, maxname = 0; /* the counts, the marker, the status's length */
    uint64_t k = 0, ov_all = 0, ov_first = 0, slen = 0, w0, w_first = 0, w2, t1, t2, t3, t4, t5, nw1;
    uint64_t ov0, ov3, w4, n, tail;
    dt_err err = DT_ERR_NOMEM;

    DT_BALLOT_CHECK(d && dlen && num_bytes && marked && (lens || !nslots) && (slots || !nslots));
    *d = NULL;
    *dlen = 0;
    *num_bytes = 0;
    if (!sl)
        goto out;

    /* sizes: the overvote list whole and cut to L + 1 options, the status */
    for (size_t o = 0; o < m; o++) {
        uint64_t b = 1 ^ ct_eq(marked[o], 0), sz = put_varint(NULL, 0, mc->options[o].seq);
        ov_all += sz & (0 - b);
        ov_first += sz & (0 - (b & ct_lt(k, L + 1)));
        k += b;
        N += sz;
    }
    for (uint64_t i = 0; i < 4; i++) {
        size_t len = strlen(dt_ballot_cd_status_names[i]);
        slen += len & (0 - ct_eq(st, i));
        maxname = len > maxname ? len : maxname;
    }
    N += maxname;
    tail = 1 + slen; /* the status: its length (one byte) and its name */

    /* each write-in's length (clamped: any length over cap makes the data
     * too long alike), where egk-ec would cut it, and the sizes */
    w0 = ct_varint_size(nwv);
    for (size_t i = 0; i < nslots; i++) {
        const unsigned char *p = slots + i * slot_size;
        cd_slot *w = &sl[i];
        uint64_t go = 1, size;
        w->len = ct_sel(ct_lt(cap + 1, lens[i]), cap + 1, lens[i]);
        w->live = ct_lt(i, nwv);
        w->cuttable = ct_lt(DT_CD_CHOP, w->len);
        w->cut = DT_CD_CHOP;
        for (size_t j = DT_CD_CHOP; j > 0; j--) { /* back to a UTF-8 boundary */
            uint64_t c = j < slot_size ? p[j] : 0;
            go &= ct_eq(c & 0xc0, 0x80);
            w->cut -= go;
        }
        size = (ct_varint_size(w->len) + w->len) & (0 - w->live);
        w0 += size;
        if (i < L)
            w_first += size;
        N += DT_CD_VARINT + wr;
    }

    /* egk-ec's steps, each while the data does not fit (n > cap) */
    ov0 = ct_varint_size(k) + ov_all;
    /* 1: more than L write-ins: the first L and "*" */
    n = ov0 + w0 + tail;
    t1 = ct_lt(cap, n) & ct_lt(L, nwv);
    nw1 = ct_sel(t1, L + 1, nwv);
    n = ov0 + ct_sel(t1, ct_varint_size(L + 1) + w_first + 2, w0) + tail;
    /* 2: every write-in over DT_CD_CHOP bytes cut */
    t2 = ct_lt(cap, n);
    w2 = ct_varint_size(nw1) + 2 * t1;
    for (size_t i = 0; i < nslots; i++) {
        cd_slot *w = &sl[i];
        uint64_t full = w->live & (i < L ? 1 : 1 ^ t1);
        uint64_t len = ct_sel(t2 & w->cuttable, w->cut + 1, w->len);
        w2 += (ct_varint_size(len) + len) & (0 - full);
    }
    /* 3: more than L + 1 options marked: the first L + 1 and the marker */
    n = ov0 + w2 + tail;
    t3 = ct_lt(cap, n) & ct_lt(L + 1, k);
    ov3 = ct_sel(t3, ct_varint_size(L + 2) + ov_first + DT_CD_MARKER_LEN, ov0);
    /* 4: the write-ins replaced by one "*" */
    n = ov3 + w2 + tail;
    t4 = ct_lt(cap, n) & ct_lt(0, nwv);
    w4 = ct_sel(t4, 3, w2);
    /* 5: the overvote list replaced by the marker */
    n = ov3 + w4 + tail;
    t5 = ct_lt(cap, n) & ct_lt(0, k);
    n = ct_sel(t5, 1 + DT_CD_MARKER_LEN, ov3) + w4 + tail;
    /* n <= cap now: 1 + 5 + 1 + 2 + 11 bytes at most, and cap >= 32 */

    /* the candidate stream */
    DT_BALLOT_CHECK(N < DT_CD_MAX_STREAM); /* at most 1000 write-ins and options: about 2^20 */
    s.e = malloc(N * sizeof *s.e);
    buf = calloc((size_t)cap, 1);
    if (!s.e || !buf)
        goto out;
    put_varint_ct(&s, ct_sel(t5, 1, ct_sel(t3, L + 2, k)), 1);
    {
        uint64_t r = 0; /* the option's rank among those marked */
        for (size_t o = 0; o < m; o++) {
            unsigned char v[DT_CD_VARINT];
            uint64_t b = 1 ^ ct_eq(marked[o], 0), kept = b & (1 ^ t5) & ((1 ^ t3) | ct_lt(r, L + 1));
            size_t sz = put_varint(v, 0, mc->options[o].seq);
            for (size_t j = 0; j < sz; j++)
                put_byte(&s, v[j], kept);
            r += b;
        }
    }
    {
        unsigned char v[DT_CD_VARINT];
        size_t sz = put_varint(v, 0, DT_BALLOT_CD_MARKER);
        for (size_t j = 0; j < sz; j++)
            put_byte(&s, v[j], t3 | t5);
    }
    put_varint_ct(&s, ct_sel(t4, 1, nw1), 1);
    for (size_t i = 0; i < nslots; i++) {
        const unsigned char *p = slots + i * slot_size;
        const cd_slot *w = &sl[i];
        /* "*" in place of the write-in L (step 1) or of them all (step 4) */
        uint64_t star = ct_sel(t4, i == 0, t1 & (i == L));
        uint64_t full = w->live & (i < L ? 1 : 1 ^ t1) & (1 ^ t4);
        uint64_t cut = full & t2 & w->cuttable;
        uint64_t len = ct_sel(star, 1, ct_sel(cut, w->cut + 1, w->len) & (0 - full));
        put_varint_ct(&s, len, star | full);
        for (size_t j = 0; j < wr; j++) {
            uint64_t c = j < slot_size ? p[j] : 0;
            c = ct_sel((star & (j == 0)) | (cut & ct_eq(j, w->cut)), '*', c);
            put_byte(&s, c, (star | full) & ct_lt(j, len));
        }
    }
    put_byte(&s, slen, 1);
    for (size_t j = 0; j < maxname; j++) {
        uint64_t c = 0;
        for (uint64_t i = 0; i < 4; i++) {
            const char *name = dt_ballot_cd_status_names[i];
            c |= (uint64_t)(j < strlen(name) ? (unsigned char)name[j] : 0) & (0 - ct_eq(st, i));
        }
        put_byte(&s, c, ct_lt(j, slen));
    }
    DT_BALLOT_CHECK(s.n == N);

    compact(s.e, N);
    for (size_t p = 0; p < N && p < cap; p++)
        buf[p] = (unsigned char)(s.e[p] & (0u - ((s.e[p] >> DT_CD_KEPT_BIT) & 1u)));
    /* egk-ec fills with zeros to 32 (L+1) - 2 bytes when the data is shorter */
    *num_bytes = (uint32_t)ct_sel(ct_lt(n, cap - 2), cap - 2, n);
    *d = buf;
    *dlen = (size_t)cap;
    buf = NULL;
    err = DT_OK;
out:
    if (s.e)
        dt_memzero(s.e, N * sizeof *s.e);
    if (sl)
        dt_memzero(sl, (nslots ? nslots : 1) * sizeof *sl);
    free(s.e);
    free(sl);
    free(buf);
    return err;
}

dt_err dt_ballot_cd_encode(unsigned char **d, size_t *dlen, uint32_t *num_bytes, const dt_rec_mcontest *mc, int status,
                           const unsigned char *marked, char *const *write_ins, size_t nwrite)
{
    const size_t cap = (size_t)DT_CD_BLOCK * ((size_t)mc->votes_allowed + 1);
    const size_t slot_size = cap < DT_LIMIT_STRING ? cap : DT_LIMIT_STRING;
    unsigned char *slots = calloc(nwrite ? nwrite : 1, slot_size);
    uint32_t *lens = calloc(nwrite ? nwrite : 1, sizeof *lens);
    dt_err err = DT_ERR_NOMEM;

    DT_BALLOT_CHECK(d && dlen && num_bytes && (write_ins || !nwrite));
    *d = NULL;
    *dlen = 0;
    *num_bytes = 0;
    if (!slots || !lens)
        goto out;
    for (size_t i = 0; i < nwrite; i++) {
        const char *t = write_ins[i];
        size_t len = 0;
        /* A NUL-terminated string's end is found by looking at it: its
         * length is declassified here (known gap, docs/security.md: the
         * plaintext ballot holds each write-in at its own length), its bytes
         * are not. A text longer than its slot is longer than cap, and cut
         * whatever follows its slot. */
        for (;;) {
            int end = t[len] == '\0';
            dt_declassify(&end, sizeof end);
            if (end)
                break;
            if (++len > DT_LIMIT_STRING) {
                err = DT_ERR_LIMIT; /* the plaintext ballot's parser refuses it */
                goto out;
            }
        }
        memcpy(slots + i * slot_size, t, len < slot_size ? len : slot_size);
        lens[i] = (uint32_t)len;
    }
    err = dt_ballot_cd_encode_slots(d, dlen, num_bytes, mc, status, marked, slots, slot_size, lens, nwrite, nwrite);
out:
    if (slots)
        dt_memzero(slots, (nwrite ? nwrite : 1) * slot_size);
    if (lens)
        dt_memzero(lens, (nwrite ? nwrite : 1) * sizeof *lens);
    free(slots);
    free(lens);
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
