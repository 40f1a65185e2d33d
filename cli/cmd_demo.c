/* detente demo: a whole election in one command. Guardians hold the key
 * jointly (key ceremony with encrypted shares), random voters mark ballots,
 * a device encrypts them, every tenth is challenged, the cast ones are
 * tallied, and the guardians present (any quorum) decrypt the tally and the
 * challenged ballots. The record is written to --out, then checked against
 * the plaintexts it came from. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include <detente/ballot.h>
#include <detente/board.h>
#include <detente/witness.h>
#include <detente/ceremony.h>
#include <detente/election.h>
#include <detente/record.h>
#include <detente/workflow.h>

#include "cli.h"
#include "demo_manifest.h"
#include "record/jsonout.h"
#include "record/record.h"
#include "util/codec.h"

static const char usage_text[] =
    "usage: detente demo [--group ristretto255|integer4096] [--guardians N] [--quorum K]\n"
    "                    [--absent A] [--ballots B] [--out DIR] [--until voting] [--quiet]\n"
    "                    [--witnesses W] [--witness-quorum Q] [--selections S]\n"
    "\n"
    "Runs a whole election in one command and writes its record to DIR\n"
    "(default ./demo-election): the key ceremony among N guardians (default 5)\n"
    "with quorum K (default 3), B random ballots (default 100; the plaintexts go\n"
    "to DIR/private_data/input), every tenth challenged and the rest cast, the\n"
    "tally, and its decryption with A guardians absent (default 2). The guardians'\n"
    "key files go to DIR/private_data/trustees, encrypted under the passphrase\n"
    "'demo' (a demonstration only). --until voting stops after the ceremony with\n"
    "the plaintext ballots written, ready for 'detente encrypt'. --selections S\n"
    "replaces the demo's manifest with one of S options on every ballot (contests\n"
    "of at most 5 options, one vote each; for load tests).\n"
    "\n"
    "Every public file goes onto the election's board (docs/board.md) as it is\n"
    "made: W witnesses (--witnesses W, default 3; each with its own key and state\n"
    "in DIR/private_data/witnesses/) cosign each checkpoint, and a quorum of them\n"
    "(--witness-quorum Q, default 2) must. The board is DIR/board/.\n"
    "Check the result with: detente verify DIR\n";

typedef struct opts {
    dt_group_id group;
    uint32_t n, k, absent, ballots, witnesses, wquorum, selections;
    const char *out;
    int until_voting, quiet;
} opts;

static int progress_on;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

static void bar(const char *what, size_t done, size_t total)
{
    static time_t last;
    time_t now = time(NULL);
    if (!progress_on || (now == last && done != total && done != 1))
        return;
    last = now;
    fprintf(stderr, "\r  %-22s %zu/%zu", what, done, total);
    if (done == total)
        fprintf(stderr, "\n");
}

static void decrypt_progress(void *arg, size_t done, size_t total)
{
    (void)arg;
    bar("decrypting", done, total);
}

static int parse_u32(const char *s, uint32_t *out, uint32_t lo, uint32_t hi, const char *name)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < (long)lo || v > (long)hi) {
        fprintf(stderr, "detente demo: %s wants a number from %u to %u, not '%s'\n", name, lo, hi, s);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int parse_opts(opts *o, int argc, const char *argv[])
{
    o->group = DT_GROUP_RISTRETTO255;
    o->n = 5;
    o->k = 3;
    o->absent = 2;
    o->ballots = 100;
    o->witnesses = 3;
    o->wquorum = 2;
    o->out = "demo-election";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o->quiet = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "detente demo: %s needs a value\n%s", a, usage_text);
            return -1;
        }
        i++;
        if (!strcmp(a, "--group")) {
            if (!strcmp(v, "ristretto255"))
                o->group = DT_GROUP_RISTRETTO255;
            else if (!strcmp(v, "integer4096"))
                o->group = DT_GROUP_INTEGER4096;
            else {
                fprintf(stderr, "detente demo: --group is ristretto255 or integer4096, not '%s'\n", v);
                return -1;
            }
        } else if (!strcmp(a, "--guardians")) {
            if (parse_u32(v, &o->n, 1, 100, "--guardians"))
                return -1;
        } else if (!strcmp(a, "--quorum")) {
            if (parse_u32(v, &o->k, 1, 100, "--quorum"))
                return -1;
        } else if (!strcmp(a, "--absent")) {
            if (parse_u32(v, &o->absent, 0, 100, "--absent"))
                return -1;
        } else if (!strcmp(a, "--ballots")) {
            if (parse_u32(v, &o->ballots, 1, 1000000, "--ballots"))
                return -1;
        } else if (!strcmp(a, "--witnesses")) {
            if (parse_u32(v, &o->witnesses, 1, DT_BOARD_MAX_WITNESSES, "--witnesses"))
                return -1;
        } else if (!strcmp(a, "--witness-quorum")) {
            if (parse_u32(v, &o->wquorum, 1, DT_BOARD_MAX_WITNESSES, "--witness-quorum"))
                return -1;
        } else if (!strcmp(a, "--selections")) {
            if (parse_u32(v, &o->selections, 1, 500, "--selections"))
                return -1;
        } else if (!strcmp(a, "--out")) {
            o->out = v;
        } else if (!strcmp(a, "--until")) {
            if (strcmp(v, "voting") != 0) {
                fprintf(stderr, "detente demo: --until takes 'voting', not '%s'\n", v);
                return -1;
            }
            o->until_voting = 1;
        } else {
            fprintf(stderr, "detente demo: unknown option '%s'\n%s", a, usage_text);
            return -1;
        }
    }
    if (o->k > o->n) {
        fprintf(stderr, "detente demo: the quorum (%u) cannot exceed the number of guardians (%u)\n", o->k, o->n);
        return -1;
    }
    if (o->absent > o->n) {
        fprintf(stderr, "detente demo: %u guardians cannot be absent out of %u\n", o->absent, o->n);
        return -1;
    }
    if (o->wquorum > o->witnesses) {
        fprintf(stderr, "detente demo: the witness quorum (%u) cannot exceed the number of witnesses (%u)\n",
                o->wquorum, o->witnesses);
        return -1;
    }
    return 0;
}

/* A manifest of nsel options in one ballot style: contests of at most 5
 * options, one vote each (--selections). */
