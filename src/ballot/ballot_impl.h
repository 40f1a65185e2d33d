/* Private: the ballot module's objects, shared by its files.
 *   nonce.c      nonce derivation
 *   ctx.c        dt_ballot_ctx, dt_ballot_device, messages, manifest lookups
 *   plaintext.c  plaintext ballots: parse, serialize
 *   contest_data.c  the contest-data layout and its hashed ElGamal encryption
 *   encrypt.c    dt_ballot_encrypt
 *   ballot_json.c   encrypted ballots: to and from JSON
 *   open.c       dt_ballot_decrypt_with_nonce */
#ifndef DT_BALLOT_BALLOT_IMPL_H
#define DT_BALLOT_BALLOT_IMPL_H

#include <stdbool.h>

#include <detente/ballot.h>

#include "ballot/ballot_json.h"
#include "record/record.h"

#define DT_STR2_(x) #x
#define DT_STR_(x) DT_STR2_(x)
#define DT_BALLOT_CHECK(cond)                                                                      \
    do {                                                                                           \
        if (!(cond))                                                                               \
            dt_misuse(__FILE__ ":" DT_STR_(__LINE__) ": " #cond);                                  \
    } while (0)

struct dt_ballot_ctx {
    const dt_record *rec;
    const dt_group *g;
    size_t eb;                      /* element encoding length */
    dt_elem K;
    dt_fixed_base *Kt;              /* a fixed-base table of K: encryption's K^x */
    const unsigned char *Kenc;      /* the record's encoding of K, eb bytes */
    unsigned char he[DT_HASH_BYTES];
    const dt_rec_manifest *m;
    size_t *by_id;                  /* manifest contest indices sorted by id */
};

struct dt_ballot_device {
    const dt_ballot_ctx *ctx;
    char *id;
    unsigned char *baux0;
    size_t baux0len;
    bool chain;
    unsigned char head[DT_HASH_BYTES];  /* chaining: the code the next ballot chains from */
};

/* contest statuses, in egk-ec's enum order */
enum { DT_BALLOT_CD_NORMAL = 0, DT_BALLOT_CD_NULL_VOTE = 1, DT_BALLOT_CD_OVER_VOTE = 2, DT_BALLOT_CD_UNDER_VOTE = 3 };
extern const char *const dt_ballot_cd_status_names[4];

/* The overvote list's truncation marker (egk-ec writes the Int -1). */
#define DT_BALLOT_CD_MARKER 0xFFFFFFFFu

/* One contest of a plaintext ballot; votes[] per manifest option. */
typedef struct dt_pcontest {
    size_t mi;                 /* manifest contest index */
    uint32_t *votes;           /* noptions values, each <= R */
    size_t nwrite;
    char **write_ins;          /* NUL-terminated UTF-8 */
    /* from an opened ballot only */
    bool has_data;
    int status;
    size_t nover;
    uint32_t *over;
} dt_pcontest;

struct dt_plaintext_ballot {
    const dt_ballot_ctx *ctx;
    char *id;
    size_t style;              /* index into the manifest's styles */
    size_t ncontests;          /* the style's contests, in manifest order */
    dt_pcontest *contests;
};

typedef struct dt_bproof {
    size_t n;
    unsigned char (*c)[32];
    unsigned char (*v)[32];
    /* the commitments a_j, b_j: n encodings of eb bytes each, or NULL (the
     * integer group's records have none; ristretto255's must: proof.h) */
    unsigned char *a, *b;
} dt_bproof;

typedef struct dt_bsel {
    char *id;
    uint32_t seq;
    unsigned char *alpha;      /* eb bytes */
    unsigned char *beta;       /* eb bytes */
    dt_bproof proof;
} dt_bsel;

typedef struct dt_bcontest {
    char *id;
    uint32_t seq;
    unsigned char hash[DT_HASH_BYTES];
    size_t nsel;
    dt_bsel *sel;
    dt_bproof proof;
    bool has_data;
    unsigned char *c0;         /* eb bytes */
    unsigned char *c1;
    size_t c1len;
    unsigned char c2[DT_HASH_BYTES];
    uint32_t num_bytes;
} dt_bcontest;

struct dt_ballot {
    const dt_ballot_ctx *ctx;
    char *id;
    char *style;
    char *device;
    int64_t timestamp;
    unsigned char *baux;
    size_t bauxlen;
    unsigned char code[DT_HASH_BYTES];
    unsigned char election_id[DT_HASH_BYTES];
    dt_ballot_state state;
    bool preencrypt;
    size_t ncontests;
    dt_bcontest *contests;
};

/* ---- JSON building: every helper consumes the value it is given, so a
 * tree is released by releasing its root ---- */

static inline bool dt_jset(json_t *obj, const char *key, json_t *v)
{
    return v && json_object_set_new(obj, key, v) == 0;
}

static inline bool dt_jappend(json_t *arr, json_t *v)
{
    return v && json_array_append_new(arr, v) == 0;
}

/* a new object appended to arr, or NULL */
static inline json_t *dt_jadd_obj(json_t *arr)
{
    json_t *o = json_object();
    return dt_jappend(arr, o) ? o : NULL;
}

/* a new object or array set at obj[key], or NULL */
static inline json_t *dt_jset_obj(json_t *obj, const char *key)
{
    json_t *o = json_object();
    return dt_jset(obj, key, o) ? o : NULL;
}

static inline json_t *dt_jset_arr(json_t *obj, const char *key)
{
    json_t *a = json_array();
    return dt_jset(obj, key, a) ? a : NULL;
}

/* ---- ctx.c ---- */

/* Sets *msg (if msg and not already set) to the formatted text; returns err. */
dt_err dt_ballot_fail(char **msg, dt_err err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "an object", "a string", ... for messages */
const char *dt_ballot_jtype(const json_t *v);
/* v is a string of at most 1024 bytes without NUL; messages "where: key: ...". */
dt_err dt_ballot_jstr(char **msg, const char **out, const json_t *v, const char *where, const char *key);
/* The manifest contest with this id, or -1. */
long dt_ballot_find_contest(const dt_ballot_ctx *ctx, const char *id);
/* The option of mc with this id, or -1. */
long dt_ballot_find_option(const dt_rec_mcontest *mc, const char *id);
/* The style with this id, or -1. */
long dt_ballot_find_style(const dt_ballot_ctx *ctx, const char *id);
/* 1 if the contest's district is among the style's geopolitical units. */
int dt_ballot_style_has(const dt_rec_style *st, const dt_rec_mcontest *mc);
/* The manifest indices of the style's contests in manifest order (malloc'ed;
 * *n may be 0). NULL on allocation failure. */
size_t *dt_ballot_style_contests(const dt_ballot_ctx *ctx, size_t style, size_t *n);

/* ---- plaintext.c ---- */

/* An empty plaintext ballot of the style with every contest at 0. */
dt_plaintext_ballot *dt_plaintext_ballot_alloc(const dt_ballot_ctx *ctx, const char *id, size_t style);

/* ---- contest_data.c ---- */

/* The contest's data, encoded and padded: C1 is 32 (L+1) bytes (*dlen),
 * of which the first *num_bytes are the padded plaintext D. d receives
 * 32 (L+1) bytes (malloc'ed, caller wipes). Constant time in the secrets
 * (docs/security.md): status (0..3), marked (noptions bytes, 1 for each
 * option in the overvote list: every option voted for when the contest is
 * overvoted, else none), the write-ins' bytes. Each write-in's length is
 * declassified (a NUL-terminated string); more than DT_LIMIT_STRING bytes:
 * DT_ERR_LIMIT. */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_cd_encode(unsigned char **d, size_t *dlen, uint32_t *num_bytes,
                                          const dt_rec_mcontest *mc, int status, const unsigned char *marked,
                                          char *const *write_ins, size_t nwrite);
/* The same from fixed-size slots, constant time in the write-ins' lengths
 * and number too: nslots slots of slot_size bytes, slot i holding the first
 * min(lens[i], slot_size) bytes of a text of lens[i] bytes, zero-padded (a
 * text longer than its slot must be longer than 32 (L+1) bytes: it is cut
 * whatever follows); the first nw <= nslots are the write-ins. */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_cd_encode_slots(unsigned char **d, size_t *dlen, uint32_t *num_bytes,
                                                const dt_rec_mcontest *mc, int status, const unsigned char *marked,
                                                const unsigned char *slots, size_t slot_size, const uint32_t *lens,
                                                size_t nslots, size_t nw);
/* Parses a decrypted D (n = numBytes bytes, followed by the block padding up
 * to total bytes, which must be zero too). On success fills pc's contest data
 * fields (malloc'ed). */
DT_WARN_UNUSED_RESULT dt_err dt_ballot_cd_decode(dt_pcontest *pc, const unsigned char *d, size_t n, size_t total);
/* Hashed ElGamal with the record's KDF: k = H(H_E; 0x22, K, C0, beta);
 * k_i = HMAC(k, b(i,4) || "share_enc_keys" || 0x00 || "contest_data" ||
 * label || b(8 numBytes, 4)); C1 = D xor k_1..; C2 = HMAC(k_0, C0 || C1).
 * Encrypt (xor) or decrypt: buf (len bytes, a multiple of 32) is xored in place.
 * mac receives C2 computed over c0 || c1 where c1 is the ciphertext: call
 * with encrypt = 1 after xoring, encrypt = 0 before. */
void dt_ballot_cd_crypt(const dt_ballot_ctx *ctx, unsigned char mac[DT_HASH_BYTES], unsigned char *buf, size_t len,
                 int encrypt, const unsigned char *c0, const unsigned char *beta_enc, const char *label,
                 uint32_t num_bytes);

/* ---- ballot_json.c ---- */

void dt_ballot_proof_free(dt_bproof *p);

#endif
