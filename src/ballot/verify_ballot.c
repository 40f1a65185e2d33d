/* dt_ballot_verify: the verifier's steps 4.A, 5, 6 and 7.A-B (src/verify/
 * verify.c, verify_ballot) applied to one encrypted ballot before it is
 * accepted, as the election server does. The checks and their order are the
 * verifier's; the first failure ends the check and is named in *msg. */
#include <stdlib.h>
#include <string.h>

#include <detente/election.h>
#include <detente/proof.h>

#include "ballot/ballot_impl.h"

/* A proof's (c_j, v_j): challenges reduced mod q, responses must be below q
 * (as decode_cv in verify.c). *bad gets the first bad response. */
static bool decode_proof(const dt_group *g, dt_scalar *c, dt_scalar *v, const dt_bproof *p, size_t *bad)
{
    for (size_t j = 0; j < p->n; j++) {
        dt_scalar_reduce(g, &c[j], p->c[j], 32);
        if (dt_scalar_decode(g, &v[j], p->v[j], 32) != DT_OK) {
            *bad = j;
            return false;
        }
    }
    return true;
}

/* Checks a range proof of (alpha, beta) for 0..R; c, v, ca and cb have room
 * for R + 1 values. With its commitments (ristretto255: required), the
 * challenge is checked over them and their equations go to bt, or are
 * checked here when bt is NULL; without, dt_range_verify_var. */
static dt_err check_range(const dt_ballot_ctx *ctx, char **msg, dt_scalar *c, dt_scalar *v, dt_elem *ca, dt_elem *cb,
                          const dt_bproof *p, const dt_elem *alpha, const dt_elem *beta, uint32_t R, const char *where,
                          const char *what, dt_batch *bt, const dt_elem *pre_ab)
{
    const dt_group *g = ctx->g;
    size_t bad;
    if (p->n != (size_t)R + 1)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: the %s proof has %zu pairs, expected %u", where, what, p->n,
                              R + 1);
    if (!decode_proof(g, c, v, p, &bad))
        return dt_ballot_fail(msg, DT_ERR_PROOF, "%s: the %s proof's response v_%zu is not below q", where, what, bad);
    if (!p->a) {
        if (dt_group_kind(g) == DT_GROUP_RISTRETTO255)
            return dt_ballot_fail(msg, DT_ERR_INVALID,
                                  "%s: the %s proof has no commitments a and b, which ristretto255 ballots carry", where,
                                  what);
        if (dt_range_verify_var(g, ctx->he, &ctx->K, alpha, beta, c, v, R) != DT_OK)
            return dt_ballot_fail(msg, DT_ERR_PROOF,
                                  "%s: the %s proof does not verify (its challenges do not sum to its hash)", where, what);
        return DT_OK;
    }
    const dt_elem *xa = ca, *xb = cb;
    if (pre_ab) { /* decoded with the contest's other elements: a_0..a_R, b_0..b_R */
        xa = pre_ab;
        xb = pre_ab + p->n;
    } else
        for (size_t j = 0; j < p->n; j++)
            if (dt_elem_decode(g, &ca[j], p->a + j * ctx->eb, ctx->eb) != DT_OK ||
                dt_elem_decode(g, &cb[j], p->b + j * ctx->eb, ctx->eb) != DT_OK)
                return dt_ballot_fail(msg, DT_ERR_NOT_IN_GROUP,
                                      "%s: the %s proof's commitment a_%zu or b_%zu is not in the group", where, what, j,
                                      j);
    if (dt_range_check_challenge(g, ctx->he, &ctx->K, alpha, beta, xa, xb, c, R) != DT_OK)
        return dt_ballot_fail(msg, DT_ERR_PROOF,
                              "%s: the %s proof does not verify (its challenges do not sum to its hash)", where, what);
    if (bt) {
        dt_err err = dt_batch_add_range(bt, alpha, beta, xa, xb, c, v, R);
        return err ? dt_ballot_fail(msg, err, "%s: %s", where, dt_strerror(err)) : DT_OK;
    }
    if (dt_range_check_commitments_var(g, &ctx->K, alpha, beta, xa, xb, c, v, R) != DT_OK)
        return dt_ballot_fail(msg, DT_ERR_PROOF, "%s: the %s proof's commitments do not match its responses", where,
                              what);
    return DT_OK;
}