static char *selections_manifest(uint32_t nsel)
{
    json_t *contests = json_array(), *cands = json_array(), *m;
    char *text;
    for (uint32_t c = 0, done = 0; done < nsel; c++) {
        json_t *sels = json_array();
        char cid[32];
        snprintf(cid, sizeof cid, "question-%u", c + 1);
        for (uint32_t o = 0; o < 5 && done < nsel; o++, done++) {
            char sid[48], kid[48];
            snprintf(sid, sizeof sid, "%s-option-%u", cid, o + 1);
            snprintf(kid, sizeof kid, "candidate-%u-%u", c + 1, o + 1);
            json_array_append_new(sels, json_pack("{s:s, s:i, s:s}", "object_id", sid, "sequence_order",
                                                  (json_int_t)o + 1, "candidate_id", kid));
            json_array_append_new(cands, json_pack("{s:s}", "object_id", kid));
        }
        json_array_append_new(contests, json_pack("{s:s, s:i, s:s, s:s, s:i, s:i, s:i, s:s, s:o}", "object_id", cid,
                                                  "sequence_order", (json_int_t)c + 1, "electoral_district_id",
                                                  "county", "vote_variation", "one_of_m", "number_elected", 1,
                                                  "votes_allowed", 1, "option_selection_limit", 1, "name", cid,
                                                  "ballot_selections", sels));
    }
    m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s}], s:[{s:s, s:[s], s:[]}], s:o, s:o, s:[], "
                  "s:{s:s}}",
                  "election_scope_id", "detente-demo-selections", "spec_version", "v2.0.0", "type", "general",
                  "start_date", "2026-11-03T07:00:00Z", "end_date", "2026-11-03T20:00:00Z", "geopolitical_units",
                  "object_id", "county", "name", "Rivals County", "type", "county", "ballot_styles", "object_id",
                  "county-ballot", "geopolitical_unit_ids", "county", "party_ids", "contests", contests, "candidates",
                  cands, "parties", "contact_information", "name", "Rivals County election office");
    text = m ? json_dumps(m, JSON_INDENT(4) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(m);
    return text;
}

