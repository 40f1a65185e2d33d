/* C2SP signed notes (v1.0.0), checkpoints (tlog-checkpoint v1.0.0) and
 * Ed25519 cosignatures (tlog-cosignature v1.0.1). See include/detente/note.h
 * and docs/board.md. Nothing here allocates. */
#include <string.h>

#include <sodium.h>

#include <detente/note.h>

/* The layout behind the opaque structs. */
typedef struct dt_note_key {
    unsigned char type;
    unsigned char namelen;
    uint32_t id;
    unsigned char pk[32];
    char name[DT_NOTE_NAME_MAX + 1];
} dt_note_key;

typedef struct dt_note_skey {
    dt_note_key k;
    unsigned char sk[crypto_sign_ed25519_SECRETKEYBYTES];
} dt_note_skey;

_Static_assert(sizeof(dt_note_key) <= sizeof(((dt_note_verifier *)0)->opaque), "verifier size");
_Static_assert(sizeof(dt_note_skey) <= sizeof(((dt_note_signer *)0)->opaque), "signer size");
_Static_assert(_Alignof(dt_note_skey) <= 8, "signer alignment");

#define DT_SIGPREFIX "\xe2\x80\x94 " /* em dash, space */
#define DT_SIGPREFIX_LEN 4
#define DT_SKEYPREFIX "PRIVATE+KEY+"
#define DT_SKEYPREFIX_LEN 12
/* Longest decoded signature accepted (an unknown key's: post-quantum ones
 * are up to about 5 kB, per signed-note). */
#define DT_SIG_MAX 5120
#define DT_COSIG_BYTES (8 + 64)
#define DT_COSIG_HDR_MAX 48 /* "cosignature/v1\ntime " + 19 digits + "\n" */

size_t dt_note_vkey_max(void) { return DT_NOTE_VKEY_MAX; }
size_t dt_note_skey_max(void) { return DT_NOTE_SKEY_MAX; }
size_t dt_note_sigline_max(void) { return DT_NOTE_SIGLINE_MAX; }

static const dt_note_key *vkey_of(const dt_note_verifier *v) { return (const dt_note_key *)v->opaque; }
static dt_note_key *vkey_mut(dt_note_verifier *v) { return (dt_note_key *)v->opaque; }
static const dt_note_skey *skey_of(const dt_note_signer *s) { return (const dt_note_skey *)s->opaque; }
static dt_note_skey *skey_mut(dt_note_signer *s) { return (dt_note_skey *)s->opaque; }

/* ---- text rules ---- */

/* Decodes one UTF-8 code point at s (n > 0 bytes left). Returns its length, or
 * 0 if the bytes are not well-formed UTF-8 (overlong, surrogate, > U+10FFFF). */
static size_t dt_utf8_next(uint32_t *cp, const unsigned char *s, size_t n)
{
    uint32_t c = s[0], min;
    size_t len, i;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0) {
        len = 2, c &= 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, c &= 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, c &= 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Valid UTF-8 with no control character below U+0020 other than newline. */
static int dt_note_text_ok(const char *t, size_t n)
{
    const unsigned char *s = (const unsigned char *)t;
    size_t i = 0, k;
    uint32_t cp;
    while (i < n) {
        if (s[i] >= 0x20 && s[i] < 0x80) { /* fast path */
            i++;
            continue;
        }
        k = dt_utf8_next(&cp, s + i, n - i);
        if (k == 0 || (cp < 0x20 && cp != '\n'))
            return 0;
        i += k;
    }
    return 1;
}

/* Unicode White_Space (Go's unicode.IsSpace). */
static int dt_is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

/* Key names: non-empty, UTF-8, no Unicode space, no '+', no control. */
static int dt_name_chars_ok(const char *name, size_t n)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t i = 0, k;
    uint32_t cp;
    if (n == 0)
        return 0;
    while (i < n) {
        k = dt_utf8_next(&cp, s + i, n - i);
        if (k == 0 || cp < 0x20 || cp == 0x7f || cp == '+' || dt_is_space(cp))
            return 0;
        i += k;
    }
    return 1;
}