/* Contest data, as far as it can be checked without a key: present, C0 in
 * the group (c0_ok: decoded already with the contest's elements), C1 of
 * 32 (L+1) bytes (what dt_ballot_encrypt writes), and numBytes within C1. */
static dt_err check_contest_data(const dt_ballot_ctx *ctx, char **msg, const dt_bcontest *bc,
                                 const dt_rec_mcontest *mc, const char *where, bool c0_ok)
{
    dt_elem c0;
    size_t want = 32 * ((size_t)mc->votes_allowed + 1);
    if (!bc->has_data)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: encrypted_contest_data is missing", where);
    if (!c0_ok && dt_elem_decode(ctx->g, &c0, bc->c0, ctx->eb) != DT_OK)
        return dt_ballot_fail(msg, DT_ERR_NOT_IN_GROUP, "%s: encrypted_contest_data: c0 is not in the group", where);
    if (bc->c1len != want)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: encrypted_contest_data: c1 has %zu bytes, expected 32 (L+1) = %zu",
                              where, bc->c1len, want);
    if (bc->num_bytes == 0 || bc->num_bytes > bc->c1len)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: encrypted_contest_data: numBytes %u is not in 1..%zu", where,
                              bc->num_bytes, bc->c1len);
    return DT_OK;
}

/* Every element of a contest, in one order: the ciphertexts (alpha_o,
 * beta_o), then each selection's commitments and the limit proof's (a_0..,
 * then b_0..; ab[o] the first of proof o's, ab NULL: not wanted), then the
 * contest data's C0. Their count; in (NULL: only counted) gets where each
 * one's encoding is. */
static size_t contest_inputs(const dt_ballot_ctx *ctx, const dt_bcontest *bc, const unsigned char **in, size_t *ab)
{
    size_t n = bc->nsel, k = 2 * n;
    for (size_t o = 0; in && o < n; o++) {
        in[2 * o] = bc->sel[o].alpha;
        in[2 * o + 1] = bc->sel[o].beta;
    }
    for (size_t o = 0; o <= n; o++) {
        const dt_bproof *p = o < n ? &bc->sel[o].proof : &bc->proof;
        if (ab)
            ab[o] = k;
        for (size_t j = 0; p->a && j < 2 * p->n; j++, k++)
            if (in)
                in[k] = j < p->n ? p->a + j * ctx->eb : p->b + (j - p->n) * ctx->eb;
    }
    if (bc->has_data) {
        if (in)
            in[k] = bc->c0;
        k++;
    }
    return k;
}

/* One contest: its selections against the manifest, each ciphertext in the
 * group with its range proof 0..R, the limit proof 0..L of their product,
 * the contest data, and the contest hash over the encodings as recorded.
 * pre (NULL: decoded here): the contest's elements in contest_inputs'
 * order, and bar the products of its alphas and of its
 * betas, decoded and computed with the ballot's others (pre_ballot). */