/* ---- public messages and the board ---- */

static dt_err make_dir(const char *dir, const char *sub, char **msg)
{
    char *p = dt_strdup_printf("%s/%s", dir, sub);
    dt_err err = p ? dt_mkdirs(p) : DT_ERR_NOMEM;
    if (err == DT_ERR_IO)
        *msg = dt_strdup_printf("%s: cannot create the folder", p);
    free(p);
    return err;
}

/* Writes a public message of the record, DIR/<name formatted with a, b>. */
static dt_err publish_text(const char *dir, char **msg, const char *text, const char *fmt, unsigned a, unsigned b)
{
    char name[96];
    snprintf(name, sizeof name, fmt, a, b);
    char *p = dt_strdup_printf("%s/%s", dir, name);
    dt_err err = p ? dt_write_file_atomic(p, text, strlen(text), 0644) : DT_ERR_NOMEM;
    if (err == DT_ERR_IO)
        *msg = dt_strdup_printf("%s: cannot write the file", p);
    free(p);
    return err;
}

/* The board: W witnesses in DIR/private_data/witnesses/wI (each its own key
 * and state), a log whose origin names this election. */
static dt_err board_create(const opts *o, const char *dir, char **msg)
{
    char *wdirs[DT_BOARD_MAX_WITNESSES] = {0}, *rel[DT_BOARD_MAX_WITNESSES] = {0};
    dt_err err = make_dir(dir, "private_data/witnesses", msg);
    for (uint32_t i = 0; err == DT_OK && i < o->witnesses; i++) {
        char name[64];
        snprintf(name, sizeof name, "witness-%u.demo.detente.example", i + 1);
        rel[i] = dt_strdup_printf("private_data/witnesses/w%u", i + 1);
        wdirs[i] = rel[i] ? dt_strdup_printf("%s/%s", dir, rel[i]) : NULL;
        if (!wdirs[i])
            err = DT_ERR_NOMEM;
        else if ((err = dt_witness_create(wdirs[i], name)))
            *msg = dt_strdup_printf("%s: cannot create the witness (%s)", wdirs[i], dt_strerror(err));
        else if (i == 0)
            /* The first witness verifies the record before it cosigns. */
            err = publish_text(wdirs[i], msg, "the record on the board is verified before each cosignature\n",
                               "verify", 0, 0);
    }
    unsigned char r[8];
    char origin[64];
    if (err == DT_OK && (err = dt_random_bytes(r, sizeof r)) == DT_OK) {
        snprintf(origin, sizeof origin, "demo.detente.example/%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3],
                 r[4], r[5], r[6], r[7]);
        err = dt_board_init(msg, dir, origin, (const char *const *)rel, o->witnesses, o->wquorum);
    }
    for (uint32_t i = 0; i < o->witnesses; i++) {
        free(wdirs[i]);
        free(rel[i]);
    }
    return err;
}

/* Puts what is new in the record on the board and has it cosigned. */
static dt_err board_publish(const char *dir, char **msg)
{
    dt_board *b = NULL;
    size_t added = 0, cosigned = 0;
    dt_err err = dt_board_open(&b, msg, dir);
    if (err == DT_OK)
        err = dt_board_publish(b, msg, &added, &cosigned);
    dt_board_close(b);
    if (err == DT_OK && *msg) {
        fprintf(stderr, "detente demo: warning: %s\n", *msg);
        free(*msg);
        *msg = NULL;
    }
    return err;
}

/* ---- the key ceremony, all guardians in this process ---- */