/* A name we hold: valid and at most DT_NOTE_NAME_MAX bytes. */
static dt_err dt_name_check(const char *name, size_t n)
{
    if (n > DT_NOTE_NAME_MAX)
        return DT_ERR_LIMIT;
    return dt_name_chars_ok(name, n) ? DT_OK : DT_ERR_ENCODING;
}

/* ---- codecs ---- */

/* Strict standard base64 with padding: the whole of in[0..n) must decode, to
 * at most cap bytes. libsodium's decoder runs in constant time (secrets go
 * through it) and refuses non-zero trailing bits. */
static dt_err dt_b64_dec(unsigned char *out, size_t cap, size_t *got, const char *in, size_t n)
{
    const char *end = NULL;
    unsigned high = 0;
    size_t i;
    *got = 0;
    /* sodium_base642bin (libsodium 1.0.18) reads every byte from 0x80 up as
     * '/' (a signed char): refuse them first, in constant time (seeds of
     * signer keys are decoded here). Found by fuzz/fuzz_codec.c in
     * src/util/codec.c; fuzz/regressions/checkpoint holds a case here. */
    for (i = 0; i < n; i++)
        high |= (unsigned char)in[i];
    if (n == 0 || n % 4 != 0 || (high & 0x80))
        return DT_ERR_ENCODING;
    if (n / 4 * 3 > cap + 2)
        return DT_ERR_LIMIT;
    if (sodium_base642bin(out, cap, in, n, NULL, got, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != in + n) {
        sodium_memzero(out, cap);
        *got = 0;
        return DT_ERR_ENCODING;
    }
    return DT_OK;
}

/* Writes base64(in) into out (capacity cap, NUL included); returns its length. */
static size_t dt_b64_enc(char *out, size_t cap, const unsigned char *in, size_t n)
{
    size_t need = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    if (need > cap)
        dt_misuse("dt_note: base64 buffer too small");
    sodium_bin2base64(out, need, in, n, sodium_base64_VARIANT_ORIGINAL);
    return need - 1;
}

static void dt_be32_put(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static uint32_t dt_be32_get(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Decimal of v into out (at least 21 bytes); returns the digit count. */
static size_t dt_u64_dec(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0, i;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = 0;
    return n;
}

/* key ID = SHA-256(name || 0x0A || type || public key)[:4], big-endian */
static uint32_t dt_key_id(const char *name, size_t n, unsigned char type, const unsigned char pk[32])
{
    crypto_hash_sha256_state st;
    unsigned char h[32], sep[2] = {'\n', type};
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)name, n);
    crypto_hash_sha256_update(&st, sep, 2);
    crypto_hash_sha256_update(&st, pk, 32);
    crypto_hash_sha256_final(&st, h);
    return dt_be32_get(h);
}

/* Copies out[0..n) and a NUL if it fits in *cap; otherwise DT_ERR_LIMIT with
 * *cap set to the size needed. */
static dt_err dt_out_fits(size_t *cap, size_t need)
{
    if (need + 1 > *cap) {
        *cap = need + 1;
        return DT_ERR_LIMIT;
    }
    return DT_OK;
}

/* ---- keys ---- */

static int dt_type_ok(unsigned t) { return t == DT_NOTE_ED25519 || t == DT_NOTE_COSIG; }

/* Splits "name+hash8+b64" and checks the name and hash digits. */
static dt_err dt_key_split(const char **name, size_t *namelen, uint32_t *id, const char **b64,
                           size_t *b64len, const char *s, size_t len)
{
    const char *plus = memchr(s, '+', len);
    size_t i;
    uint32_t v = 0;
    dt_err err;
    if (!plus)
        return DT_ERR_ENCODING;
    *name = s;
    *namelen = (size_t)(plus - s);
    if ((err = dt_name_check(s, *namelen)) != DT_OK)
        return err;
    s = plus + 1;
    len -= *namelen + 1;
    /* exactly 8 lower-case hex digits, then '+' */
    if (len < 9 || s[8] != '+')
        return DT_ERR_ENCODING;
    for (i = 0; i < 8; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return DT_ERR_ENCODING;
        v = v << 4 | d;
    }
    *id = v;
    *b64 = s + 9;
    *b64len = len - 9;
    return DT_OK;
}

dt_err dt_note_verifier_parse(dt_note_verifier *out, const char *vkey, size_t len)
{
    const char *name, *b64;
    size_t namelen, b64len, got;
    uint32_t id;
    unsigned char kd[33];
    dt_note_key *k;
    dt_err err;
    if (!out || !vkey)
        dt_misuse("dt_note_verifier_parse: NULL argument");
    memset(out, 0, sizeof *out);
    if (len > DT_NOTE_VKEY_MAX - 1)
        return DT_ERR_LIMIT;
    if (memchr(vkey, 0, len))
        return DT_ERR_ENCODING;
    if ((err = dt_key_split(&name, &namelen, &id, &b64, &b64len, vkey, len)) != DT_OK)
        return err;
    if (b64len != 44)
        return DT_ERR_ENCODING;
    if ((err = dt_b64_dec(kd, sizeof kd, &got, b64, b64len)) != DT_OK)
        return err;
    if (got != 33)
        return DT_ERR_ENCODING;
    if (!dt_type_ok(kd[0]) || dt_key_id(name, namelen, kd[0], kd + 1) != id)
        return DT_ERR_INVALID;
    k = vkey_mut(out);
    k->type = kd[0];
    k->namelen = (unsigned char)namelen;
    k->id = id;
    memcpy(k->pk, kd + 1, 32);
    memcpy(k->name, name, namelen);
    return DT_OK;
}

/* name+hash+base64(type || key32) into out (capacity checked by caller). */
static size_t dt_key_write(char *out, const dt_note_key *k, const unsigned char key32[32])
{
    static const char hx[] = "0123456789abcdef";
    unsigned char kd[33];
    size_t n = 0;
    int i;
    memcpy(out, k->name, k->namelen);
    n += k->namelen;
    out[n++] = '+';
    for (i = 7; i >= 0; i--)
        out[n++] = hx[(k->id >> (4 * i)) & 15];
    out[n++] = '+';
    kd[0] = k->type;
    memcpy(kd + 1, key32, 32);
    n += dt_b64_enc(out + n, 45, kd, 33);
    sodium_memzero(kd, sizeof kd);
    return n;
}

dt_err dt_note_verifier_format(char *out, size_t *outlen, const dt_note_verifier *v)
{
    const dt_note_key *k;
    dt_err err;
    if (!out || !outlen || !v)
        dt_misuse("dt_note_verifier_format: NULL argument");
    k = vkey_of(v);
    if (!dt_type_ok(k->type))
        dt_misuse("dt_note_verifier_format: uninitialized verifier");
    if ((err = dt_out_fits(outlen, k->namelen + 54u)) != DT_OK)
        return err;
    *outlen = dt_key_write(out, k, k->pk);
    return DT_OK;
}

const char *dt_note_verifier_name(const dt_note_verifier *v, size_t *namelen)
{
    *namelen = vkey_of(v)->namelen;
    return vkey_of(v)->name;
}

uint32_t dt_note_verifier_id(const dt_note_verifier *v) { return vkey_of(v)->id; }
unsigned dt_note_verifier_type(const dt_note_verifier *v) { return vkey_of(v)->type; }
const unsigned char *dt_note_verifier_pubkey(const dt_note_verifier *v) { return vkey_of(v)->pk; }

dt_err dt_note_signer_from_seed(dt_note_signer *out, const char *name, size_t namelen, unsigned type,
                                const unsigned char seed[32])
{
    dt_note_skey *s;
    dt_err err;
    if (!out || !name || !seed)
        dt_misuse("dt_note_signer_from_seed: NULL argument");
    if (!dt_type_ok(type))
        dt_misuse("dt_note_signer_from_seed: unsupported key type");
    memset(out, 0, sizeof *out);
    if ((err = dt_name_check(name, namelen)) != DT_OK)
        return err;
    s = skey_mut(out);
    crypto_sign_ed25519_seed_keypair(s->k.pk, s->sk, seed);
    s->k.type = (unsigned char)type;
    s->k.namelen = (unsigned char)namelen;
    memcpy(s->k.name, name, namelen);
    s->k.id = dt_key_id(name, namelen, s->k.type, s->k.pk);
    return DT_OK;
}

dt_err dt_note_signer_generate(dt_note_signer *out, const char *name, size_t namelen, unsigned type)
{
    unsigned char seed[32];
    dt_err err;
    if (!out || !name)
        dt_misuse("dt_note_signer_generate: NULL argument");
    memset(out, 0, sizeof *out);
    if ((err = dt_random_bytes(seed, sizeof seed)) != DT_OK)
        goto out;
    err = dt_note_signer_from_seed(out, name, namelen, type, seed);
out:
    sodium_memzero(seed, sizeof seed);
    return err;
}

dt_err dt_note_signer_parse(dt_note_signer *out, const char *skey, size_t len)
{
    const char *name, *b64;
    size_t namelen, b64len, got;
    uint32_t id;
    unsigned char kd[33];
    dt_err err;
    if (!out || !skey)
        dt_misuse("dt_note_signer_parse: NULL argument");
    memset(out, 0, sizeof *out);
    if (len > DT_NOTE_SKEY_MAX - 1)
        return DT_ERR_LIMIT;
    if (len < DT_SKEYPREFIX_LEN || memcmp(skey, DT_SKEYPREFIX, DT_SKEYPREFIX_LEN) != 0 ||
        memchr(skey, 0, len))
        return DT_ERR_ENCODING;
    skey += DT_SKEYPREFIX_LEN;
    len -= DT_SKEYPREFIX_LEN;
    if ((err = dt_key_split(&name, &namelen, &id, &b64, &b64len, skey, len)) != DT_OK)
        goto out;
    err = DT_ERR_ENCODING;
    if (b64len != 44)
        goto out;
    if ((err = dt_b64_dec(kd, sizeof kd, &got, b64, b64len)) != DT_OK)
        goto out;
    err = DT_ERR_ENCODING;
    if (got != 33)
        goto out;
    err = DT_ERR_INVALID;
    if (!dt_type_ok(kd[0]))
        goto out;
    if ((err = dt_note_signer_from_seed(out, name, namelen, kd[0], kd + 1)) != DT_OK)
        goto out;
    if (skey_of(out)->k.id != id) {
        err = DT_ERR_INVALID;
        goto out;
    }
    err = DT_OK;
out:
    sodium_memzero(kd, sizeof kd);
    if (err != DT_OK)
        dt_note_signer_clear(out);
    return err;
}

dt_err dt_note_signer_format(char *out, size_t *outlen, const dt_note_signer *s)
{
    const dt_note_skey *k;
    dt_err err;
    if (!out || !outlen || !s)
        dt_misuse("dt_note_signer_format: NULL argument");
    k = skey_of(s);
    if (!dt_type_ok(k->k.type))
        dt_misuse("dt_note_signer_format: uninitialized signer");
    if ((err = dt_out_fits(outlen, DT_SKEYPREFIX_LEN + k->k.namelen + 54u)) != DT_OK)
        return err;
    memcpy(out, DT_SKEYPREFIX, DT_SKEYPREFIX_LEN);
    /* libsodium's secret key is seed || public key */
    *outlen = DT_SKEYPREFIX_LEN + dt_key_write(out + DT_SKEYPREFIX_LEN, &k->k, k->sk);
    return DT_OK;
}

void dt_note_signer_verifier(dt_note_verifier *out, const dt_note_signer *s)
{
    if (!out || !s)
        dt_misuse("dt_note_signer_verifier: NULL argument");
    memset(out, 0, sizeof *out);
    memcpy(vkey_mut(out), &skey_of(s)->k, sizeof(dt_note_key));
}

void dt_note_signer_clear(dt_note_signer *s)
{
    if (s)
        sodium_memzero(s, sizeof *s);
}

/* ---- signing ---- */

/* Length of the signature line for key k with a payload of n bytes. */
static size_t dt_sigline_len(const dt_note_key *k, size_t n)
{
    return DT_SIGPREFIX_LEN + k->namelen + 1 + 4 * ((4 + n + 2) / 3) + 1;
}

/* Writes "— name base64(id || payload)\n" (no NUL) and returns its length. */
static size_t dt_sigline_write(char *out, const dt_note_key *k, const unsigned char *payload, size_t n)
{
    unsigned char raw[4 + DT_COSIG_BYTES];
    size_t len = 0;
    if (n > DT_COSIG_BYTES)
        dt_misuse("dt_note: signature too long");
    memcpy(out, DT_SIGPREFIX, DT_SIGPREFIX_LEN);
    len += DT_SIGPREFIX_LEN;
    memcpy(out + len, k->name, k->namelen);
    len += k->namelen;
    out[len++] = ' ';
    dt_be32_put(raw, k->id);
    memcpy(raw + 4, payload, n);
    len += dt_b64_enc(out + len, 4 * ((4 + n + 2) / 3) + 1, raw, 4 + n);
    out[len++] = '\n';
    return len;
}

dt_err dt_note_sign(char *out, size_t *outlen, const char *text, size_t textlen,
                    const dt_note_signer *const *signers, size_t nsigners)
{
    unsigned char sig[64];
    size_t need, i, pos;
    dt_err err;
    if (!out || !outlen || !text || !signers)
        dt_misuse("dt_note_sign: NULL argument");
    if (nsigners == 0 || nsigners > DT_NOTE_MAX_SIGS)
        dt_misuse("dt_note_sign: bad number of signers");
    for (i = 0; i < nsigners; i++)
        if (!signers[i] || skey_of(signers[i])->k.type != DT_NOTE_ED25519)
            dt_misuse("dt_note_sign: signer is not an Ed25519 note key");
    if (textlen > DT_NOTE_MAX_BYTES)
        return DT_ERR_LIMIT;
    if (textlen == 0 || text[textlen - 1] != '\n' || !dt_note_text_ok(text, textlen))
        return DT_ERR_ENCODING;
    need = textlen + 1;
    for (i = 0; i < nsigners; i++)
        need += dt_sigline_len(&skey_of(signers[i])->k, 64);
    if (need > DT_NOTE_MAX_BYTES)
        return DT_ERR_LIMIT;
    if ((err = dt_out_fits(outlen, need)) != DT_OK)
        return err;
    memcpy(out, text, textlen);
    pos = textlen;
    out[pos++] = '\n';
    for (i = 0; i < nsigners; i++) {
        const dt_note_skey *s = skey_of(signers[i]);
        crypto_sign_ed25519_detached(sig, NULL, (const unsigned char *)text, textlen, s->sk);
        pos += dt_sigline_write(out + pos, &s->k, sig, sizeof sig);
    }
    out[pos] = 0;
    *outlen = pos;
    return DT_OK;
}

/* "cosignature/v1\ntime <t>\n" into hdr; returns its length. */
static size_t dt_cosig_header(char *hdr, uint64_t t)
{
    static const char a[] = "cosignature/v1\ntime ";
    size_t n = sizeof a - 1;
    memcpy(hdr, a, n);
    n += dt_u64_dec(hdr + n, t);
    hdr[n++] = '\n';
    return n;
}

/* ---- opening ---- */

static int dt_key_matches(const dt_note_key *k, const char *name, size_t namelen, uint32_t id)
{
    return k->id == id && k->namelen == namelen && memcmp(k->name, name, namelen) == 0;
}

/* Verifies one signature (after the key ID) by a known key over text. The
 * buffer msg (DT_COSIG_HDR_MAX + DT_NOTE_MAX_BYTES) holds a cosigned message. */
static dt_err dt_sig_check(uint64_t *ts, const dt_note_key *k, const unsigned char *sig, size_t n,
                           const char *text, size_t textlen, unsigned char *msg)
{
    size_t h;
    uint64_t t = 0;
    int i;
    *ts = 0;
    if (k->type == DT_NOTE_ED25519) {
        if (n != 64 ||
            crypto_sign_ed25519_verify_detached(sig, (const unsigned char *)text, textlen, k->pk) != 0)
            return DT_ERR_PROOF;
        return DT_OK;
    }
    if (n != DT_COSIG_BYTES)
        return DT_ERR_PROOF;
    for (i = 0; i < 8; i++)
        t = t << 8 | sig[i];
    if (t > DT_COSIG_MAX_TIME)
        return DT_ERR_PROOF;
    h = dt_cosig_header((char *)msg, t);
    memcpy(msg + h, text, textlen);
    if (crypto_sign_ed25519_verify_detached(sig + 8, msg, h + textlen, k->pk) != 0)
        return DT_ERR_PROOF;
    *ts = t;
    return DT_OK;
}

dt_err dt_note_open(size_t *textlen, unsigned char *verified, uint64_t *timestamps, const char *note,
                    size_t notelen, const dt_note_verifier *known, size_t nknown)
{
    unsigned char msg[DT_COSIG_HDR_MAX + DT_NOTE_MAX_BYTES];
    unsigned char sig[DT_SIG_MAX];
    const char *sigs, *end, *line, *nl, *sp;
    size_t tlen = 0, nsig = 0, nok = 0, got, j;
    dt_err err;
    if (!textlen || !verified || !note || (nknown && !known))
        dt_misuse("dt_note_open: NULL argument");
    *textlen = 0;
    memset(verified, 0, nknown);
    if (timestamps)
        memset(timestamps, 0, nknown * sizeof *timestamps);
    if (notelen > DT_NOTE_MAX_BYTES)
        return DT_ERR_LIMIT;
    if (!dt_note_text_ok(note, notelen))
        return DT_ERR_ENCODING;
    /* The text ends at the last blank line; signatures follow it. */
    for (j = notelen; j >= 2; j--)
        if (note[j - 1] == '\n' && note[j - 2] == '\n')
            break;
    if (j < 2)
        return DT_ERR_ENCODING;
    tlen = j - 1; /* text includes its final newline */
    sigs = note + j;
    end = note + notelen;
    if (sigs == end || end[-1] != '\n')
        return DT_ERR_ENCODING;
    for (line = sigs; line < end; line = nl + 1) {
        const char *name, *b64;
        size_t namelen, b64len;
        uint32_t id;
        nl = memchr(line, '\n', (size_t)(end - line));
        if (++nsig > DT_NOTE_MAX_SIGS) {
            err = DT_ERR_LIMIT;
            goto fail;
        }
        err = DT_ERR_ENCODING;
        if ((size_t)(nl - line) < DT_SIGPREFIX_LEN || memcmp(line, DT_SIGPREFIX, DT_SIGPREFIX_LEN) != 0)
            goto fail;
        name = line + DT_SIGPREFIX_LEN;
        sp = memchr(name, ' ', (size_t)(nl - name));
        if (!sp)
            goto fail;
        namelen = (size_t)(sp - name);
        if (!dt_name_chars_ok(name, namelen)) /* any length: unknown keys are ignored */
            goto fail;
        b64 = sp + 1;
        b64len = (size_t)(nl - b64);
        if ((err = dt_b64_dec(sig, sizeof sig, &got, b64, b64len)) != DT_OK)
            goto fail;
        if (got < 5) {
            err = DT_ERR_ENCODING;
            goto fail;
        }
        id = dt_be32_get(sig);
        for (j = 0; j < nknown; j++) {
            const dt_note_key *k = vkey_of(&known[j]);
            uint64_t t;
            if (!dt_type_ok(k->type))
                dt_misuse("dt_note_open: uninitialized verifier");
            if (!dt_key_matches(k, name, namelen, id))
                continue;
            if ((err = dt_sig_check(&t, k, sig + 4, got - 4, note, tlen, msg)) != DT_OK)
                goto fail;
            if (!verified[j]) {
                verified[j] = 1;
                nok++;
                if (timestamps)
                    timestamps[j] = t;
            }
        }
    }
    if (nok == 0) {
        err = DT_ERR_NOT_FOUND;
        goto fail;
    }
    *textlen = tlen;
    return DT_OK;
fail:
    memset(verified, 0, nknown);
    if (timestamps)
        memset(timestamps, 0, nknown * sizeof *timestamps);
    return err;
}

/* ---- checkpoints ---- */

dt_err dt_checkpoint_parse(const char **origin, size_t *originlen, uint64_t *size,
                           unsigned char root[DT_CHECKPOINT_ROOT_BYTES], const char **ext,
                           size_t *extlen, const char *body, size_t bodylen)
{
    const char *p, *end, *nl, *l2, *l3;
    size_t n, got, i, olen;
    uint64_t v = 0;
    dt_err err = DT_ERR_ENCODING;
    if (!origin || !originlen || !size || !root || !ext || !extlen || !body)
        dt_misuse("dt_checkpoint_parse: NULL argument");
    *origin = NULL, *originlen = 0, *size = 0, *ext = NULL, *extlen = 0;
    memset(root, 0, DT_CHECKPOINT_ROOT_BYTES);
    if (bodylen > DT_NOTE_MAX_BYTES)
        return DT_ERR_LIMIT;
    if (bodylen == 0 || body[bodylen - 1] != '\n' || !dt_note_text_ok(body, bodylen))
        return DT_ERR_ENCODING;
    end = body + bodylen;
    /* origin */
    nl = memchr(body, '\n', bodylen);
    olen = (size_t)(nl - body);
    if (olen == 0)
        return DT_ERR_ENCODING;
    if (olen > DT_CHECKPOINT_ORIGIN_MAX)
        return DT_ERR_LIMIT;
    /* size: canonical decimal, at most 2^63 - 1 */
    l2 = nl + 1;
    if (l2 == end || !(nl = memchr(l2, '\n', (size_t)(end - l2))))
        return DT_ERR_ENCODING;
    n = (size_t)(nl - l2);
    if (n == 0 || (n > 1 && l2[0] == '0'))
        return DT_ERR_ENCODING;
    for (i = 0; i < n; i++)
        if (l2[i] < '0' || l2[i] > '9')
            return DT_ERR_ENCODING;
    if (n > 19)
        return DT_ERR_LIMIT;
    for (i = 0; i < n; i++)
        v = v * 10 + (uint64_t)(l2[i] - '0'); /* 19 digits cannot overflow 2^64 */
    if (v > DT_CHECKPOINT_MAX_SIZE)
        return DT_ERR_LIMIT;
    /* root hash: the canonical base64 of 32 bytes */
    l3 = nl + 1;
    if (l3 == end || !(nl = memchr(l3, '\n', (size_t)(end - l3))))
        return DT_ERR_ENCODING;
    if ((size_t)(nl - l3) != 44 ||
        (err = dt_b64_dec(root, DT_CHECKPOINT_ROOT_BYTES, &got, l3, 44)) != DT_OK ||
        got != DT_CHECKPOINT_ROOT_BYTES) {
        memset(root, 0, DT_CHECKPOINT_ROOT_BYTES);
        return DT_ERR_ENCODING;
    }
    /* extension lines: each non-empty */
    for (p = nl + 1; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == p) {
            memset(root, 0, DT_CHECKPOINT_ROOT_BYTES);
            return DT_ERR_ENCODING;
        }
    }
    *origin = body;
    *originlen = olen;
    *size = v;
    *ext = l3 + 45;
    *extlen = (size_t)(end - *ext);
    if (*extlen == 0)
        *ext = NULL;
    return DT_OK;
}

