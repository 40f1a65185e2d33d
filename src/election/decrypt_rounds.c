/* Decryption by any k of the n guardians in two rounds (ElectionGuard 2.0
 * section 3.6; the protocol is in include/detente/tally.h, the messages in
 * docs/roles.md): the decryption list, round 1 (a guardian's commitments),
 * combine (the challenges), round 2 (a guardian's answers) and finish (every
 * answer checked, then tally.json and challenged_ballots/ written).
 *
 * The guardians' secrets (P(i), u_i) appear only in dt_decrypt_round1 and
 * dt_decrypt_round2; combine and finish take public data only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include <detente/ceremony.h>
#include <detente/proof.h>
#include <detente/tally.h>
#include <detente/workflow.h>

#include "election/workflow_impl.h"
#include "record/jsonout.h"
#include "record/record.h"
#include "util/codec.h"
#include "util/parallel.h"

#define MSG_VERSION 1
static const char list_label[] = "detente decryption list v1";

/* ---- the decryption list ---- */

enum { DK_TALLY = 1, DK_SEL = 2, DK_DATA = 3 };

typedef struct ditem {
    int kind;
    const dt_rec_ballot *b;     /* DK_SEL, DK_DATA: the challenged ballot */
    size_t c, s;                /* contest (of the tally or the ballot), selection */
    const unsigned char *A, *B; /* encodings; B is NULL for contest data (A = C0) */
    const dt_rec_data *cd;      /* DK_DATA */
    uint64_t max;               /* DK_TALLY, DK_SEL: the largest value the plaintext can take */
} ditem;

typedef struct dlist {
    const dt_record *rec;
    const dt_group *g;
    size_t eb, sb;
    dt_elem K;
    ditem *it;
    size_t n;
    unsigned char hash[32]; /* L */
} dlist;

static void hash_str(crypto_hash_sha256_state *h, const char *s)
{
    unsigned char len[4];
    size_t n = strlen(s);
    len[0] = (unsigned char)(n >> 24);
    len[1] = (unsigned char)(n >> 16);
    len[2] = (unsigned char)(n >> 8);
    len[3] = (unsigned char)n;
    crypto_hash_sha256_update(h, len, 4);
    crypto_hash_sha256_update(h, (const unsigned char *)s, n);
}

static void hash_u64(crypto_hash_sha256_state *h, uint64_t x, size_t bytes)
{
    unsigned char b[8];
    for (size_t k = 0; k < bytes; k++)
        b[k] = (unsigned char)(x >> (8 * (bytes - 1 - k)));
    crypto_hash_sha256_update(h, b, bytes);
}

/* L = SHA-256 of the list (docs/roles.md, "The decryption list"). */
static void list_hash(dlist *L)
{
    const dt_record *rec = L->rec;
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)list_label, sizeof list_label - 1);
    crypto_hash_sha256_update(&h, rec->he, 32);
    hash_u64(&h, L->n, 8);
    for (size_t t = 0; t < L->n; t++) {
        const ditem *it = &L->it[t];
        unsigned char kind = (unsigned char)it->kind;
        crypto_hash_sha256_update(&h, &kind, 1);
        if (it->kind == DK_TALLY) {
            hash_str(&h, rec->etally.contests[it->c].id);
            hash_str(&h, rec->etally.contests[it->c].sel[it->s].id);
        } else {
            hash_str(&h, it->b->id);
            hash_str(&h, it->b->contests[it->c].id);
            if (it->kind == DK_SEL)
                hash_str(&h, it->b->contests[it->c].sel[it->s].id);
        }
        crypto_hash_sha256_update(&h, it->A, L->eb);
        if (it->kind == DK_DATA) {
            hash_u64(&h, it->cd->c1.n, 4);
            crypto_hash_sha256_update(&h, it->cd->c1.p, it->cd->c1.n);
            crypto_hash_sha256_update(&h, it->cd->c2, 32);
            hash_u64(&h, it->cd->num_bytes, 4);
        } else {
            crypto_hash_sha256_update(&h, it->B, L->eb);
            hash_u64(&h, it->max, 8);
        }
    }
    crypto_hash_sha256_final(&h, L->hash);
}

static void list_free(dlist *L)
{
    free(L->it);
    L->it = NULL;
}

static dt_err list_build(char **msg, dlist *L, const dt_record *rec)
{
    const dt_rec_manifest *m = &rec->manifest;
    size_t n = 0, t = 0;

    memset(L, 0, sizeof *L);
    L->rec = rec;
    L->g = rec->group;
    L->eb = rec->elem_bytes;
    L->sb = dt_group_scalar_bytes(rec->group);
    if (!rec->K)
        return dt_wf_failmsg(msg, DT_ERR_INVALID, "election_initialized.json is missing: open the election first");
    if (!rec->has_etally)
        return dt_wf_failmsg(msg, DT_ERR_INVALID, "%s: no encrypted_tally.json: tally the ballots first", rec->dir);
    if (memcmp(rec->etally.election_id, rec->he, 32) != 0)
        return dt_wf_failmsg(msg, DT_ERR_INVALID,
                             "encrypted_tally.json: election_id is not this election's extended base hash");
    if (dt_elem_decode(L->g, &L->K, rec->K, L->eb) != DT_OK)
        return dt_wf_failmsg(msg, DT_ERR_NOT_IN_GROUP,
                             "election_initialized.json: joint_public_key is not in the group");
    for (size_t c = 0; c < rec->etally.ncontests; c++)
        n += rec->etally.contests[c].nsel;
    for (size_t b = 0; b < rec->nballots; b++)
        if (rec->ballots[b].state == DT_BALLOT_CHALLENGED)
            for (size_t c = 0; c < rec->ballots[b].ncontests; c++)
                n += rec->ballots[b].contests[c].nsel + (rec->ballots[b].contests[c].has_data ? 1 : 0);
    if (n > DT_DECRYPT_MAX_CIPHERTEXTS)
        return dt_wf_failmsg(msg, DT_ERR_LIMIT, "%zu ciphertexts to decrypt: more than the limit of %u", n,
                             DT_DECRYPT_MAX_CIPHERTEXTS);
    if (!(L->it = calloc(n ? n : 1, sizeof *L->it)))
        return DT_ERR_NOMEM;
    L->n = n;
    for (size_t c = 0; c < rec->etally.ncontests; c++) {
        const dt_rec_econtest *ec = &rec->etally.contests[c];
        long mi = dt_wf_mcontest_index(m, ec->id);
        uint64_t R = mi >= 0 ? m->contests[mi].option_limit : DT_LIMIT_VOTES;
        for (size_t s = 0; s < ec->nsel; s++, t++)
            L->it[t] = (ditem){.kind = DK_TALLY, .c = c, .s = s, .A = ec->sel[s].ct.pad, .B = ec->sel[s].ct.data,
                               .max = (uint64_t)rec->etally.ncast * R};
    }
    for (size_t b = 0; b < rec->nballots; b++) {
        const dt_rec_ballot *bal = &rec->ballots[b];
        if (bal->state != DT_BALLOT_CHALLENGED)
            continue;
        /* its decryption goes to challenged_ballots/dballot-<id>.json */
        if (!bal->id[0] || strchr(bal->id, '/')) {
            list_free(L);
            return dt_wf_failmsg(msg, DT_ERR_INVALID,
                                 "%s: challenged ballot id \"%s\" cannot name a file (empty, or a '/')", bal->file,
                                 bal->id);
        }
        for (size_t c = 0; c < bal->ncontests; c++) {
            const dt_rec_bcontest *bc = &bal->contests[c];
            long mi = dt_wf_mcontest_index(m, bc->id);
            if (mi < 0) {
                list_free(L);
                return dt_wf_failmsg(msg, DT_ERR_INVALID, "%s: contest %s is not in the manifest", bal->file, bc->id);
            }
            for (size_t s = 0; s < bc->nsel; s++, t++)
                L->it[t] = (ditem){.kind = DK_SEL, .b = bal, .c = c, .s = s, .A = bc->sel[s].ct.pad,
                                   .B = bc->sel[s].ct.data, .max = m->contests[mi].option_limit};
            if (bc->has_data)
                L->it[t++] = (ditem){.kind = DK_DATA, .b = bal, .c = c, .A = bc->data.c0, .cd = &bc->data};
        }
    }
    list_hash(L);
    return DT_OK;
}