static dt_err ceremony(const opts *o, const char *dir, dt_trustee *trustees, char **msg)
{
    dt_record *rec = NULL;
    dt_guardian **gd = calloc(o->n, sizeof *gd);
    dt_elem *K = calloc((size_t)o->n * o->k, sizeof *K);
    dt_scalar *c = calloc((size_t)o->n * o->k, sizeof *c), *v = calloc((size_t)o->n * o->k, sizeof *v);
    char **json = calloc(o->n, sizeof *json);
    char *tdir = dt_strdup_printf("%s/private_data/trustees", dir);
    dt_err err = DT_ERR_NOMEM;

    if (!gd || !K || !c || !v || !json || !tdir)
        goto out;
    if ((err = dt_record_load_part(&rec, msg, dir, DT_RECORD_CONFIG)))
        goto out;
    if ((err = dt_mkdirs(tdir))) {
        *msg = dt_strdup_printf("%s: cannot create the folder", tdir);
        goto out;
    }
    if ((err = make_dir(dir, "ceremony", msg)))
        goto out;
    for (uint32_t i = 0; i < o->n; i++) {
        if ((err = dt_guardian_create(&gd[i], rec->group, i + 1, o->n, o->k)) ||
            (err = dt_guardian_commitments(gd[i], &K[(size_t)i * o->k], &c[(size_t)i * o->k], &v[(size_t)i * o->k],
                                           o->k)) ||
            (err = dt_commitments_to_json(rec->group, &json[i], NULL, i + 1, &K[(size_t)i * o->k],
                                          &c[(size_t)i * o->k], &v[(size_t)i * o->k], o->k)))
            goto out;
        if ((err = publish_text(dir, msg, json[i], "ceremony/commitments-%u.json", i + 1, 0)))
            goto out;
        bar("guardians' keys", i + 1, o->n);
    }
    /* every guardian checks every other's proofs, then shares go round */
    for (uint32_t i = 0; i < o->n; i++) {
        for (uint32_t l = 0; l < o->n; l++) {
            dt_share_ct ct;
            size_t bad;
            if (l == i)
                continue;
            /* the receiver checks the sender's proofs before it trusts its commitments */
            if (dt_commitments_verify_var(rec->group, rec->hp, i + 1, &K[(size_t)i * o->k], &c[(size_t)i * o->k],
                                          &v[(size_t)i * o->k], o->k, &bad) != DT_OK) {
                err = DT_ERR_PROOF;
                *msg = dt_strdup_printf("guardian %u's proof of coefficient %zu does not verify", i + 1, bad);
                goto out;
            }
            char *sj = NULL;
            if ((err = dt_guardian_encrypt_share(gd[i], &ct, l + 1, &K[(size_t)l * o->k])) ||
                (err = dt_share_ct_to_json(rec->group, &sj, &ct)) ||
                (err = publish_text(dir, msg, sj, "ceremony/share-%u-%u.json", i + 1, l + 1))) {
                free(sj);
                goto out;
            }
            free(sj);
            err = dt_guardian_receive_share(gd[l], &ct, &K[(size_t)i * o->k], o->k);
            if (err) {
                *msg = dt_strdup_printf("guardian %u complains about the share from guardian %u: %s", l + 1, i + 1,
                                        dt_strerror(err));
                goto out;
            }
        }
        bar("shares exchanged", i + 1, o->n);
    }
    for (uint32_t i = 0; i < o->n; i++) {
        char *path = dt_strdup_printf("%s/guardian%u.key", tdir, i + 1);
        if (!path) {
            err = DT_ERR_NOMEM;
            goto out;
        }
        if ((err = dt_guardian_finish(gd[i])) || (err = dt_guardian_key_share(gd[i], &trustees[i].P)) ||
            (err = dt_guardian_save(gd[i], path, "demo", rec->hb))) {
            *msg = dt_strdup_printf("guardian %u: %s", i + 1, dt_strerror(err));
            free(path);
            goto out;
        }
        trustees[i].x = i + 1;
        free(path);
    }
    err = dt_election_open(msg, dir, (const char *const *)json, o->n);
out:
    for (uint32_t i = 0; gd && i < o->n; i++)
        dt_guardian_destroy(gd[i]);
    for (uint32_t i = 0; json && i < o->n; i++)
        free(json[i]);
    free(gd);
    free(K);
    free(c);
    free(v);
    free(json);
    free(tdir);
    dt_record_destroy(rec);
    return err;
}

/* ---- voters ---- */

/* A random plaintext ballot for style st: mostly valid votes, a few blank
 * contests and a few overvotes. Counts what a cast ballot adds per option. */