dt_err dt_checkpoint_format(char *out, size_t *outlen, const char *origin, size_t originlen,
                            uint64_t size, const unsigned char root[DT_CHECKPOINT_ROOT_BYTES],
                            const char *ext, size_t extlen)
{
    char dec[21];
    const char *po, *pe;
    unsigned char pr[DT_CHECKPOINT_ROOT_BYTES];
    size_t nd, need, pos = 0, pol, pel;
    uint64_t ps;
    dt_err err;
    if (!out || !outlen || !origin || !root || (extlen && !ext))
        dt_misuse("dt_checkpoint_format: NULL argument");
    if (originlen > DT_CHECKPOINT_ORIGIN_MAX || extlen > DT_NOTE_MAX_BYTES || size > DT_CHECKPOINT_MAX_SIZE)
        return DT_ERR_LIMIT;
    if (originlen == 0 || memchr(origin, '\n', originlen))
        return DT_ERR_ENCODING;
    nd = dt_u64_dec(dec, size);
    need = originlen + 1 + nd + 1 + 45 + extlen;
    if (need > DT_NOTE_MAX_BYTES)
        return DT_ERR_LIMIT;
    if ((err = dt_out_fits(outlen, need)) != DT_OK)
        return err;
    memcpy(out, origin, originlen);
    pos = originlen;
    out[pos++] = '\n';
    memcpy(out + pos, dec, nd);
    pos += nd;
    out[pos++] = '\n';
    pos += dt_b64_enc(out + pos, 45, root, DT_CHECKPOINT_ROOT_BYTES);
    out[pos++] = '\n';
    if (extlen)
        memcpy(out + pos, ext, extlen);
    pos += extlen;
    out[pos] = 0;
    /* Validate what was written: the same rules as a received checkpoint. */
    if ((err = dt_checkpoint_parse(&po, &pol, &ps, pr, &pe, &pel, out, pos)) != DT_OK) {
        memset(out, 0, need + 1);
        return err;
    }
    if (pol == originlen && ps == size && pel == extlen) {
        *outlen = pos;
        return DT_OK;
    }
    memset(out, 0, need + 1);
    return DT_ERR_ENCODING;
}

