/* Ballot encryption (spec 3.3, 3.4): per option an ElGamal ciphertext with
 * its range proof 0..R, per contest the limit proof 0..L over the product,
 * contest data, the contest hash; per ballot the confirmation code. */
#include <stdlib.h>
#include <string.h>

#include <detente/election.h>
#include <detente/proof.h>

#include "ballot/ballot_impl.h"
#include "util/ctcheck.h"

/* Stores a proof; ca and cb are its commitments, or NULL (not recorded). */
static dt_err store_proof(const dt_ballot_ctx *ctx, dt_bproof *p, const dt_scalar *c, const dt_scalar *v,
                          const dt_elem *ca, const dt_elem *cb, size_t n)
{
    p->c = malloc(n * sizeof *p->c);
    p->v = malloc(n * sizeof *p->v);
    if (!p->c || !p->v)
        return DT_ERR_NOMEM;
    if (ca && (!(p->a = malloc(n * ctx->eb)) || !(p->b = malloc(n * ctx->eb))))
        return DT_ERR_NOMEM;
    p->n = n;
    for (size_t j = 0; j < n; j++) {
        /* scalars are kept as 32-byte big-endian values below q: the record's encoding */
        memcpy(p->c[j], c[j].be, 32);
        memcpy(p->v[j], v[j].be, 32);
        if (ca) {
            dt_elem_encode(ctx->g, p->a + j * ctx->eb, &ca[j]);
            dt_elem_encode(ctx->g, p->b + j * ctx->eb, &cb[j]);
        }
    }
    return DT_OK;
}

static unsigned char *encode_elem(const dt_ballot_ctx *ctx, const dt_elem *e)
{
    unsigned char *p = malloc(ctx->eb);
    if (p)
        dt_elem_encode(ctx->g, p, e);
    return p;
}