static json_t *random_ballot(const dt_rec_manifest *m, const char *id, size_t style, uint64_t *add, size_t *off)
{
    const dt_rec_style *st = &m->styles[style];
    json_t *contests = json_array();
    for (size_t c = 0; c < m->ncontests; c++) {
        const dt_rec_mcontest *mc = &m->contests[c];
        int on = 0;
        for (size_t k = 0; k < st->ngpu; k++)
            on |= strcmp(st->gpu[k], mc->district) == 0;
        if (!on)
            continue;
        uint32_t roll = randombytes_uniform(100), want;
        if (roll < 4)
            want = 0;                       /* blank */
        else if (roll < 7)
            want = mc->votes_allowed + 1;   /* overvote */
        else
            want = 1 + randombytes_uniform(mc->votes_allowed);
        if (want > mc->noptions)
            want = (uint32_t)mc->noptions;
        unsigned char *vote = calloc(mc->noptions, 1);
        for (uint32_t got = 0; got < want;) {
            uint32_t o = randombytes_uniform((uint32_t)mc->noptions);
            if (!vote[o]) {
                vote[o] = 1;
                got++;
            }
        }
        json_t *sels = json_array();
        for (size_t o = 0; o < mc->noptions; o++) {
            json_array_append_new(sels, json_pack("{s:s, s:i, s:i}", "selection_id", mc->options[o].id,
                                                  "sequence_order", (json_int_t)mc->options[o].seq, "vote",
                                                  (json_int_t)vote[o]));
            if (want <= mc->votes_allowed)
                add[off[c] + o] = vote[o];
        }
        free(vote);
        json_array_append_new(contests, json_pack("{s:s, s:i, s:o, s:[]}", "contest_id", mc->id, "sequence_order",
                                                  (json_int_t)mc->seq, "selections", sels, "write_ins"));
    }
    return json_pack("{s:s, s:s, s:o}", "ballot_id", id, "ballot_style", st->id, "contests", contests);
}

static dt_err vote(const opts *o, const char *dir, uint64_t *expected, char **msg)
{
    dt_record *rec = NULL;
    dt_ballot_ctx *ctx = NULL;
    dt_ballot_device *dev = NULL;
    size_t *off = NULL, nopts = 0;
    uint64_t *add = NULL;
    char *idir = dt_strdup_printf("%s/private_data/input", dir);
    char *bdir = dt_strdup_printf("%s/encrypted_ballots/demo-device", dir);
    dt_err err = DT_ERR_NOMEM;

    if (!idir || !bdir)
        goto out;
    if ((err = dt_record_load_part(&rec, msg, dir, DT_RECORD_ELECTION)))
        goto out;
    const dt_rec_manifest *m = &rec->manifest;
    off = calloc(m->ncontests + 1, sizeof *off);
    if (!off)
        goto out;
    for (size_t c = 0; c < m->ncontests; c++) {
        off[c] = nopts;
        nopts += m->contests[c].noptions;
    }
    add = calloc(nopts + 1, sizeof *add);
    if (!add || (err = dt_mkdirs(idir)) || (!o->until_voting && (err = dt_mkdirs(bdir))))
        goto out;
    if (!o->until_voting && ((err = dt_ballot_ctx_create(&ctx, msg, rec)) ||
                             (err = dt_ballot_device_create(&dev, msg, ctx, "demo-device", NULL, 0))))
        goto out;
    for (uint32_t b = 0; b < o->ballots; b++) {
        char id[32], *text, *path;
        dt_plaintext_ballot *pb = NULL;
        dt_ballot *eb = NULL;
        size_t len;
        snprintf(id, sizeof id, "ballot-%u", b + 1);
        memset(add, 0, nopts * sizeof *add);
        json_t *j = random_ballot(m, id, randombytes_uniform((uint32_t)m->nstyles), add, off);
        text = json_dumps(j, JSON_INDENT(4));
        json_decref(j);
        path = dt_strdup_printf("%s/pballot-%s.json", idir, id);
        if (!text || !path) {
            free(text);
            free(path);
            err = DT_ERR_NOMEM;
            goto out;
        }
        len = strlen(text);
        err = dt_write_file_atomic(path, text, len, 0600);
        free(path);
        if (err || o->until_voting) {
            free(text);
            if (err)
                goto out;
            continue;
        }
        err = dt_plaintext_ballot_parse(ctx, &pb, msg, text, len);
        free(text);
        if (!err)
            err = dt_ballot_encrypt(dev, &eb, NULL, pb, (int64_t)time(NULL));
        dt_plaintext_ballot_destroy(pb);
        if (err)
            goto out;
        /* the voter sees the code, then casts it or (every tenth) challenges it */
        int challenge = (b + 1) % 10 == 0;
        dt_ballot_set_state(eb, challenge ? DT_BALLOT_STATE_CHALLENGED : DT_BALLOT_STATE_CAST);
        if (!challenge)
            for (size_t i = 0; i < nopts; i++)
                expected[i] += add[i];
        err = dt_ballot_serialize(eb, &text, &len);
        dt_ballot_destroy(eb);
        if (err)
            goto out;
        path = dt_strdup_printf("%s/eballot-%s.json", bdir, id);
        err = path ? dt_write_file_atomic(path, text, len, 0644) : DT_ERR_NOMEM;
        free(path);
        free(text);
        if (err)
            goto out;
        bar("ballots encrypted", b + 1, o->ballots);
    }
    err = DT_OK;
out:
    if (err && msg && !*msg)
        *msg = dt_strdup_printf("voting: %s", dt_strerror(err));
    dt_ballot_device_destroy(dev);
    dt_ballot_ctx_destroy(ctx);
    dt_record_destroy(rec);
    free(off);
    free(add);
    free(idir);
    free(bdir);
    return err;
}