dt_err dt_cosignature_sign(char *out, size_t *outlen, const dt_note_signer *s, uint64_t timestamp,
                           const char *body, size_t bodylen)
{
    unsigned char msg[DT_COSIG_HDR_MAX + DT_NOTE_MAX_BYTES];
    unsigned char ts[DT_COSIG_BYTES], root[DT_CHECKPOINT_ROOT_BYTES];
    const char *o, *e;
    size_t ol, el, h, need;
    uint64_t sz;
    const dt_note_skey *k;
    dt_err err;
    int i;
    if (!out || !outlen || !s || !body)
        dt_misuse("dt_cosignature_sign: NULL argument");
    k = skey_of(s);
    if (k->k.type != DT_NOTE_COSIG)
        dt_misuse("dt_cosignature_sign: signer is not a cosignature key");
    if (timestamp > DT_COSIG_MAX_TIME)
        return DT_ERR_RANGE;
    if ((err = dt_checkpoint_parse(&o, &ol, &sz, root, &e, &el, body, bodylen)) != DT_OK)
        return err;
    need = dt_sigline_len(&k->k, DT_COSIG_BYTES);
    if ((err = dt_out_fits(outlen, need)) != DT_OK)
        return err;
    h = dt_cosig_header((char *)msg, timestamp);
    memcpy(msg + h, body, bodylen);
    for (i = 0; i < 8; i++)
        ts[i] = (unsigned char)(timestamp >> (56 - 8 * i));
    crypto_sign_ed25519_detached(ts + 8, NULL, msg, h + bodylen, k->sk);
    *outlen = dt_sigline_write(out, &k->k, ts, sizeof ts);
    out[*outlen] = 0;
    return DT_OK;
}