/* Encrypts one contest of the ballot into bc. */
static dt_err encrypt_contest(const dt_ballot_ctx *ctx, dt_bcontest *bc, const dt_pcontest *pc,
                              const dt_ballot_nonce *xi_b)
{
    const dt_group *g = ctx->g;
    const dt_rec_mcontest *mc = &ctx->m->contests[pc->mi];
    const uint32_t L = mc->votes_allowed, R = mc->option_limit;
    const size_t m = mc->noptions, nproof = (R > L ? R : L) + 1;
    dt_elem *alpha = calloc(m ? m : 1, sizeof *alpha), *beta = calloc(m ? m : 1, sizeof *beta);
    dt_scalar *c = calloc(nproof, sizeof *c), *v = calloc(nproof, sizeof *v);
    /* ristretto255 records carry the proofs' commitments (batch verification) */
    const bool commit = dt_group_kind(g) == DT_GROUP_RISTRETTO255;
    dt_elem *ca = commit ? calloc(nproof, sizeof *ca) : NULL, *cb = commit ? calloc(nproof, sizeof *cb) : NULL;
    unsigned char *marked = calloc(m ? m : 1, 1); /* the overvote list, a secret */
    unsigned char beta_enc[DT_ELEM_MAX_BYTES];
    unsigned char *d = NULL;
    size_t dlen = 0;
    uint32_t num_bytes = 0, keep;
    uint64_t sum = 0;
    int is_zero, is_over, is_under, status;
    dt_elem abar, bbar, cd_beta;
    dt_prod pa, pb; /* the products of the ciphertexts, for the limit proof */
    dt_scalar xi, xibar;
    dt_err err = DT_ERR_NOMEM;

    dt_scalar_from_u64(g, &xibar, 0);
    dt_prod_init(g, &pa);
    dt_prod_init(g, &pb);
    memset(&xi, 0, sizeof xi);
    memset(&cd_beta, 0, sizeof cd_beta);
    memset(beta_enc, 0, sizeof beta_enc);
    if (!alpha || !beta || !c || !v || !marked || (commit && (!ca || !cb)))
        goto out;
    bc->id = strdup(mc->id);
    bc->seq = mc->seq;
    bc->sel = calloc(m ? m : 1, sizeof *bc->sel);
    if (!bc->id || !bc->sel)
        goto out;
    bc->nsel = m;

    /* the contest's status; an overvote encrypts every option as 0 (spec 3.3.8) */
    for (size_t o = 0; o < m; o++)
        sum += pc->votes[o];
    is_zero = sum == 0;
    is_over = sum > L;
    is_under = !is_zero & (sum < L);
    status = is_zero * DT_BALLOT_CD_NULL_VOTE + is_over * DT_BALLOT_CD_OVER_VOTE + is_under * DT_BALLOT_CD_UNDER_VOTE;
    keep = (uint32_t)0 - (uint32_t)!is_over;

    for (size_t o = 0; o < m; o++) {
        dt_bsel *s = &bc->sel[o];
        uint32_t vote = pc->votes[o] & keep;
        if (!(s->id = strdup(mc->options[o].id)))
            goto out;
        s->seq = mc->options[o].seq;
        dt_ballot_selection_nonce(g, &xi, ctx->he, xi_b, mc->seq, mc->options[o].seq);
        int xi_zero = dt_scalar_is_zero(&xi);
        dt_declassify(&xi_zero, sizeof xi_zero); /* public: the ballot is refused */
        if (xi_zero) { /* probability 1/q: alpha would be 1 and reveal the vote */
            err = DT_ERR_RANDOM;
            goto out;
        }
        dt_elgamal_encrypt_fb(g, &alpha[o], &beta[o], ctx->Kt, vote, &xi);
        /* public from here on: the ciphertext is published */
        dt_declassify(&alpha[o], sizeof alpha[o]);
        dt_declassify(&beta[o], sizeof beta[o]);
        if (!(s->alpha = encode_elem(ctx, &alpha[o])) || !(s->beta = encode_elem(ctx, &beta[o])))
            goto out;
        if ((err = dt_range_prove_commit(g, c, v, ca, cb, ctx->he, &ctx->K, ctx->Kt, &alpha[o], &beta[o], &xi, vote,
                                         R)) ||
            (err = store_proof(ctx, &s->proof, c, v, ca, cb, (size_t)R + 1)))
            goto out;
        err = DT_ERR_NOMEM;
        dt_scalar_add(g, &xibar, &xibar, &xi);
        dt_prod_mul(g, &pa, &alpha[o]);
        dt_prod_mul(g, &pb, &beta[o]);
        /* in the overvote list: voted for, in an overvoted contest (no branch) */
        marked[o] = (unsigned char)((((uint64_t)0 - pc->votes[o]) >> 63) & (uint64_t)is_over);
    }
    dt_prod_get(g, &abar, &pa);
    dt_prod_get(g, &bbar, &pb);
    if ((err = dt_range_prove_commit(g, c, v, ca, cb, ctx->he, &ctx->K, ctx->Kt, &abar, &bbar, &xibar,
                                     (uint32_t)(sum & keep), L)) ||
        (err = store_proof(ctx, &bc->proof, c, v, ca, cb, (size_t)L + 1)))
        goto out;
    dt_contest_hash(g, bc->hash, ctx->he, mc->seq, &ctx->K, alpha, beta, m);

    /* contest data: the options marked when overvoted, the write-ins, the
     * status, encoded in constant time */
    if ((err = dt_ballot_cd_encode(&d, &dlen, &num_bytes, mc, status, marked, pc->write_ins, pc->nwrite)))
        goto out;
    dt_declassify(&num_bytes, sizeof num_bytes); /* public: the record's numBytes */
    err = DT_ERR_NOMEM;
    dt_ballot_contest_data_nonce(g, &xi, ctx->he, xi_b, mc->seq);
    int cd_zero = dt_scalar_is_zero(&xi);
    dt_declassify(&cd_zero, sizeof cd_zero); /* public: the ballot is refused */
    if (cd_zero) {
        err = DT_ERR_RANDOM;
        goto out;
    }
    dt_elgamal_encrypt_fb(g, &abar, &cd_beta, ctx->Kt, 0, &xi); /* (g^xi, K^xi) */
    if (!(bc->c0 = encode_elem(ctx, &abar)))
        goto out;
    dt_elem_encode(g, beta_enc, &cd_beta);
    dt_ballot_cd_crypt(ctx, bc->c2, d, dlen, 1, bc->c0, beta_enc, mc->id, num_bytes);
    bc->c1 = d;
    bc->c1len = dlen;
    bc->num_bytes = num_bytes;
    bc->has_data = true;
    d = NULL;
    err = DT_OK;
out:
    if (d)
        dt_memzero(d, dlen);
    free(d);
    if (marked)
        dt_memzero(marked, m ? m : 1);
    free(marked);
    free(alpha);
    free(beta);
    free(c);
    free(v);
    free(ca);
    free(cb);
    dt_memzero(&xi, sizeof xi);
    dt_memzero(&xibar, sizeof xibar);
    dt_memzero(&cd_beta, sizeof cd_beta);
    dt_memzero(beta_enc, sizeof beta_enc);
    dt_memzero(&sum, sizeof sum);
    return err;
}