/* "ciphertext 7 (challenged ballot b, contest c, selection s)" */
static void item_label(const dlist *L, size_t t, char *buf, size_t len)
{
    const ditem *it = &L->it[t];
    if (it->kind == DK_TALLY)
        snprintf(buf, len, "ciphertext %zu (tally, contest %s, selection %s)", t + 1,
                 L->rec->etally.contests[it->c].id, L->rec->etally.contests[it->c].sel[it->s].id);
    else if (it->kind == DK_SEL)
        snprintf(buf, len, "ciphertext %zu (challenged ballot %s, contest %s, selection %s)", t + 1, it->b->id,
                 it->b->contests[it->c].id, it->b->contests[it->c].sel[it->s].id);
    else
        snprintf(buf, len, "ciphertext %zu (challenged ballot %s, contest %s, contest data)", t + 1, it->b->id,
                 it->b->contests[it->c].id);
}

/* A and, unless contest data, B of item t. */
static dt_err item_decode(char **msg, const dlist *L, size_t t, dt_elem *A, dt_elem *B)
{
    char where[600];
    if (dt_elem_decode(L->g, A, L->it[t].A, L->eb) == DT_OK &&
        (!L->it[t].B || dt_elem_decode(L->g, B, L->it[t].B, L->eb) == DT_OK))
        return DT_OK;
    item_label(L, t, where, sizeof where);
    return dt_wf_failmsg(msg, DT_ERR_NOT_IN_GROUP, "%s: the ciphertext is not in the group", where);
}

/* A challenged ballot must not carry a ciphertext of a cast ballot: the
 * guardians would decrypt a cast vote. (A re-encrypted copy is caught by the
 * verifier: its range proofs cannot be made without the original nonce.) */
typedef struct digest {
    unsigned char d[16];
    size_t ballot;
} digest;

static int digest_cmp(const void *a, const void *b)
{
    return memcmp(((const digest *)a)->d, ((const digest *)b)->d, 16);
}

static void digest_of(digest *out, const unsigned char *enc, size_t len, size_t ballot)
{
    unsigned char h[32];
    dt_sha256(h, enc, len);
    memcpy(out->d, h, 16);
    out->ballot = ballot;
}

static dt_err check_no_cast_reuse(char **msg, const dlist *L)
{
    const dt_record *rec = L->rec;
    size_t n = 0, t = 0;
    digest *v = NULL, key;
    dt_err err = DT_OK;

    for (size_t b = 0; b < rec->nballots; b++)
        if (rec->ballots[b].state == DT_BALLOT_CAST)
            for (size_t c = 0; c < rec->ballots[b].ncontests; c++)
                n += rec->ballots[b].contests[c].nsel + (rec->ballots[b].contests[c].has_data ? 1 : 0);
    if (n == 0)
        return DT_OK;
    if (!(v = calloc(n, sizeof *v)))
        return DT_ERR_NOMEM;
    for (size_t b = 0; b < rec->nballots; b++) {
        const dt_rec_ballot *bal = &rec->ballots[b];
        if (bal->state != DT_BALLOT_CAST)
            continue;
        for (size_t c = 0; c < bal->ncontests; c++) {
            for (size_t s = 0; s < bal->contests[c].nsel; s++)
                digest_of(&v[t++], bal->contests[c].sel[s].ct.pad, L->eb, b);
            if (bal->contests[c].has_data)
                digest_of(&v[t++], bal->contests[c].data.c0, L->eb, b);
        }
    }
    qsort(v, n, sizeof *v, digest_cmp);
    for (size_t i = 0; i < L->n && !err; i++) {
        const digest *hit;
        if (L->it[i].kind == DK_TALLY)
            continue;
        digest_of(&key, L->it[i].A, L->eb, 0);
        if ((hit = bsearch(&key, v, n, sizeof *v, digest_cmp))) {
            char where[600];
            item_label(L, i, where, sizeof where);
            err = dt_wf_failmsg(msg, DT_ERR_INVALID,
                                "%s: the same ciphertext is in cast ballot %s (%s): refusing to decrypt it, "
                                "that would reveal a cast vote",
                                where, rec->ballots[hit->ballot].id, rec->ballots[hit->ballot].file);
        }
    }
    free(v);
    return err;
}

/* g^P(j) for each j of U, from election_initialized.json's commitments. */
static dt_err public_shares(char **msg, const dlist *L, const uint32_t *U, size_t nU, dt_elem *gP)
{
    const dt_record *rec = L->rec;
    dt_elem *K_all = NULL;
    unsigned char *seen = NULL;
    dt_err err = DT_OK;

    if (rec->nguardians != rec->n)
        return dt_wf_failmsg(msg, DT_ERR_INVALID, "election_initialized.json: %zu guardians, the election has %u",
                             rec->nguardians, rec->n);
    K_all = calloc((size_t)rec->n * rec->k, sizeof *K_all);
    seen = calloc(rec->n, 1);
    if (!K_all || !seen) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < rec->nguardians; i++) {
        const dt_rec_guardian *gd = &rec->guardians[i];
        if (gd->x < 1 || gd->x > rec->n || gd->ncoef != rec->k || seen[gd->x - 1]) {
            err = dt_wf_failmsg(msg, DT_ERR_INVALID, "election_initialized.json: guardian %s is malformed", gd->id);
            goto out;
        }
        seen[gd->x - 1] = 1;
        for (size_t j = 0; j < gd->ncoef; j++)
            if (dt_elem_decode(L->g, &K_all[(size_t)(gd->x - 1) * rec->k + j], gd->coef[j].K, L->eb) != DT_OK) {
                err = dt_wf_failmsg(msg, DT_ERR_NOT_IN_GROUP,
                                    "election_initialized.json: guardian %s: commitment %zu is not in the group",
                                    gd->id, j);
                goto out;
            }
    }
    for (size_t u = 0; u < nU; u++)
        dt_ceremony_public_share_var(L->g, &gP[u], U[u], K_all, rec->n, rec->k);