static dt_err check_contest(const dt_ballot_ctx *ctx, char **msg, const dt_bcontest *bc, const dt_rec_mcontest *mc,
                            const char *bwhere, dt_batch *bt, const dt_elem *pre, const dt_elem *bar)
{
    const dt_group *g = ctx->g;
    char where[2 * DT_LIMIT_STRING + 64], swhere[3 * DT_LIMIT_STRING + 64];
    size_t n = bc->nsel, nproof = (size_t)(mc->option_limit > mc->votes_allowed ? mc->option_limit : mc->votes_allowed) + 1;
    const unsigned char **in = NULL;
    dt_elem *el = NULL, *ca = NULL, *cb = NULL, abar, bbar;
    size_t nel = 0, *ab = NULL;
    bool pre_ok;
    dt_prod pa, pb;
    dt_scalar *c = NULL, *v = NULL;
    unsigned char hash[DT_HASH_BYTES];
    dt_hash_ctx h;
    dt_err err;

    snprintf(where, sizeof where, "%s, contest %s", bwhere, bc->id);
    if (bc->seq != mc->seq)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: sequence_order %u differs from the manifest's %u", where,
                              bc->seq, mc->seq);
    if (n != mc->noptions)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: %zu selections, the manifest has %zu options", where, n,
                              mc->noptions);
    for (size_t o = 0; o < n; o++)
        if (strcmp(bc->sel[o].id, mc->options[o].id) != 0 || bc->sel[o].seq != mc->options[o].seq)
            return dt_ballot_fail(msg, DT_ERR_INVALID,
                                  "%s, selection %s: not the manifest's option %s (sequence_order %u) at this position",
                                  where, bc->sel[o].id, mc->options[o].id, mc->options[o].seq);
    /* every element of the contest (ristretto255 decodes eight at a time) */
    nel = contest_inputs(ctx, bc, NULL, NULL);
    in = malloc((nel + 1) * sizeof *in);
    el = calloc(nel + 1, sizeof *el);
    ab = calloc(n + 2, sizeof *ab);
    c = calloc(nproof, sizeof *c);
    v = calloc(nproof, sizeof *v);
    ca = calloc(nproof, sizeof *ca);
    cb = calloc(nproof, sizeof *cb);
    if (!in || !el || !ab || !c || !v || !ca || !cb) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    /* el[2o] = alpha_o, el[2o+1] = beta_o: all at once (a batched membership
     * test in the integer group), one by one only to name a bad one */
    contest_inputs(ctx, bc, in, ab);
    if (pre) {
        memcpy(el, pre, nel * sizeof *el);
        pre_ok = true;
    } else {
        pre_ok = dt_elem_decode_batch_var(g, el, in, ctx->eb, nel) == DT_OK;
    }
    /* a failure: the ciphertexts one by one, to name a bad one; the
     * commitments then one by one in check_range, in the order of the checks */
    if (!pre_ok)
        for (size_t i = 0; i < 2 * n; i++)
            if (dt_elem_decode(g, &el[i], in[i], ctx->eb) != DT_OK) {
                err = dt_ballot_fail(msg, DT_ERR_NOT_IN_GROUP, "%s, selection %s: the %s of encrypted_vote is not in the group",
                                     where, bc->sel[i / 2].id, i % 2 ? "data" : "pad");
                goto out;
            }
    dt_prod_init(g, &pa);
    dt_prod_init(g, &pb);
    for (size_t o = 0; o < n; o++) {
        snprintf(swhere, sizeof swhere, "%s, selection %s", where, bc->sel[o].id);
        if ((err = check_range(ctx, msg, c, v, ca, cb, &bc->sel[o].proof, &el[2 * o], &el[2 * o + 1], mc->option_limit,
                               swhere, "range", bt, pre_ok ? el + ab[o] : NULL)))
            goto out;
        if (!pre) {
            dt_prod_mul(g, &pa, &el[2 * o]);
            dt_prod_mul(g, &pb, &el[2 * o + 1]);
        }
    }
    if (pre) {
        abar = bar[0];
        bbar = bar[1];
    } else {
        dt_prod pab[2] = {pa, pb};
        dt_elem e[2];
        dt_prod_get_many(g, e, pab, 2); /* the two encodings' inverse square roots together */
        abar = e[0];
        bbar = e[1];
    }
    if ((err = check_range(ctx, msg, c, v, ca, cb, &bc->proof, &abar, &bbar, mc->votes_allowed, where, "selection limit",
                           bt, pre_ok ? el + ab[n] : NULL)) ||
        (err = check_contest_data(ctx, msg, bc, mc, where, pre_ok)))
        goto out;
    dt_hash_init(&h, ctx->he);
    dt_hash_u8(&h, DT_H_CONTEST_HASH);
    dt_hash_u32(&h, mc->seq & 0x7fffffff);
    dt_hash_bytes(&h, ctx->Kenc, ctx->eb);
    for (size_t o = 0; o < n; o++) {
        dt_hash_bytes(&h, bc->sel[o].alpha, ctx->eb);
        dt_hash_bytes(&h, bc->sel[o].beta, ctx->eb);
    }
    dt_hash_final(&h, hash);
    if (memcmp(hash, bc->hash, DT_HASH_BYTES) != 0) {
        err = dt_ballot_fail(msg, DT_ERR_PROOF, "%s: contest_hash does not match the ciphertexts", where);
        goto out;
    }
    err = DT_OK;