dt_err dt_ballot_encrypt(dt_ballot_device *dev, dt_ballot **out, dt_ballot_nonce *xi_b, const dt_plaintext_ballot *pb,
                         int64_t timestamp)
{
    const dt_ballot_ctx *ctx;
    dt_ballot_nonce xib;
    unsigned char (*chi)[DT_HASH_BYTES] = NULL;
    dt_ballot *b = NULL;
    dt_err err;

    DT_BALLOT_CHECK(dev && out && pb && pb->ctx == dev->ctx);
    ctx = dev->ctx;
    *out = NULL;
    if (xi_b)
        dt_memzero(xi_b, sizeof *xi_b);
    if ((err = dt_random_bytes(xib.bytes, sizeof xib.bytes)))
        return err;
    {
        unsigned char acc = 0;
        for (size_t i = 0; i < sizeof xib.bytes; i++)
            acc |= xib.bytes[i];
        dt_declassify(&acc, sizeof acc); /* only whether it is zero matters: public */
        if (acc == 0) { /* a broken randomness source */
            err = DT_ERR_RANDOM;
            goto out;
        }
    }
    err = DT_ERR_NOMEM;
    b = calloc(1, sizeof *b);
    if (!b)
        goto out;
    b->ctx = ctx;
    b->timestamp = timestamp;
    b->state = DT_BALLOT_STATE_PENDING;
    memcpy(b->election_id, ctx->he, DT_HASH_BYTES);
    b->id = strdup(pb->id);
    b->style = strdup(ctx->m->styles[pb->style].id);
    b->device = strdup(dev->id);
    b->bauxlen = (dev->chain ? DT_HASH_BYTES : 0) + dev->baux0len;
    b->baux = malloc(b->bauxlen ? b->bauxlen : 1);
    b->contests = calloc(pb->ncontests ? pb->ncontests : 1, sizeof *b->contests);
    chi = malloc((pb->ncontests ? pb->ncontests : 1) * sizeof *chi);
    if (!b->id || !b->style || !b->device || !b->baux || !b->contests || !chi)
        goto out;
    /* B_aux = B_aux,0, or H_(j-1) || B_aux,0 when chaining (spec eq. 60) */
    if (dev->chain)
        memcpy(b->baux, dev->head, DT_HASH_BYTES);
    if (dev->baux0len)
        memcpy(b->baux + (dev->chain ? DT_HASH_BYTES : 0), dev->baux0, dev->baux0len);
    b->ncontests = pb->ncontests;
    for (size_t i = 0; i < pb->ncontests; i++) {
        if ((err = encrypt_contest(ctx, &b->contests[i], &pb->contests[i], &xib)))
            goto out;
        memcpy(chi[i], b->contests[i].hash, DT_HASH_BYTES);
    }
    dt_confirmation_code(b->code, ctx->he, (const unsigned char(*)[DT_HASH_BYTES])chi, b->ncontests, b->baux,
                         b->bauxlen);
    if (dev->chain)
        memcpy(dev->head, b->code, DT_HASH_BYTES);
    if (xi_b)
        *xi_b = xib;
    err = DT_OK;
out:
    dt_memzero(&xib, sizeof xib);
    free(chi);
    if (err) {
        dt_ballot_destroy(b);
        return err;
    }
    *out = b;
    return DT_OK;
}