out:
    free(K_all);
    free(seen);
    return err;
}

/* ---- messages ---- */

/* A parsed message: share, challenge or response. */
typedef struct pmsg {
    uint32_t i;             /* the guardian (shares and responses) */
    json_t *root;
    json_t *arr;            /* shares[], challenges[] or responses[] */
    unsigned char hash[32]; /* SHA-256 of the text */
} pmsg;

static void pmsg_free(pmsg *p)
{
    if (p) {
        json_decref(p->root);
        p->root = p->arr = NULL;
    }
}

static int has_exactly(const json_t *o, const char *const *keys)
{
    size_t n = 0;
    if (!json_is_object(o))
        return 0;
    for (; keys[n]; n++)
        if (!json_object_get(o, keys[n]))
            return 0;
    return json_object_size(o) == n;
}

static int get_b64(const json_t *o, const char *key, unsigned char *out, size_t len)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) && dt_b64_decode_exact(out, len, json_string_value(v)) == DT_OK;
}

static int get_index(const json_t *v, uint32_t n, uint32_t *out)
{
    json_int_t x;
    if (!json_is_integer(v))
        return 0;
    x = json_integer_value(v);
    if (x < 1 || x > (json_int_t)n)
        return 0;
    *out = (uint32_t)x;
    return 1;
}

static dt_err jelem_get(const dlist *L, dt_elem *e, const json_t *v)
{
    unsigned char buf[DT_ELEM_MAX_BYTES];
    if (!json_is_string(v) || dt_b64_decode_exact(buf, L->eb, json_string_value(v)) != DT_OK)
        return DT_ERR_ENCODING;
    return dt_elem_decode(L->g, e, buf, L->eb);
}

static dt_err jscalar_get(const dlist *L, dt_scalar *s, const json_t *v)
{
    unsigned char buf[DT_SCALAR_BYTES];
    if (!json_is_string(v) || dt_b64_decode_exact(buf, L->sb, json_string_value(v)) != DT_OK)
        return DT_ERR_ENCODING;
    return dt_scalar_decode(L->g, s, buf, L->sb);
}

/* Parses a message of the given kind ("share", "challenge", "response"):
 * strict keys, version, election, list and count; arr the n-entry array. */
static dt_err pmsg_parse(char **msg, const dlist *L, pmsg *p, const dt_text *t, const char *kind,
                         const char *const *keys, const char *arrkey, size_t idx)
{
    json_error_t jerr;
    unsigned char he[32], lh[32];
    const json_t *v;
    char name[64];

    memset(p, 0, sizeof *p);
    crypto_hash_sha256(p->hash, (const unsigned char *)t->p, t->len);
    snprintf(name, sizeof name, "%s #%zu", kind, idx + 1);
    if (!(p->root = json_loadb(t->p, t->len, JSON_REJECT_DUPLICATES, &jerr)))
        return dt_wf_failmsg(msg, DT_ERR_PARSE, "%s: not JSON (line %d: %s)", name, jerr.line, jerr.text);
    v = json_object_get(p->root, "guardian");
    if (v && get_index(v, L->rec->n, &p->i))
        snprintf(name, sizeof name, "guardian %u's %s", p->i, kind);
    if (!has_exactly(p->root, keys))
        return dt_wf_failmsg(msg, DT_ERR_PARSE, "%s: not a decryption %s (unknown or missing keys)", name, kind);
    if (json_object_get(p->root, "guardian") && !p->i)
        return dt_wf_failmsg(msg, DT_ERR_RANGE, "%s: guardian is not a guardian index in 1..%u", name, L->rec->n);
    v = json_object_get(p->root, "version");
    if (!json_is_integer(v) || json_integer_value(v) != MSG_VERSION)
        return dt_wf_failmsg(msg, DT_ERR_PARSE, "%s: version is not %d", name, MSG_VERSION);
    if (!get_b64(p->root, "election_id", he, 32) || memcmp(he, L->rec->he, 32) != 0)
        return dt_wf_failmsg(msg, DT_ERR_INVALID, "%s: election_id is not this election's", name);
    v = json_object_get(p->root, "count");
    if (!get_b64(p->root, "ciphertexts", lh, 32) || memcmp(lh, L->hash, 32) != 0 || !json_is_integer(v) ||
        json_integer_value(v) != (json_int_t)L->n)
        return dt_wf_failmsg(msg, DT_ERR_INVALID,
                             "%s: made for another list of ciphertexts than the record's (%zu); the record changed, "
                             "or the %s is of another round",
                             name, L->n, kind);
    p->arr = json_object_get(p->root, arrkey);
    if (!json_is_array(p->arr) || json_array_size(p->arr) != L->n)
        return dt_wf_failmsg(msg, DT_ERR_PARSE, "%s: %s is not an array of %zu entries", name, arrkey, L->n);
    return DT_OK;
}

static const char *const share_keys[] = {"version", "guardian", "election_id", "ciphertexts", "count", "shares",
                                         NULL};
static const char *const challenge_keys[] = {"version", "election_id", "ciphertexts", "count", "guardians",
                                             "challenges", NULL};
static const char *const response_keys[] = {"version", "guardian", "election_id", "ciphertexts", "count",
                                            "challenge", "responses", NULL};
static const char *const item_keys[] = {"m", "a", "b", NULL};
static const char *const member_keys[] = {"guardian", "share", NULL};

