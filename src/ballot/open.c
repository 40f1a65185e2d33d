/* Opening a ballot with its nonce xi_B (spec 3.3.2, 3.6.5): the voter's check
 * that a challenged ballot encrypts what the voter chose. */
#include <stdlib.h>
#include <string.h>

#include <detente/election.h>
#include <detente/proof.h>

#include "ballot/ballot_impl.h"

/* The contest data of bc opened with xi_B into pc. */
static dt_err open_contest_data(const dt_ballot_ctx *ctx, char **msg, dt_pcontest *pc, const dt_bcontest *bc,
                                const dt_rec_mcontest *mc, const dt_ballot_nonce *xi_b, const char *where)
{
    const dt_group *g = ctx->g;
    unsigned char enc[DT_ELEM_MAX_BYTES], beta_enc[DT_ELEM_MAX_BYTES], mac[DT_HASH_BYTES];
    unsigned char *buf = NULL;
    dt_elem a, beta;
    dt_scalar xi;
    dt_err err;

    if (!bc->has_data)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: the contest has no contest data", where);
    if (bc->num_bytes > bc->c1len)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: contest data: numBytes %u is more than the %zu bytes of C1",
                              where, bc->num_bytes, bc->c1len);
    dt_ballot_contest_data_nonce(g, &xi, ctx->he, xi_b, mc->seq);
    dt_elgamal_encrypt_fb(g, &a, &beta, ctx->Kt, 0, &xi);
    dt_elem_encode(g, enc, &a);
    dt_elem_encode(g, beta_enc, &beta);
    if (memcmp(enc, bc->c0, ctx->eb) != 0) {
        err = dt_ballot_fail(msg, DT_ERR_PROOF, "%s: contest data: C0 is not g^xi: this nonce does not open the ballot",
                             where);
        goto out;
    }
    buf = malloc(bc->c1len);
    if (!buf) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    memcpy(buf, bc->c1, bc->c1len);
    dt_ballot_cd_crypt(ctx, mac, buf, bc->c1len, 0, bc->c0, beta_enc, mc->id, bc->num_bytes);
    if (!dt_ct_eq(mac, bc->c2, DT_HASH_BYTES)) {
        err = dt_ballot_fail(msg, DT_ERR_PROOF, "%s: contest data: the MAC C2 does not check", where);
        goto out;
    }
    err = dt_ballot_cd_decode(pc, buf, bc->num_bytes, bc->c1len);
    if (err == DT_ERR_INVALID)
        err = dt_ballot_fail(msg, err,
                             "%s: contest data: not the expected layout (varint lists, a known status, zero padding)",
                             where);
out:
    if (buf)
        dt_memzero(buf, bc->c1len);
    free(buf);
    dt_memzero(&xi, sizeof xi);
    dt_memzero(&beta, sizeof beta);
    dt_memzero(beta_enc, sizeof beta_enc);
    return err;
}

/* The status the votes imply must be the status in the contest data. */
static dt_err check_status(char **msg, const dt_pcontest *pc, const dt_rec_mcontest *mc, uint64_t sum,
                           const char *where)
{
    const uint32_t L = mc->votes_allowed;
    bool ok;
    switch (pc->status) {
    case DT_BALLOT_CD_OVER_VOTE: ok = sum == 0 && pc->nover > 0; break;
    case DT_BALLOT_CD_NULL_VOTE: ok = sum == 0; break;
    case DT_BALLOT_CD_UNDER_VOTE: ok = sum > 0 && sum < L; break;
    default: ok = sum == L; break;
    }
    if (!ok)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: the contest data says %s, but the votes sum to %llu (L = %u)",
                              where, dt_ballot_cd_status_names[pc->status], (unsigned long long)sum, L);
    for (size_t k = 0; k < pc->nover; k++) {
        bool known = pc->over[k] == DT_BALLOT_CD_MARKER;
        for (size_t o = 0; o < mc->noptions && !known; o++)
            known = mc->options[o].seq == pc->over[k];
        if (!known)
            return dt_ballot_fail(msg, DT_ERR_INVALID,
                                  "%s: the contest data's overvote list names %u, which is no option's sequence_order",
                                  where, pc->over[k]);
    }
    return DT_OK;
}