/* ---- the result, checked against the plaintexts ---- */

static int report(const char *dir, const uint64_t *expected, uint32_t ballots)
{
    dt_record *rec = NULL;
    char *msg = NULL;
    int bad = 0;
    size_t gi = 0;
    if (dt_record_load(&rec, &msg, dir) != DT_OK) {
        fprintf(stderr, "detente demo: cannot read back the record: %s\n", msg ? msg : "?");
        free(msg);
        return -1;
    }
    printf("\n%-16s %-22s %8s\n", "contest", "selection", "votes");
    for (size_t c = 0; c < rec->manifest.ncontests; c++) {
        const dt_rec_mcontest *mc = &rec->manifest.contests[c];
        const dt_rec_dcontest *dc = NULL;
        for (size_t i = 0; i < rec->tally.ncontests && !dc; i++)
            if (!strcmp(rec->tally.contests[i].id, mc->id))
                dc = &rec->tally.contests[i];
        for (size_t o = 0; o < mc->noptions; o++, gi++) {
            uint64_t got = UINT64_MAX;
            for (size_t s = 0; dc && s < dc->nsel; s++)
                if (!strcmp(dc->sel[s].id, mc->options[o].id))
                    got = dc->sel[s].value;
            printf("%-16s %-22s %8llu%s\n", o ? "" : mc->id, mc->options[o].id, (unsigned long long)got,
                   got == expected[gi] ? "" : "  <- differs from the plaintext ballots");
            bad |= got != expected[gi];
        }
    }
    size_t cast = 0, challenged = 0;
    for (size_t b = 0; b < rec->nballots; b++)
        rec->ballots[b].state == DT_BALLOT_CAST ? cast++ : challenged++;
    printf("\n%u ballots: %zu cast, %zu challenged and decrypted in the record.\n", ballots, cast, challenged);
    printf(bad ? "The decrypted tally DIFFERS from the count of the plaintext ballots.\n"
               : "The decrypted tally equals the count of the cast plaintext ballots.\n");
    dt_record_destroy(rec);
    return bad ? -1 : 0;
}

static int remove_tree(const char *dir)
{
    char *cmd = dt_strdup_printf("rm -rf -- '%s'", dir);
    int rc = cmd && !strchr(dir, '\'') ? system(cmd) : -1;
    free(cmd);
    return rc;
}