out:
    free(in);
    free(el);
    free(ab);
    free(c);
    free(v);
    free(ca);
    free(cb);
    return err;
}

dt_batch *dt_ballot_batch_create(const dt_ballot_ctx *ctx)
{
    DT_BALLOT_CHECK(ctx);
    return dt_batch_create(ctx->g, &ctx->K);
}

/* The ballot's own proofs as one batch (a ballot of 20 selections makes
 * about 130 terms: most of the gain of batching); if the batch fails, the
 * proofs one by one to name the bad one. */
dt_err dt_ballot_verify(const dt_ballot_ctx *ctx, const dt_ballot *b, char **msg)
{
    dt_batch *bt;
    dt_err err;
    DT_BALLOT_CHECK(ctx && b);
    if (!(bt = dt_batch_create(ctx->g, &ctx->K)))
        return dt_ballot_verify_batched(ctx, b, msg, NULL);
    err = dt_ballot_verify_batched(ctx, b, msg, bt);
    if (err == DT_OK && dt_batch_check(bt) != DT_OK)
        err = dt_ballot_verify_batched(ctx, b, msg, NULL);
    dt_batch_destroy(bt);
    return err;
}

/* Every contest's elements decoded at once, and every contest's two
 * products encoded at once (ristretto255 works eight elements at a time: a
 * ballot of four contests of five 0/1 selections has 140 elements and 8
 * products, 23 rounds of eight one contest at a time, 19 for the ballot).
 * Nothing is checked here: *el is NULL (and the contests decode their own,
 * which names a bad element) unless the contests have the manifest's shape
 * and every element decodes. Else contest i's check_contest arguments are
 * *el + off[i] and *bars + 2 i. */
static dt_err pre_ballot(const dt_ballot_ctx *ctx, const dt_ballot *b, const size_t *sc, size_t nsc, dt_elem **el,
                         dt_elem **bars, size_t **off)
{
    const dt_group *g = ctx->g;
    const unsigned char **in = NULL;
    dt_prod *prods = NULL;
    size_t *o = NULL, total = 0, nc = b->ncontests;
    dt_err err = DT_ERR_NOMEM;
    *el = *bars = NULL;
    *off = NULL;
    if (nsc != nc || nc == 0)
        return DT_OK;
    for (size_t i = 0; i < nc; i++) {
        const dt_rec_mcontest *mc = &ctx->m->contests[sc[i]];
        if (strcmp(b->contests[i].id, mc->id) != 0 || b->contests[i].nsel != mc->noptions)
            return DT_OK;
    }
    if (!(o = malloc(nc * sizeof *o)))
        return DT_ERR_NOMEM;
    for (size_t i = 0; i < nc; i++) {
        o[i] = total;
        total += contest_inputs(ctx, &b->contests[i], NULL, NULL);
    }
    in = malloc(total * sizeof *in);
    *el = calloc(total, sizeof **el);
    prods = malloc(2 * nc * sizeof *prods);
    *bars = calloc(2 * nc, sizeof **bars);
    if (!in || !*el || !prods || !*bars)
        goto out;
    for (size_t i = 0; i < nc; i++)
        contest_inputs(ctx, &b->contests[i], in + o[i], NULL);
    err = DT_OK;
    if (dt_elem_decode_batch_var(g, *el, in, ctx->eb, total) != DT_OK)
        goto out; /* the contests name the bad one */
    for (size_t i = 0; i < nc; i++) {
        const dt_elem *e = *el + o[i];
        dt_prod_init(g, &prods[2 * i]);
        dt_prod_init(g, &prods[2 * i + 1]);
        for (size_t k = 0; k < b->contests[i].nsel; k++) {
            dt_prod_mul(g, &prods[2 * i], &e[2 * k]);
            dt_prod_mul(g, &prods[2 * i + 1], &e[2 * k + 1]);
        }
    }
    dt_prod_get_many(g, *bars, prods, 2 * nc);
    *off = o;
    o = NULL;
out:
    if (!*off) { /* not used: the contests do it all */
        free(*el);
        free(*bars);
        *el = *bars = NULL;
    }
    free(o);
    free(in);
    free(prods);
    return err;
}