static dt_err open_contest(const dt_ballot_ctx *ctx, char **msg, dt_pcontest *pc, const dt_bcontest *bc,
                           const dt_ballot_nonce *xi_b, const char *bwhere)
{
    const dt_group *g = ctx->g;
    const dt_rec_mcontest *mc = &ctx->m->contests[pc->mi];
    char where[2 * DT_LIMIT_STRING + 64], swhere[3 * DT_LIMIT_STRING + 64];
    unsigned char enc[DT_ELEM_MAX_BYTES], hash[DT_HASH_BYTES];
    dt_elem *alpha = NULL, *beta = NULL, Kx, M;
    dt_scalar xi;
    uint64_t sum = 0;
    dt_err err;

    snprintf(where, sizeof where, "%s, contest %s", bwhere, bc->id);
    memset(&xi, 0, sizeof xi);
    memset(&Kx, 0, sizeof Kx);
    if (bc->seq != mc->seq)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: sequence_order %u differs from the manifest's %u", where,
                              bc->seq, mc->seq);
    if (bc->nsel != mc->noptions)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: %zu selections, the manifest has %zu options", where, bc->nsel,
                              mc->noptions);
    alpha = calloc(bc->nsel ? bc->nsel : 1, sizeof *alpha);
    beta = calloc(bc->nsel ? bc->nsel : 1, sizeof *beta);
    if (!alpha || !beta) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    for (size_t o = 0; o < bc->nsel; o++) {
        const dt_bsel *s = &bc->sel[o];
        uint64_t t;
        snprintf(swhere, sizeof swhere, "%s, selection %s", where, s->id);
        if (strcmp(s->id, mc->options[o].id) != 0 || s->seq != mc->options[o].seq) {
            err = dt_ballot_fail(msg, DT_ERR_INVALID, "%s: not the manifest's option %s (sequence_order %u) at this position",
                                 swhere, mc->options[o].id, mc->options[o].seq);
            goto out;
        }
        if (dt_elem_decode(g, &alpha[o], s->alpha, ctx->eb) != DT_OK ||
            dt_elem_decode(g, &beta[o], s->beta, ctx->eb) != DT_OK) {
            err = dt_ballot_fail(msg, DT_ERR_NOT_IN_GROUP, "%s: encrypted_vote is not in the group", swhere);
            goto out;
        }
        dt_ballot_selection_nonce(g, &xi, ctx->he, xi_b, mc->seq, mc->options[o].seq);
        dt_elgamal_encrypt_fb(g, &M, &Kx, ctx->Kt, 0, &xi); /* (g^xi, K^xi) */
        dt_elem_encode(g, enc, &M);
        if (memcmp(enc, s->alpha, ctx->eb) != 0) {
            err = dt_ballot_fail(msg, DT_ERR_PROOF, "%s: pad is not g^xi: this nonce does not open the ballot", swhere);
            goto out;
        }
        dt_elem_div(g, &M, &beta[o], &Kx); /* K^sigma */
        if (dt_elem_dlog_var(g, &t, &ctx->K, &M, mc->option_limit) != DT_OK) {
            err = dt_ballot_fail(msg, DT_ERR_PROOF, "%s: data does not encrypt a value in 0..%u with this nonce", swhere,
                                 mc->option_limit);
            goto out;
        }
        pc->votes[o] = (uint32_t)t;
        sum += t;
    }
    if ((err = open_contest_data(ctx, msg, pc, bc, mc, xi_b, where)) ||
        (err = check_status(msg, pc, mc, sum, where)))
        goto out;
    dt_contest_hash(g, hash, ctx->he, mc->seq, &ctx->K, alpha, beta, bc->nsel);
    if (memcmp(hash, bc->hash, DT_HASH_BYTES) != 0) {
        err = dt_ballot_fail(msg, DT_ERR_PROOF, "%s: contest_hash does not match the ciphertexts", where);
        goto out;
    }
    err = DT_OK;
out:
    free(alpha);
    free(beta);
    dt_memzero(&xi, sizeof xi);
    dt_memzero(&Kx, sizeof Kx);
    dt_memzero(&M, sizeof M);
    return err;
}

dt_err dt_ballot_decrypt_with_nonce(const dt_ballot_ctx *ctx, dt_plaintext_ballot **out, char **msg, const dt_ballot *b,
                                    const dt_ballot_nonce *xi_b)
{
    dt_plaintext_ballot *pb = NULL;
    unsigned char (*chi)[DT_HASH_BYTES] = NULL;
    unsigned char code[DT_HASH_BYTES];
    char where[DT_LIMIT_STRING + 16];
    long si;
    dt_err err;

    DT_BALLOT_CHECK(ctx && out && b && xi_b && b->ctx->eb == ctx->eb);
    *out = NULL;
    if (msg)
        *msg = NULL;
    snprintf(where, sizeof where, "ballot %s", b->id);
    if (memcmp(b->election_id, ctx->he, DT_HASH_BYTES) != 0)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: election_id is not this election's extended base hash", where);
    si = dt_ballot_find_style(ctx, b->style);
    if (si < 0)
        return dt_ballot_fail(msg, DT_ERR_INVALID, "%s: ballot style %s is not in the manifest", where, b->style);
    pb = dt_plaintext_ballot_alloc(ctx, b->id, (size_t)si);
    chi = malloc((b->ncontests ? b->ncontests : 1) * sizeof *chi);
    if (!pb || !chi) {
        err = DT_ERR_NOMEM;
        goto out;
    }
    if (b->ncontests != pb->ncontests) {
        err = dt_ballot_fail(msg, DT_ERR_INVALID, "%s: %zu contests, but ballot style %s has %zu", where, b->ncontests,
                             b->style, pb->ncontests);
        goto out;
    }
    for (size_t i = 0; i < b->ncontests; i++) {
        const dt_rec_mcontest *mc = &ctx->m->contests[pb->contests[i].mi];
        if (strcmp(b->contests[i].id, mc->id) != 0) {
            err = dt_ballot_fail(msg, DT_ERR_INVALID, "%s: contest %s at position %zu, where ballot style %s has %s",
                                 where, b->contests[i].id, i + 1, b->style, mc->id);
            goto out;
        }
        if ((err = open_contest(ctx, msg, &pb->contests[i], &b->contests[i], xi_b, where)))
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
    free(chi);
    if (err) {
        if (msg && !*msg)
            dt_ballot_fail(msg, err, "%s: %s", where, dt_strerror(err));
        dt_plaintext_ballot_destroy(pb);
        return err;
    }
    *out = pb;
    return DT_OK;
}