/* The header shared by the three messages; guardian i unless i is 0. */
static json_t *msg_header(const dlist *L, uint32_t i)
{
    json_t *o = json_object();
    if (!o || json_object_set_new(o, "version", json_integer(MSG_VERSION)) != 0 ||
        (i && json_object_set_new(o, "guardian", json_integer(i)) != 0) ||
        json_object_set_new(o, "election_id", dt_jb64(L->rec->he, 32)) != 0 ||
        json_object_set_new(o, "ciphertexts", dt_jb64(L->hash, 32)) != 0 ||
        json_object_set_new(o, "count", json_integer((json_int_t)L->n)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The text of root (released), with a final newline; NULL if out of memory. */
static char *dump_text(json_t *root)
{
    char *s, *t;
    size_t n;
    if (!root)
        return NULL;
    s = json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    if (!s)
        return NULL;
    n = strlen(s);
    if (!(t = realloc(s, n + 2))) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}

/* ---- the state of combine, round 2 and finish ---- */

typedef struct dround {
    dlist L;
    char **msg;
    size_t nU;
    uint32_t *U;           /* the guardians, ascending */
    unsigned char (*H)[32]; /* SHA-256 of each one's share text */
    pmsg *sh;              /* their shares */
    dt_scalar *w;          /* Lagrange coefficients */
    dt_elem *Mi, *ai, *bi; /* scratch */
    pmsg ch;               /* the challenge (round 2, finish) */
} dround;

static void dround_free(dround *d)
{
    for (size_t u = 0; d->sh && u < d->nU; u++)
        pmsg_free(&d->sh[u]);
    pmsg_free(&d->ch);
    free(d->U);
    free(d->H);
    free(d->sh);
    free(d->w);
    free(d->Mi);
    free(d->ai);
    free(d->bi);
    list_free(&d->L);
}

static dt_err dround_alloc(dround *d, size_t nU)
{
    d->nU = nU;
    d->U = calloc(nU ? nU : 1, sizeof *d->U);
    d->H = calloc(nU ? nU : 1, sizeof *d->H);
    d->sh = calloc(nU ? nU : 1, sizeof *d->sh);
    d->w = calloc(nU ? nU : 1, sizeof *d->w);
    d->Mi = calloc(nU ? nU : 1, sizeof *d->Mi);
    d->ai = calloc(nU ? nU : 1, sizeof *d->ai);
    d->bi = calloc(nU ? nU : 1, sizeof *d->bi);
    return d->U && d->H && d->sh && d->w && d->Mi && d->ai && d->bi ? DT_OK : DT_ERR_NOMEM;
}

static dt_err need_quorum(char **msg, const dt_record *rec, size_t have)
{
    if (have >= rec->k)
        return DT_OK;
    return dt_wf_failmsg(msg, DT_ERR_INVALID, "decryption needs at least %u of the %u guardians; have %zu", rec->k,
                         rec->n, have);
}

static dt_err lagrange_all(dround *d)
{
    for (size_t u = 0; u < d->nU; u++)
        if (dt_lagrange_coefficient(d->L.g, &d->w[u], d->U[u], d->U, d->nU) != DT_OK)
            return dt_wf_failmsg(d->msg, DT_ERR_INVALID, "the guardians present must have distinct indices");
    return DT_OK;
}

/* Parses the challenge: U ascending and distinct, at least k, hashes. */
static dt_err challenge_parse(dround *d, const dt_text *text)
{
    const dt_record *rec = d->L.rec;
    const json_t *g;
    dt_err err;
    size_t nU;

    if ((err = pmsg_parse(d->msg, &d->L, &d->ch, text, "challenge", challenge_keys, "challenges", 0)))
        return err;
    g = json_object_get(d->ch.root, "guardians");
    if (!json_is_array(g) || json_array_size(g) > rec->n)
        return dt_wf_failmsg(d->msg, DT_ERR_PARSE, "challenge: guardians is not an array of at most %u", rec->n);
    nU = json_array_size(g);
    if ((err = need_quorum(d->msg, rec, nU)) || (err = dround_alloc(d, nU)))
        return err;
    for (size_t u = 0; u < nU; u++) {
        const json_t *e = json_array_get(g, u);
        if (!has_exactly(e, member_keys) || !get_index(json_object_get(e, "guardian"), rec->n, &d->U[u]) ||
            !get_b64(e, "share", d->H[u], 32) || (u > 0 && d->U[u] <= d->U[u - 1]))
            return dt_wf_failmsg(d->msg, DT_ERR_PARSE,
                                 "challenge: guardians[%zu] is not {\"guardian\": index, \"share\": hash} in "
                                 "ascending order of index",
                                 u);
    }
    return lagrange_all(d);
}

/* Matches the share texts to the challenge's U by guardian and hash. */
static dt_err shares_match(dround *d, const dt_text *shares, size_t nshares)
{
    dt_err err;
    for (size_t t = 0; t < nshares; t++) {
        pmsg p;
        size_t u;
        if ((err = pmsg_parse(d->msg, &d->L, &p, &shares[t], "decryption share", share_keys, "shares", t))) {
            pmsg_free(&p);
            return err;
        }
        for (u = 0; u < d->nU && d->U[u] != p.i; u++)
            ;
        if (u == d->nU || d->sh[u].root || memcmp(p.hash, d->H[u], 32) != 0) {
            uint32_t i = p.i;
            int other = u < d->nU && !d->sh[u].root;
            pmsg_free(&p);
            if (other)
                return dt_wf_failmsg(d->msg, DT_ERR_INVALID,
                                     "guardian %u's decryption share is not the one the challenge was computed "
                                     "from (it changed since 'decrypt combine')",
                                     i);
            return dt_wf_failmsg(d->msg, DT_ERR_INVALID,
                                 "guardian %u's decryption share is not expected here (not in the challenge's "
                                 "guardians, or given twice)",
                                 i);
        }
        d->sh[u] = p;
    }
    for (size_t u = 0; u < d->nU; u++)
        if (!d->sh[u].root)
            return dt_wf_failmsg(d->msg, DT_ERR_INVALID, "guardian %u's decryption share is missing", d->U[u]);
    return DT_OK;
}

/* M, a, b and the challenge c of item t from the shares of U. A, B decoded. */
/* Where the per-item functions below put the guardians' decoded shares, and
 * their messages: the round's own (d->Mi, ...; d->msg) in one thread, one
 * of its own in each thread of a parallel loop (msg NULL: the loop runs the
 * failing item again to say why). */
typedef struct dscr {
    char **msg;
    dt_elem *Mi, *ai, *bi;
} dscr;

static dscr dscr_of(dround *d)
{
    return (dscr){d->msg, d->Mi, d->ai, d->bi};
}

static dt_err combine_at(const dround *d, const dscr *sc, size_t t, const dt_elem *A, const dt_elem *B, dt_elem *M,
                         dt_scalar *c, dt_elem *a_out, dt_elem *b_out)
{
    const dlist *L = &d->L;
    const dt_group *g = L->g;
    unsigned char h[32];
    dt_elem a, b;

    for (size_t u = 0; u < d->nU; u++) {
        const json_t *e = json_array_get(d->sh[u].arr, t);
        if (!has_exactly(e, item_keys) || jelem_get(L, &sc->Mi[u], json_object_get(e, "m")) != DT_OK ||
            jelem_get(L, &sc->ai[u], json_object_get(e, "a")) != DT_OK ||
            jelem_get(L, &sc->bi[u], json_object_get(e, "b")) != DT_OK) {
            char where[600];
            item_label(L, t, where, sizeof where);
            return dt_wf_failmsg(sc->msg, DT_ERR_NOT_IN_GROUP,
                                 "guardian %u's decryption share, %s: not {\"m\", \"a\", \"b\"} of group elements",
                                 d->U[u], where);
        }
    }
    dt_dshare_combine(g, M, &a, &b, sc->Mi, sc->ai, sc->bi, d->w, d->nU);
    if (L->it[t].kind != DK_DATA)
        dt_decryption_challenge(g, h, L->rec->he, &L->K, A, B, &a, &b, M);
    else
        dt_contest_data_challenge(g, h, L->rec->he, &L->K, A, L->it[t].cd->c1.p, L->it[t].cd->c1.n,
                                  L->it[t].cd->c2, &a, &b, M);
    dt_scalar_reduce(g, c, h, 32);
    if (a_out)
        *a_out = a;
    if (b_out)
        *b_out = b;
    return DT_OK;
}

/* Recomputes the challenge of item t and compares it with the challenge
 * text's. Out: A, B, M, c, and the combined commitments a and b if not NULL. */
static dt_err challenge_check_at(const dround *d, const dscr *sc, size_t t, dt_elem *A, dt_elem *B, dt_elem *M,
                                 dt_scalar *c, dt_elem *a, dt_elem *b)
{
    dt_scalar mine;
    dt_err err;
    char where[600];
    if ((err = item_decode(sc->msg, &d->L, t, A, B)) || (err = combine_at(d, sc, t, A, B, M, &mine, a, b)))
        return err;
    if (jscalar_get(&d->L, c, json_array_get(d->ch.arr, t)) == DT_OK && dt_scalar_eq(c, &mine))
        return DT_OK;
    item_label(&d->L, t, where, sizeof where);
    return dt_wf_failmsg(sc->msg, DT_ERR_INVALID,
                         "challenge, %s: not the challenge that the guardians' shares define (eq. 72); compute it "
                         "again with 'decrypt combine'",
                         where);
}

/* A loop over the items on every core: fn(d, sc, t, arg) with scratch of
 * its own and no messages; err[t] its result. The caller reports the first
 * failing item by running it again with d's scratch and messages. */
typedef dt_err (*item_fn)(const dround *d, const dscr *sc, size_t t, void *arg);

typedef struct ploop {
    const dround *d;
    item_fn fn;
    void *arg;
    dt_err *err;
} ploop;

static void ploop_item(void *p, size_t t)
{
    ploop *l = p;
    size_t nU = l->d->nU;
    dt_elem *buf = malloc(3 * (nU ? nU : 1) * sizeof *buf);
    dscr sc = {NULL, buf, buf + nU, buf + 2 * nU};
    l->err[t] = buf ? l->fn(l->d, &sc, t, l->arg) : DT_ERR_NOMEM;
    free(buf);
}

/* DT_OK, or the first failing item's error and message (fn again, alone) */
static dt_err items_parallel(dround *d, item_fn fn, void *arg)
{
    dt_err *err = calloc(d->L.n ? d->L.n : 1, sizeof *err), e = DT_OK;
    ploop l = {d, fn, arg, err};
    if (!err)
        return DT_ERR_NOMEM;
    dt_parallel_for(d->L.n, 16, ploop_item, &l);
    for (size_t t = 0; t < d->L.n && e == DT_OK; t++)
        if (err[t] != DT_OK) {
            dscr sc = dscr_of(d);
            e = fn(d, &sc, t, arg);
            if (e == DT_OK) /* out of memory in the loop, say */
                e = err[t];
        }
    free(err);
    return e;
}

/* ---- round 1 ---- */

/* Round 1's items in blocks: each item's share (M_i, a_i, b_i: three
 * exponentiations) computed on every core into the block's arrays. */
enum { R1_BLOCK = 512 };

typedef struct r1job {
    const dlist *L;
    dt_decrypt_nonces *nn;
    const dt_scalar *P;
    size_t lo;
    dt_elem *M, *a, *b;
    dt_err *err;
} r1job;

typedef struct r1bufs {
    dt_elem M[R1_BLOCK], a[R1_BLOCK], b[R1_BLOCK];
    dt_err err[R1_BLOCK];
} r1bufs;

static void r1_item(void *p, size_t k)
{
    r1job *j = p;
    size_t t = j->lo + k;
    dt_elem A, B;
    if ((j->err[k] = item_decode(NULL, j->L, t, &A, &B)) == DT_OK)
        j->err[k] = dt_dshare_commit(j->L->g, &j->M[k], &j->a[k], &j->b[k], &j->nn->u[t], &A, j->P);
}

dt_err dt_decrypt_round1(char **msg, char **share, dt_decrypt_nonces **nonces, const dt_record *rec, uint32_t i,
                         const dt_scalar *P_i, dt_progress_fn progress, void *progress_arg)
{
    r1bufs *r1 = NULL; /* 790 KiB: not on the stack */
    dlist L;
    dt_decrypt_nonces *nn = NULL;
    json_t *arr = NULL, *root = NULL;
    dt_elem gP, mine, A, B, M, a, b;
    char *text = NULL;
    dt_err err;

    if (msg)
        *msg = NULL;
    *share = NULL;
    *nonces = NULL;
    if ((err = list_build(msg, &L, rec)))
        return err;
    if (i < 1 || i > rec->n) {
        err = dt_wf_failmsg(msg, DT_ERR_INVALID, "guardian index %u is not in 1..%u", i, rec->n);
        goto out;
    }
    if ((err = check_no_cast_reuse(msg, &L)) || (err = public_shares(msg, &L, &i, 1, &gP)))
        goto out;
    dt_elem_pow_g(L.g, &mine, P_i);
    if (!dt_elem_eq(L.g, &mine, &gP)) {
        err = dt_wf_failmsg(msg, DT_ERR_INVALID,
                            "guardian %u's key share does not match its commitments in election_initialized.json "
                            "(a key file of another key ceremony?)",
                            i);
        goto out;
    }
    nn = dt_decrypt_nonces_alloc(L.n);
    arr = json_array();
    r1 = malloc(sizeof *r1);
    if (!nn || !arr || !r1) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    /* the shares of a block of items on every core, then their JSON here */
    for (size_t lo = 0; lo < L.n; lo += R1_BLOCK) {
        size_t hi = lo + R1_BLOCK < L.n ? lo + R1_BLOCK : L.n;
        r1job job = {.L = &L, .nn = nn, .P = P_i, .lo = lo, .M = r1->M, .a = r1->a, .b = r1->b, .err = r1->err};
        dt_parallel_for(hi - lo, 8, r1_item, &job);
        for (size_t t = lo; t < hi; t++) {
            json_t *e;
            if (r1->err[t - lo] != DT_OK) { /* again, alone, for its message */
                if ((err = item_decode(msg, &L, t, &A, &B)) == DT_OK)
                    err = r1->err[t - lo];
                goto out;
            }
            M = r1->M[t - lo];
            a = r1->a[t - lo];
            b = r1->b[t - lo];
            e = json_pack("{s:o, s:o, s:o}", "m", dt_jelem(L.g, &M), "a", dt_jelem(L.g, &a), "b", dt_jelem(L.g, &b));
            if (!e || json_array_append_new(arr, e) != 0) {
                err = DT_ERR_NOMEM;
                goto out;
            }
            if (progress)
                progress(progress_arg, t + 1, L.n);
        }
    }
    root = msg_header(&L, i);
    if (!root || json_object_set(root, "shares", arr) != 0) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    text = dump_text(root);
    root = NULL;
    if (!text) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    nn->i = i;
    memcpy(nn->he, rec->he, 32);
    memcpy(nn->list, L.hash, 32);
    crypto_hash_sha256(nn->share, (const unsigned char *)text, strlen(text));
    *share = text;
    *nonces = nn;
    nn = NULL;
out:
    if (r1)
        sodium_memzero(r1, sizeof *r1); /* shares of a guardian's key: wiped */
    free(r1);
    json_decref(root);
    json_decref(arr);
    dt_decrypt_nonces_destroy(nn);
    list_free(&L);
    return err;
}

/* ---- combine ---- */

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static dt_err combine_item(const dround *d, const dscr *sc, size_t t, void *arg)
{
    dt_scalar *c = arg;
    dt_elem A, B, M;
    dt_err err = item_decode(sc->msg, &d->L, t, &A, &B);
    return err ? err : combine_at(d, sc, t, &A, &B, &M, &c[t], NULL, NULL);
}

dt_err dt_decrypt_combine(char **msg, char **challenge, const dt_record *rec, const dt_text *shares, size_t nshares,
                          dt_progress_fn progress, void *progress_arg)
{
    dround d;
    json_t *root = NULL, *members = NULL, *cs = NULL;
    dt_scalar *call = NULL;
    dt_err err;

    if (msg)
        *msg = NULL;
    *challenge = NULL;
    memset(&d, 0, sizeof d);
    d.msg = msg;
    if ((err = list_build(msg, &d.L, rec)))
        return err;
    if ((err = need_quorum(msg, rec, nshares)) || (err = dround_alloc(&d, nshares)))
        goto out;
    /* U: the guardians of the shares, ascending */
    {
        pmsg *tmp = calloc(nshares, sizeof *tmp);
        if (!tmp) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        for (size_t t = 0; t < nshares && !err; t++) {
            err = pmsg_parse(msg, &d.L, &tmp[t], &shares[t], "decryption share", share_keys, "shares", t);
            d.U[t] = tmp[t].i;
        }
        if (!err) {
            qsort(d.U, nshares, sizeof *d.U, u32_cmp);
            for (size_t u = 1; u < nshares && !err; u++)
                if (d.U[u] == d.U[u - 1])
                    err = dt_wf_failmsg(msg, DT_ERR_INVALID, "two decryption shares of guardian %u", d.U[u]);
        }
        for (size_t t = 0; t < nshares; t++) {
            size_t u;
            for (u = 0; !err && u < nshares && d.U[u] != tmp[t].i; u++)
                ;
            if (!err && u < nshares) {
                d.sh[u] = tmp[t];
                memcpy(d.H[u], tmp[t].hash, 32);
            } else {
                pmsg_free(&tmp[t]);
            }
        }
        free(tmp);
        if (err || (err = lagrange_all(&d)))
            goto out;
    }
    members = json_array();
    cs = json_array();
    if (!members || !cs) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t u = 0; u < d.nU; u++)
        if (json_array_append_new(members, json_pack("{s:i, s:o}", "guardian", (json_int_t)d.U[u], "share",
                                                     dt_jb64(d.H[u], 32))) != 0) {
            err = DT_ERR_NOMEM;
            goto out;
        }
    /* the challenges on every core, then their JSON here */
    if (!(call = calloc(d.L.n ? d.L.n : 1, sizeof *call))) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if ((err = items_parallel(&d, combine_item, call)))
        goto out;
    for (size_t t = 0; t < d.L.n; t++) {
        if (json_array_append_new(cs, dt_jscalar(d.L.g, &call[t])) != 0) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        if (progress)
            progress(progress_arg, t + 1, d.L.n);
    }
    root = msg_header(&d.L, 0);
    if (!root || json_object_set(root, "guardians", members) != 0 || json_object_set(root, "challenges", cs) != 0) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if (!(*challenge = dump_text(root)))
        err = DT_ERR_NOMEM;
    root = NULL;
out:
    free(call);
    json_decref(root);
    json_decref(members);
    json_decref(cs);
    dround_free(&d);
    return err;
}

/* ---- round 2 ---- */

static dt_err check_item(const dround *d, const dscr *sc, size_t t, void *arg)
{
    dt_scalar *c = arg;
    dt_elem A, B, M;
    return challenge_check_at(d, sc, t, &A, &B, &M, &c[t], NULL, NULL);
}

dt_err dt_decrypt_round2(char **msg, char **response, const dt_record *rec, const dt_text *challenge,
                         const dt_text *shares, size_t nshares, uint32_t i, const dt_scalar *P_i,
                         dt_decrypt_nonces *nonces, dt_progress_fn progress, void *progress_arg)
{
    dround d;
    dt_scalar *c = NULL, v;
    json_t *root = NULL, *vs = NULL;
    size_t me;
    dt_err err;

    if (msg)
        *msg = NULL;
    *response = NULL;
    memset(&d, 0, sizeof d);
    d.msg = msg;
    if (nonces->used)
        return dt_wf_failmsg(msg, DT_ERR_INVALID,
                             "guardian %u's round-1 nonces have been used: a nonce answers one challenge only; "
                             "start a new round with 'decrypt share'",
                             nonces->i);
    if ((err = list_build(msg, &d.L, rec)))
        return err;
    if (nonces->i != i || memcmp(nonces->he, rec->he, 32) != 0 || memcmp(nonces->list, d.L.hash, 32) != 0 ||
        nonces->n != d.L.n) {
        err = dt_wf_failmsg(msg, DT_ERR_INVALID,
                            "the round-1 nonces are not guardian %u's for this record's ciphertexts (the record "
                            "changed since round 1?)",
                            i);
        goto out;
    }
    if ((err = challenge_parse(&d, challenge)))
        goto out;
    for (me = 0; me < d.nU && d.U[me] != i; me++)
        ;
    if (me == d.nU) {
        err = dt_wf_failmsg(msg, DT_ERR_INVALID, "the challenge does not include guardian %u", i);
        goto out;
    }
    if (memcmp(d.H[me], nonces->share, 32) != 0) {
        err = dt_wf_failmsg(msg, DT_ERR_INVALID,
                            "the challenge was computed from a share of guardian %u other than the one of its "
                            "round-1 nonces (an older round?): compute it again with 'decrypt combine'",
                            i);
        goto out;
    }
    if ((err = shares_match(&d, shares, nshares)))
        goto out;
    c = calloc(d.L.n ? d.L.n : 1, sizeof *c);
    vs = json_array();
    if (!c || !vs) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    /* every challenge first, on every core: a nonce must not answer a wrong one */
    if ((err = items_parallel(&d, check_item, c)))
        goto out;
    if (progress)
        progress(progress_arg, d.L.n, d.L.n);
    nonces->used = 1;
    for (size_t t = 0; t < d.L.n; t++) {
        dt_dshare_respond(d.L.g, &v, &nonces->u[t], &c[t], &d.w[me], P_i);
        if (!err && json_array_append_new(vs, dt_jscalar(d.L.g, &v)) != 0)
            err = DT_ERR_NOMEM; /* go on: every nonce is wiped */
    }
    dt_memzero(&v, sizeof v);
    if (err)
        goto out;
    root = msg_header(&d.L, i);
    if (!root || json_object_set_new(root, "challenge", dt_jb64(d.ch.hash, 32)) != 0 ||
        json_object_set(root, "responses", vs) != 0) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if (!(*response = dump_text(root)))
        err = DT_ERR_NOMEM;
    root = NULL;
out:
    json_decref(root);
    json_decref(vs);
    free(c);
    dround_free(&d);
    return err;
}

/* ---- finish ---- */

/* One decrypted item: M (beta for contest data), the proof (c, v), t. */
typedef struct dres {
    dt_elem M;
    dt_elem a, b; /* the combined commitments the challenge hashes */
    dt_scalar c, v;
    uint64_t value;
} dres;

static json_t *contest_data_json(const unsigned char *plain, size_t n, char **msg, const char *where)
{
    char status[64];
    uint32_t *over = NULL;
    size_t nover = 0, nwi = 0;
    if (dt_contest_data_parse(plain, n, status, sizeof status, &over, &nover, &nwi) != DT_OK) {
        dt_wf_failmsg(msg, DT_ERR_ENCODING, "%s: the contest data does not parse", where);
        return NULL;
    }
    json_t *ov = json_array(), *wi = json_array();
    for (size_t i = 0; i < nover; i++)
        json_array_append_new(ov, json_integer(over[i]));
    free(over);
    /* write-in texts: re-parse to collect them (dt_contest_data_parse has
     * checked the layout) */
    {
        size_t pos = 0;
        uint64_t cnt, len;
#define VARINT(x)                                                                                            \
    do {                                                                                                     \
        unsigned sh = 0;                                                                                     \
        (x) = 0;                                                                                             \
        for (;;) {                                                                                           \
            unsigned char byte = plain[pos++];                                                               \
            (x) |= (uint64_t)(byte & 0x7f) << sh;                                                            \
            sh += 7;                                                                                         \
            if (!(byte & 0x80))                                                                              \
                break;                                                                                       \
        }                                                                                                    \
    } while (0)
        VARINT(cnt);
        for (uint64_t i = 0; i < cnt; i++) {
            uint64_t x;
            VARINT(x);
            (void)x;
        }
        VARINT(cnt);
        for (uint64_t i = 0; i < cnt; i++) {
            VARINT(len);
            json_array_append_new(wi, json_stringn((const char *)plain + pos, (size_t)len));
            pos += (size_t)len;
        }
#undef VARINT
    }
    return json_pack("{s:o, s:o, s:s}", "over_votes", ov, "write_ins", wi, "status", status);
}

/* A decrypted selection in the record's layout. */
static json_t *selection_json(const dlist *L, size_t t, const char *sel_id, const dres *r)
{
    const dt_group *g = L->g;
    dt_elem A, B, T;
    json_t *proof;
    if (dt_elem_decode(g, &A, L->it[t].A, L->eb) != DT_OK || dt_elem_decode(g, &B, L->it[t].B, L->eb) != DT_OK)
        return NULL; /* decoded before: cannot happen */
    dt_elem_div(g, &T, &B, &r->M);
    proof = dt_jproof(g, &r->c, &r->v);
    /* a challenged ballot's proofs in ristretto255 carry their commitments
     * (docs/ristretto255-profile.md), so that a verifier checks them in a batch */
    if (proof && L->it[t].kind == DK_SEL && dt_group_kind(g) == DT_GROUP_RISTRETTO255 &&
        (json_object_set_new(proof, "a", dt_jelem(g, &r->a)) || json_object_set_new(proof, "b", dt_jelem(g, &r->b)))) {
        json_decref(proof);
        return NULL;
    }
    return json_pack("{s:s, s:I, s:o, s:o, s:o}", "selection_id", sel_id, "tally", (json_int_t)r->value, "b_over_m",
                     dt_jelem(g, &T), "encrypted_vote", dt_jciphertext(g, &A, &B), "proof", proof);
}

/* The decrypted contest data of item t (a DK_DATA item). */
static dt_err data_json(char **msg, const dlist *L, size_t t, const dres *r, json_t **out)
{
    const dt_group *g = L->g;
    const ditem *it = &L->it[t];
    const dt_rec_data *cd = it->cd;
    dt_elem C0;
    unsigned char *plain = malloc((size_t)cd->num_bytes + 1);
    json_t *cdj;
    *out = NULL;
    if (!plain)
        return DT_ERR_NOMEM;
    if (dt_elem_decode(g, &C0, cd->c0, L->eb) != DT_OK ||
        dt_contest_data_open(g, plain, L->rec->he, &L->K, &C0, &r->M, it->b->contests[it->c].id, cd->c1.p,
                             cd->c1.n, cd->c2, cd->num_bytes) != DT_OK) {
        free(plain);
        return dt_wf_failmsg(msg, DT_ERR_PROOF, "%s: contest %s: the contest data does not decrypt", it->b->file,
                             it->b->contests[it->c].id);
    }
    cdj = contest_data_json(plain, cd->num_bytes, msg, it->b->file);
    free(plain);
    if (!cdj)
        return DT_ERR_ENCODING;
    json_t *ecd = json_pack("{s:o, s:o, s:o, s:i}", "c0", dt_jb64(cd->c0, L->eb), "c1", dt_jb64(cd->c1.p, cd->c1.n),
                            "c2", dt_jb64(cd->c2, 32), "numBytes", (json_int_t)cd->num_bytes);
    *out = json_pack("{s:o, s:o, s:o, s:o}", "contest_data", cdj, "encrypted_contest_data", ecd, "proof",
                     dt_jproof(g, &r->c, &r->v), "beta", dt_jelem(g, &r->M));
    return *out ? DT_OK : DT_ERR_NOMEM;
}

/* The documents to write: challenged_ballots/dballot-<id>.json, then tally.json. */
typedef struct doc {
    char *rel;
    json_t *j;
} doc;

static dt_err build_docs(char **msg, const dlist *L, const dres *res, doc *docs, size_t *ndocs)
{
    const dt_record *rec = L->rec;
    size_t t = 0, nd = 0;
    json_t *contests;
    dt_err err = DT_OK;

    /* the list: the tally's selections, then the challenged ballots' items */
    for (size_t c = 0; c < rec->etally.ncontests; c++)
        t += rec->etally.contests[c].nsel;
    for (size_t b = 0; b < rec->nballots; b++) {
        const dt_rec_ballot *bal = &rec->ballots[b];
        json_t *cj;
        if (bal->state != DT_BALLOT_CHALLENGED)
            continue;
        if (!(cj = json_array()))
            return DT_ERR_NOMEM;
        for (size_t c = 0; c < bal->ncontests; c++) {
            const dt_rec_bcontest *bc = &bal->contests[c];
            json_t *sels = json_array(), *jc;
            for (size_t s = 0; sels && s < bc->nsel; s++, t++)
                if (json_array_append_new(sels, selection_json(L, t, bc->sel[s].id, &res[t])) != 0) {
                    json_decref(sels);
                    sels = NULL;
                }
            jc = sels ? json_pack("{s:s, s:o, s:i}", "contest_id", bc->id, "selections", sels, "ballot_count", 1)
                      : NULL;
            if (jc && bc->has_data) {
                json_t *dj;
                if ((err = data_json(msg, L, t, &res[t], &dj))) {
                    json_decref(jc);
                    json_decref(cj);
                    return err;
                }
                json_object_set_new(jc, "decrypted_contest_data", dj);
                t++;
            }
            if (!jc || json_array_append_new(cj, jc) != 0) {
                json_decref(cj);
                return DT_ERR_NOMEM;
            }
        }
        docs[nd].rel = dt_strdup_printf("challenged_ballots/dballot-%s.json", bal->id);
        docs[nd].j = json_pack("{s:s, s:o, s:o}", "id", bal->id, "contests", cj, "election_id", dt_jb64(rec->he, 32));
        if (!docs[nd].rel || !docs[nd].j) {
            free(docs[nd].rel);
            json_decref(docs[nd].j);
            return DT_ERR_NOMEM;
        }
        *ndocs = ++nd;
    }
    t = 0;
    if (!(contests = json_array()))
        return DT_ERR_NOMEM;
    for (size_t c = 0; c < rec->etally.ncontests; c++) {
        const dt_rec_econtest *ec = &rec->etally.contests[c];
        json_t *sels = json_array();
        for (size_t s = 0; sels && s < ec->nsel; s++, t++)
            if (json_array_append_new(sels, selection_json(L, t, ec->sel[s].id, &res[t])) != 0) {
                json_decref(sels);
                sels = NULL;
            }
        if (!sels || json_array_append_new(contests, json_pack("{s:s, s:o, s:i}", "contest_id", ec->id, "selections",
                                                               sels, "ballot_count", 0)) != 0) {
            json_decref(contests);
            return DT_ERR_NOMEM;
        }
    }
    docs[nd].rel = strdup("tally.json");
    docs[nd].j = json_pack("{s:s, s:o, s:o}", "id", "detente", "contests", contests, "election_id",
                           dt_jb64(rec->he, 32));
    if (!docs[nd].rel || !docs[nd].j) {
        free(docs[nd].rel);
        json_decref(docs[nd].j);
        return DT_ERR_NOMEM;
    }
    *ndocs = ++nd;
    return err;
}

/* One item of round 2's end: the challenge, each guardian's response
 * against its share (eqs. 74, 75), the sum of the responses, and the value. */
typedef struct fjob {
    const dt_elem *gP;
    const pmsg *rs;
    dres *res;
} fjob;

static dt_err finish_item(const dround *d, const dscr *sc, size_t t, void *arg)
{
    const fjob *f = arg;
    const dlist *L = &d->L;
    dt_elem A, B;
    dres *r = &f->res[t];
    char where[600];
    dt_err err;
    if ((err = challenge_check_at(d, sc, t, &A, &B, &r->M, &r->c, &r->a, &r->b)))
        return err;
    dt_scalar_from_u64(L->g, &r->v, 0);
    for (size_t u = 0; u < d->nU; u++) {
        dt_scalar vi;
        if (jscalar_get(L, &vi, json_array_get(f->rs[u].arr, t)) != DT_OK) {
            item_label(L, t, where, sizeof where);
            return dt_wf_failmsg(sc->msg, DT_ERR_ENCODING, "guardian %u's response, %s: not a scalar below q", d->U[u],
                                 where);
        }
        if (dt_dshare_verify_var(L->g, &f->gP[u], &A, &sc->Mi[u], &sc->ai[u], &sc->bi[u], &r->c, &d->w[u], &vi) !=
            DT_OK) {
            item_label(L, t, where, sizeof where);
            return dt_wf_failmsg(sc->msg, DT_ERR_PROOF,
                                 "guardian %u's decryption share does not match its public key share (eqs. 74, 75) "
                                 "at %s",
                                 d->U[u], where);
        }
        dt_scalar_add(L->g, &r->v, &r->v, &vi);
    }
    if (L->it[t].kind != DK_DATA) {
        dt_elem T;
        dt_elem_div(L->g, &T, &B, &r->M);
        if (dt_elem_dlog_var(L->g, &r->value, &L->K, &T, L->it[t].max) != DT_OK) {
            item_label(L, t, where, sizeof where);
            return dt_wf_failmsg(sc->msg, DT_ERR_NOT_FOUND, "%s: the decrypted value is not in 0..%llu", where,
                                 (unsigned long long)L->it[t].max);
        }
    }
    return DT_OK;
}

dt_err dt_decrypt_finish(char **msg, const dt_record *rec, const char *dir, const dt_text *challenge,
                         const dt_text *shares, size_t nshares, const dt_text *responses, size_t nresponses,
                         dt_progress_fn progress, void *progress_arg)
{
    dround d;
    pmsg *rs = NULL;
    dres *res = NULL;
    dt_elem *gP = NULL;
    doc *docs = NULL;
    size_t ndocs = 0, nchal = 0;
    char *cdir = NULL;
    dt_err err;

    if (msg)
        *msg = NULL;
    memset(&d, 0, sizeof d);
    d.msg = msg;
    if ((err = list_build(msg, &d.L, rec)))
        return err;
    if ((err = challenge_parse(&d, challenge)) || (err = shares_match(&d, shares, nshares)))
        goto out;
    rs = calloc(d.nU, sizeof *rs);
    gP = calloc(d.nU, sizeof *gP);
    res = calloc(d.L.n ? d.L.n : 1, sizeof *res);
    if (!rs || !gP || !res) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t t = 0; t < nresponses; t++) {
        pmsg p;
        unsigned char ch[32];
        size_t u;
        if ((err = pmsg_parse(msg, &d.L, &p, &responses[t], "decryption response", response_keys, "responses", t))) {
            pmsg_free(&p);
            goto out;
        }
        for (u = 0; u < d.nU && d.U[u] != p.i; u++)
            ;
        if (u == d.nU || rs[u].root) {
            err = dt_wf_failmsg(msg, DT_ERR_INVALID,
                                "guardian %u's response is not expected here (not in the challenge's guardians, or "
                                "given twice)",
                                p.i);
            pmsg_free(&p);
            goto out;
        }
        if (!get_b64(p.root, "challenge", ch, 32) || memcmp(ch, d.ch.hash, 32) != 0) {
            err = dt_wf_failmsg(msg, DT_ERR_INVALID,
                                "guardian %u's response answers another challenge (an older round?)", p.i);
            pmsg_free(&p);
            goto out;
        }
        rs[u] = p;
    }
    for (size_t u = 0; u < d.nU; u++)
        if (!rs[u].root) {
            err = dt_wf_failmsg(msg, DT_ERR_INVALID, "no response from guardian %u yet", d.U[u]);
            goto out;
        }
    if ((err = public_shares(msg, &d.L, d.U, d.nU, gP)))
        goto out;

    /* every check before anything is written, on every core */
    {
        fjob fj = {gP, rs, res};
        if ((err = items_parallel(&d, finish_item, &fj)))
            goto out;
        if (progress)
            progress(progress_arg, d.L.n, d.L.n);
    }
    for (size_t b = 0; b < rec->nballots; b++)
        nchal += rec->ballots[b].state == DT_BALLOT_CHALLENGED;
    if (!(docs = calloc(nchal + 1, sizeof *docs))) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if ((err = build_docs(msg, &d.L, res, docs, &ndocs)))
        goto out;
    if (nchal && (!(cdir = dt_strdup_printf("%s/challenged_ballots", dir)) || dt_mkdirs(cdir) != DT_OK)) {
        err = dt_wf_failmsg(msg, DT_ERR_IO, "%s/challenged_ballots: cannot create the folder", dir);
        goto out;
    }
    for (size_t k = 0; k < ndocs; k++) {
        json_t *j = docs[k].j;
        docs[k].j = NULL;
        if ((err = dt_wf_save(msg, dir, docs[k].rel, j)))
            goto out;
    }
out:
    for (size_t k = 0; docs && k < ndocs; k++) {
        free(docs[k].rel);
        json_decref(docs[k].j);
    }
    free(docs);
    free(cdir);
    for (size_t u = 0; rs && u < d.nU; u++)
        pmsg_free(&rs[u]);
    free(rs);
    free(res);
    free(gP);
    dround_free(&d);
    return err;
}