dt_err dt_ballot_verify_batched(const dt_ballot_ctx *ctx, const dt_ballot *b, char **msg, dt_batch *bt)
{
    dt_elem *pre = NULL, *bars = NULL;
    size_t *pre_off = NULL;
    unsigned char (*chi)[DT_HASH_BYTES] = NULL;
    unsigned char code[DT_HASH_BYTES];
    char where[DT_LIMIT_STRING + 16];
    size_t *sc = NULL, nsc = 0;
    long si;
    dt_err err;

    DT_BALLOT_CHECK(ctx && b && b->ctx->eb == ctx->eb);
    if (msg)
        *msg = NULL;
    snprintf(where, sizeof where, "ballot %s", b->id);
    if (ctx->rec->chain)
        return dt_ballot_fail(msg, DT_ERR_INVALID,
                              "%s: this election chains confirmation codes, which single-ballot checking does not handle yet",
                              where);
    if (b->preencrypt)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: pre-encrypted ballots are not checked here", where);
    if (memcmp(b->election_id, ctx->he, DT_HASH_BYTES) != 0)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: election_id is not this election's extended base hash", where);
    si = dt_ballot_find_style(ctx, b->style);
    if (si < 0)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: ballot style %s is not in the manifest", where, b->style);
    sc = dt_ballot_style_contests(ctx, (size_t)si, &nsc);
    chi = malloc((b->ncontests ? b->ncontests : 1) * sizeof *chi);
    if (!sc || !chi) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if ((err = pre_ballot(ctx, b, sc, nsc, &pre, &bars, &pre_off)) != DT_OK)
        goto out;
    for (size_t i = 0; i < nsc || i < b->ncontests; i++) {
        const dt_rec_mcontest *mc = i < nsc ? &ctx->m->contests[sc[i]] : NULL;
        if (!mc) {
            err = dt_ballot_fail(msg, DT_ERR_INVALID, "%s: contest %s at position %zu is not on ballot style %s", where,
                                 b->contests[i].id, i + 1, b->style);
            goto out;
        }
        if (i >= b->ncontests) {
            err = dt_ballot_fail(msg, DT_ERR_INVALID, "%s: contest %s of ballot style %s is missing", where, mc->id,
                                 b->style);
            goto out;
        }
        if (strcmp(b->contests[i].id, mc->id) != 0) {
            bool present = false;
            for (size_t k = 0; k < b->ncontests && !present; k++)
                present = strcmp(b->contests[k].id, mc->id) == 0;
            if (!present) {
                err = dt_ballot_fail(msg, DT_ERR_INVALID, "%s: contest %s of ballot style %s is missing", where,
                                     mc->id, b->style);
                goto out;
            }
            err = dt_ballot_fail(msg, DT_ERR_INVALID, "%s: contest %s at position %zu, where ballot style %s has %s",
                                 where, b->contests[i].id, i + 1, b->style, mc->id);
            goto out;
        }
        if ((err = check_contest(ctx, msg, &b->contests[i], mc, where, bt, pre ? pre + pre_off[i] : NULL,
                                 pre ? bars + 2 * i : NULL)))
            goto out;
        memcpy(chi[i], b->contests[i].hash, DT_HASH_BYTES);
    }
    dt_confirmation_code(code, ctx->he, (const unsigned char(*)[DT_HASH_BYTES])chi, b->ncontests, b->baux, b->bauxlen);
    if (memcmp(code, b->code, DT_HASH_BYTES) != 0) {
        err = dt_ballot_fail(msg, DT_ERR_PROOF, "%s: confirmation_code does not equal H(H_E; 0x24, contest hashes, B_aux)",
                             where);
        goto out;
    }
    err = DT_OK;
out:
    free(pre);
    free(bars);
    free(pre_off);
    free(sc);
    free(chi);
    if (err && msg && !*msg)
        dt_ballot_fail(msg, err, "%s: %s", where, dt_strerror(err));
    return err;
}