int demo_main(int argc, const char *argv[])
{
    opts o;
    char *msg = NULL, *tmp = NULL, *manifest = NULL;
    dt_trustee *trustees = NULL, *present = NULL;
    uint64_t *expected = NULL;
    dt_err err = DT_OK;
    int rc = 1;
    struct stat sb;

    memset(&o, 0, sizeof o);
    int p = parse_opts(&o, argc, argv);
    if (p)
        return p > 0 ? 0 : 2;
    if (sodium_init() < 0) {
        fprintf(stderr, "detente demo: libsodium failed to start\n");
        return 1;
    }
    progress_on = !o.quiet && isatty(2);
    if (lstat(o.out, &sb) == 0) {
        char *cfg = dt_strdup_printf("%s/election_config.json", o.out);
        int is_election = cfg && access(cfg, F_OK) == 0;
        free(cfg);
        if (!is_election) {
            fprintf(stderr, "detente demo: %s exists and is not an election folder; choose another --out\n", o.out);
            return 2;
        }
    }
    /* build in a fresh folder beside the target, then move it into place */
    tmp = dt_strdup_printf("%s.partial-%u", o.out, (unsigned)getpid());
    trustees = calloc(o.n, sizeof *trustees);
    present = calloc(o.n, sizeof *present);
    expected = calloc(o.selections > 64 ? o.selections : 64, sizeof *expected);
    manifest = o.selections ? selections_manifest(o.selections) : strdup(demo_manifest);
    if (!tmp || !trustees || !present || !expected || !manifest) {
        fprintf(stderr, "detente demo: out of memory\n");
        goto out;
    }
    say("detente demo: %s, %u guardians (quorum %u), %u ballots -> %s\n",
        o.group == DT_GROUP_RISTRETTO255 ? "ristretto255" : "integer4096", o.n, o.k, o.ballots, o.out);
    say("[1/5] election set-up\n");
    if ((err = dt_election_create(&msg, tmp, o.group, (const unsigned char *)manifest, strlen(manifest),
                                  o.n, o.k, (const unsigned char *)"demo-device", 11, false)) ||
        (err = board_create(&o, tmp, &msg)) || (err = board_publish(tmp, &msg)))
        goto out;
    say("[2/5] key ceremony\n");
    if ((err = ceremony(&o, tmp, trustees, &msg)) || (err = board_publish(tmp, &msg)))
        goto out;
    say("[3/5] voting\n");
    if ((err = vote(&o, tmp, expected, &msg)))
        goto out;
    if (!o.until_voting && (err = board_publish(tmp, &msg)))
        goto out;
    if (!o.until_voting) {
        say("[4/5] tally\n");
        if ((err = dt_election_tally(&msg, tmp)) || (err = board_publish(tmp, &msg)))
            goto out;
        say("[5/5] decryption with %u of %u guardians\n", o.n - o.absent, o.n);
        /* the absent guardians: a random choice */
        unsigned char *gone = calloc(o.n, 1);
        uint32_t np = 0;
        for (uint32_t a = 0; gone && a < o.absent;) {
            uint32_t i = randombytes_uniform(o.n);
            if (!gone[i]) {
                gone[i] = 1;
                a++;
            }
        }
        for (uint32_t i = 0; gone && i < o.n; i++)
            if (!gone[i])
                present[np++] = trustees[i];
        free(gone);
        if ((err = dt_election_decrypt(&msg, tmp, present, np, decrypt_progress, NULL)) ||
            (err = board_publish(tmp, &msg)))
            goto out;
    }
    if (lstat(o.out, &sb) == 0 && remove_tree(o.out) != 0) {
        fprintf(stderr, "detente demo: cannot replace %s\n", o.out);
        goto out;
    }
    if (rename(tmp, o.out) != 0) {
        fprintf(stderr, "detente demo: cannot move %s to %s: %s\n", tmp, o.out, strerror(errno));
        goto out;
    }
    if (o.until_voting) {
        printf("Voting is open in %s: plaintext ballots are in %s/private_data/input.\n"
               "Encrypt one with: detente encrypt %s %s/private_data/input/pballot-ballot-1.json\n",
               o.out, o.out, o.out, o.out);
        rc = 0;
    } else {
        rc = report(o.out, expected, o.ballots) == 0 ? 0 : 1;
        printf("Verify it with: detente verify %s\n", o.out);
    }
out:
    if (err) {
        fprintf(stderr, "detente demo: %s\n", msg ? msg : dt_strerror(err));
        rc = 1;
    }
    if (rc != 0 && tmp)
        remove_tree(tmp);
    if (trustees)
        dt_memzero(trustees, o.n * sizeof *trustees);
    if (present)
        dt_memzero(present, o.n * sizeof *present);
    free(trustees);
    free(present);
    free(expected);
    free(manifest);
    free(tmp);
    free(msg);
    return rc;
}
