/* The constant-time contest-data encoder (src/ballot/contest_data.c) against
 * the encoder it replaced, kept here as it was (old_encode: egk-ec's
 * truncation steps with branches, a measure-and-retry loop): the same bytes,
 * length and numBytes on every status, on the votes of every small contest,
 * on random votes, overvote lists, sequence numbers and UTF-8 write-ins,
 * with every truncation step taken many times; the output opens with both
 * decoders (dt_ballot_cd_decode, dt_contest_data_parse). The slot form
 * (secret lengths and number of write-ins) gives the same bytes with unused
 * slots full of garbage and with texts longer than their slot.
 *
 * That it is constant time is tests/ctime_secrets.c's (valgrind). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <detente/tally.h>

#include "ballot/ballot_impl.h"
#include "testrand.h"

/* ---- the previous encoder, verbatim but for its name and *steps ---- */

#define OLD_BLOCK 32
#define OLD_CHOP 30

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

/* *steps: bit s - 1 set when truncation step s was taken */
static dt_err old_encode(unsigned char **d, size_t *dlen, uint32_t *num_bytes, unsigned *steps,
                         const dt_rec_mcontest *mc, int status, const uint32_t *over, size_t nover,
                         char *const *write_ins, size_t nwrite)
{
    const size_t cap = (size_t)OLD_BLOCK * ((size_t)mc->votes_allowed + 1);
    const char *st = dt_ballot_cd_status_names[status];
    static const unsigned char star[] = "*";
    uint32_t *ov = calloc(nover + 1, sizeof *ov);
    cd_text *w = calloc(nwrite + 1, sizeof *w);
    unsigned char *chopped = calloc(nwrite + 1, OLD_CHOP + 1);
    unsigned char *buf = NULL;
    size_t nov = nover, nw = nwrite, n;
    dt_err err = DT_ERR_NOMEM;

    *d = NULL;
    *dlen = 0;
    *num_bytes = 0;
    *steps = 0;
    if (!ov || !w || !chopped)
        goto out;
    if (nover)
        memcpy(ov, over, nover * sizeof *ov);
    for (size_t i = 0; i < nwrite; i++)
        w[i] = (cd_text){(const unsigned char *)write_ins[i], strlen(write_ins[i])};

    n = put_all(NULL, ov, nov, w, nw, st);
    if (n > cap && nw > mc->votes_allowed) {
        *steps |= 1;
        nw = mc->votes_allowed;
        w[nw++] = (cd_text){star, 1};
        n = put_all(NULL, ov, nov, w, nw, st);
    }
    if (n > cap) {
        *steps |= 2;
        for (size_t i = 0; i < nw; i++) {
            size_t cut = OLD_CHOP;
            unsigned char *c = chopped + i * (OLD_CHOP + 1);
            if (w[i].n <= OLD_CHOP)
                continue;
            while (cut > 0 && (w[i].p[cut] & 0xc0) == 0x80)
                cut--;
            memcpy(c, w[i].p, cut);
            c[cut] = '*';
            w[i] = (cd_text){c, cut + 1};
        }
        n = put_all(NULL, ov, nov, w, nw, st);
    }
    if (n > cap && nov > (size_t)mc->votes_allowed + 1) {
        *steps |= 4;
        nov = (size_t)mc->votes_allowed + 1;
        ov[nov++] = DT_BALLOT_CD_MARKER;
        n = put_all(NULL, ov, nov, w, nw, st);
    }
    if (n > cap && nw > 0) {
        *steps |= 8;
        nw = 1;
        w[0] = (cd_text){star, 1};
        n = put_all(NULL, ov, nov, w, nw, st);
    }
    if (n > cap && nov > 0) {
        *steps |= 16;
        nov = 1;
        ov[0] = DT_BALLOT_CD_MARKER;
        n = put_all(NULL, ov, nov, w, nw, st);
    }
    assert_true(n <= cap);
    buf = calloc(cap, 1);
    if (!buf)
        goto out;
    put_all(buf, ov, nov, w, nw, st);
    *num_bytes = (uint32_t)(n < cap - 2 ? cap - 2 : n);
    *d = buf;
    *dlen = cap;
    buf = NULL;
    err = DT_OK;
out:
    free(ov);
    free(w);
    free(chopped);
    free(buf);
    return err;
}

/* ---- cases ---- */

#define MAXOPT 80
#define MAXWRITE 64 /* > L + 3 for every L below */

typedef struct cd_case {
    dt_rec_mcontest mc;
    dt_rec_option opt[MAXOPT];
    int status;
    unsigned char marked[MAXOPT];
    char *write[MAXWRITE];
    size_t nwrite;
} cd_case;

static unsigned step_counts[5], cases_run;

static void case_free(cd_case *c)
{
    for (size_t i = 0; i < c->nwrite; i++)
        free(c->write[i]);
    c->nwrite = 0;
}

/* Checks that both encoders agree on the case and that the output opens. */
static void check_case(const cd_case *c)
{
    unsigned char *d0 = NULL, *d1 = NULL;
    size_t len0 = 0, len1 = 0, nover = 0;
    uint32_t nb0 = 0, nb1 = 0, over[MAXOPT];
    unsigned steps = 0;

    for (size_t o = 0; o < c->mc.noptions; o++)
        if (c->marked[o])
            over[nover++] = c->mc.options[o].seq;
    assert_int_equal(old_encode(&d0, &len0, &nb0, &steps, &c->mc, c->status, over, nover, c->write, c->nwrite),
                     DT_OK);
    assert_int_equal(dt_ballot_cd_encode(&d1, &len1, &nb1, &c->mc, c->status, c->marked, c->write, c->nwrite),
                     DT_OK);
    if (len0 != len1 || nb0 != nb1 || memcmp(d0, d1, len0) != 0) {
        fprintf(stderr, "L %u, %zu options, status %d, %zu marked, %zu write-ins, steps %#x: differ\n",
                c->mc.votes_allowed, c->mc.noptions, c->status, nover, c->nwrite, steps);
        for (size_t i = 0; i < len0; i++)
            fprintf(stderr, "%02x%s", d0[i], i + 1 < len0 ? "" : "\n");
        for (size_t i = 0; i < len1; i++)
            fprintf(stderr, "%02x%s", d1[i], i + 1 < len1 ? "" : "\n");
    }
    assert_int_equal(len1, len0);
    assert_int_equal(nb1, nb0);
    assert_memory_equal(d1, d0, len0);
    for (unsigned s = 0; s < 5; s++)
        step_counts[s] += (steps >> s) & 1;
    cases_run++;

    /* the record opens with both decoders */
    {
        dt_pcontest pc = {0};
        char status[32];
        uint32_t *ov = NULL;
        size_t n_ov = 0, nwi = 0;
        assert_int_equal(dt_ballot_cd_decode(&pc, d1, nb1, len1), DT_OK);
        assert_int_equal(pc.status, c->status);
        /* the tally's decoder (the verifier's step 14) too, lists cut
         * with the marker included */
        assert_int_equal(dt_contest_data_parse(d1, nb1, status, sizeof status, &ov, &n_ov, &nwi), DT_OK);
        assert_string_equal(status, dt_ballot_cd_status_names[c->status]);
        assert_int_equal(n_ov, pc.nover);
        assert_int_equal(nwi, pc.nwrite);
        for (size_t i = 0; i < n_ov; i++)
            assert_int_equal(ov[i], pc.over[i]);
        free(ov);
        free(pc.over);
        for (size_t i = 0; i < pc.nwrite; i++)
            free(pc.write_ins[i]);
        free(pc.write_ins);
    }
    free(d0);
    free(d1);
}

static void make_contest(cd_case *c, uint32_t L, size_t m)
{
    memset(c, 0, sizeof *c);
    c->mc.id = "contest";
    c->mc.votes_allowed = L;
    c->mc.option_limit = 1;
    c->mc.noptions = m;
    c->mc.options = c->opt;
    for (size_t o = 0; o < m; o++)
        c->opt[o].seq = (uint32_t)o + 1;
}

/* egk-ec's status and overvote list from the votes, as encrypt_contest */
static void from_votes(cd_case *c, const uint32_t *votes)
{
    uint64_t sum = 0;
    for (size_t o = 0; o < c->mc.noptions; o++)
        sum += votes[o];
    c->status = sum == 0 ? 1 : sum > c->mc.votes_allowed ? 2 : sum < c->mc.votes_allowed ? 3 : 0;
    for (size_t o = 0; o < c->mc.noptions; o++)
        c->marked[o] = c->status == 2 && votes[o] > 0;
}

/* A random valid UTF-8 text of at most max bytes (1- to 4-byte characters). */
static char *random_text(size_t max)
{
    static const char *const chars[] = {"a", "Z", " ", "-", "\xc3\xa9", "\xd0\x96", "\xe2\x82\xac", "\xe4\xb8\xad",
                                        "\xf0\x9f\x98\x80", "\xf0\x90\x8d\x88"};
    char *t = malloc(max + 1);
    size_t n = 0, kinds = testrand_u64(4); /* ASCII only, up to 2, 3 or 4 bytes a character */
    assert_non_null(t);
    for (;;) {
        const char *ch = chars[testrand_u64(4 + 2 * kinds)];
        size_t k = strlen(ch);
        if (n + k > max)
            break;
        memcpy(t + n, ch, k);
        n += k;
    }
    t[n] = '\0';
    return t;
}

/* at most DT_LIMIT_STRING bytes, as the plaintext ballot's parser allows */
static size_t random_length(size_t cap)
{
    if (cap > DT_LIMIT_STRING)
        cap = DT_LIMIT_STRING;
    switch (testrand_u64(6)) {
    case 0:
        return testrand_u64(4);
    case 1:
    case 2:
        return testrand_u64(40); /* around the 30-byte cut */
    case 3:
        return cap - 4 + testrand_u64(5); /* around 32 (L+1) */
    case 4:
        return testrand_u64(DT_LIMIT_STRING + 1);
    default:
        return testrand_u64(cap / 2 + 1);
    }
}

static uint32_t random_seq(void)
{
    static const uint32_t top[] = {0x80, 0x4000, 0x200000, 0x10000000, 0x7fffffff};
    return (uint32_t)testrand_u64(top[testrand_u64(5)]);
}

/* every status, with and without overvote lists and write-ins, on small
 * contests; and every vote of every contest of up to 4 options, L 1..3 */
static void test_every_status(void **state)
{
    (void)state;
    cd_case c;
    for (uint32_t L = 1; L <= 3; L++)
        for (int st = 0; st < 4; st++)
            for (int shape = 0; shape < 6; shape++) {
                make_contest(&c, L, 2 * L + 3);
                c.status = st;
                for (size_t o = 0; o < c.mc.noptions; o++)
                    c.marked[o] = shape & 1 ? (unsigned char)(o % 2 == 0) : 0;
                if (shape >= 2) {
                    c.nwrite = shape >= 4 ? L + 2 : 1;
                    for (size_t i = 0; i < c.nwrite; i++) {
                        c.write[i] = strdup(shape >= 4 ? "A write-in name longer than thirty bytes" : "Zo\xc3\xab");
                        assert_non_null(c.write[i]);
                    }
                }
                check_case(&c);
                case_free(&c);
            }
    for (uint32_t L = 1; L <= 3; L++)
        for (size_t m = 0; m <= 4; m++) {
            uint32_t votes[4] = {0};
            for (;;) {
                make_contest(&c, L, m);
                from_votes(&c, votes);
                check_case(&c);
                size_t o = 0; /* the next vote vector, votes in 0..2 */
                while (o < m && votes[o] == 2)
                    votes[o++] = 0;
                if (o == m)
                    break;
                votes[o]++;
            }
        }
}

static void random_case(cd_case *c)
{
    static const uint32_t Ls[] = {1, 1, 2, 3, 4, 6, 31, 32, 40};
    uint32_t L = Ls[testrand_u64(sizeof Ls / sizeof Ls[0])];
    size_t m = testrand_u64(testrand_u64(2) ? 2 * L + 6 : MAXOPT + 1);
    const size_t cap = 32 * ((size_t)L + 1);
    uint32_t votes[MAXOPT];
    if (m > MAXOPT)
        m = MAXOPT;
    int full = testrand_u64(6) == 0;
    if (full) { /* the most data: step 4 needs L > 1 and 5-byte sequence numbers */
        L = 2 + (uint32_t)testrand_u64(3);
        m = 2 * L + 6;
    }
    make_contest(c, L, m);
    if (full || testrand_u64(3) == 0) /* large and sparse sequence numbers */
        for (size_t o = 0; o < m; o++)
            c->opt[o].seq = full ? 0x10000000u + (uint32_t)testrand_u64(0x70000000) : random_seq();
    for (size_t o = 0; o < m; o++)
        votes[o] = full ? 1 : testrand_u64(3) ? 0 : (uint32_t)testrand_u64(3);
    from_votes(c, votes);
    if (testrand_u64(4) == 0) { /* any status with any list: the encoder takes them as given */
        c->status = (int)testrand_u64(4);
        for (size_t o = 0; o < m; o++)
            c->marked[o] = (unsigned char)testrand_u64(2);
    }
    c->nwrite = full ? L + 1 + testrand_u64(3) : testrand_u64(testrand_u64(2) ? L + 3 : MAXWRITE + 1);
    for (size_t i = 0; i < c->nwrite; i++)
        c->write[i] = random_text(full ? 28 + testrand_u64(10) : random_length(cap));
}

/* random contests: every truncation step that can be taken, many times.
 * Step 5 (the overvote list replaced by the marker) cannot: after step 3
 * the list takes at most 1 + 5 (L+1) + 5 bytes, the write-ins' count 1, the
 * status 11, and 5L + 23 < 32 (L+1). The new encoder computes it all the same. */
static void test_random(void **state)
{
    (void)state;
    cd_case c;
    memset(step_counts, 0, sizeof step_counts);
    for (int t = 0; t < 2000; t++) {
        random_case(&c);
        check_case(&c);
        case_free(&c);
    }
    printf("%u cases; truncation steps taken: %u %u %u %u %u\n", cases_run, step_counts[0], step_counts[1],
           step_counts[2], step_counts[3], step_counts[4]);
    for (unsigned s = 0; s < 4; s++)
        assert_true(step_counts[s] >= 20);
    assert_int_equal(step_counts[4], 0);
}

/* the slot form: more slots than write-ins (the rest garbage), slots of
 * other sizes, texts longer than 32 (L+1) given by their first slot_size
 * bytes */
static void test_slots(void **state)
{
    (void)state;
    cd_case c;
    for (int t = 0; t < 400; t++) {
        random_case(&c);
        const size_t cap = 32 * ((size_t)c.mc.votes_allowed + 1);
        static const size_t sizes[] = {0, 31, 40, 64, DT_LIMIT_STRING};
        size_t slot_size = sizes[testrand_u64(5)], nslots = c.nwrite + testrand_u64(4);
        unsigned char *slots, *d0 = NULL, *d1 = NULL;
        uint32_t *lens, nb0 = 0, nb1 = 0;
        size_t len0 = 0, len1 = 0;
        int fits = 1;
        if (slot_size == 0)
            slot_size = cap;
        slots = malloc(nslots * slot_size + 1);
        lens = malloc((nslots + 1) * sizeof *lens);
        assert_true(slots && lens);
        testrand_bytes(slots, nslots * slot_size);
        testrand_bytes(lens, nslots * sizeof *lens);
        for (size_t i = 0; i < c.nwrite; i++) {
            size_t n = strlen(c.write[i]);
            memset(slots + i * slot_size, 0, slot_size);
            memcpy(slots + i * slot_size, c.write[i], n < slot_size ? n : slot_size);
            lens[i] = (uint32_t)n;
            fits &= n <= slot_size || n > cap; /* the slot form's promise */
        }
        if (!fits) {
            case_free(&c);
            free(slots);
            free(lens);
            continue;
        }
        assert_int_equal(dt_ballot_cd_encode(&d0, &len0, &nb0, &c.mc, c.status, c.marked, c.write, c.nwrite), DT_OK);
        assert_int_equal(dt_ballot_cd_encode_slots(&d1, &len1, &nb1, &c.mc, c.status, c.marked, slots, slot_size,
                                                   lens, nslots, c.nwrite),
                         DT_OK);
        assert_int_equal(len1, len0);
        assert_int_equal(nb1, nb0);
        assert_memory_equal(d1, d0, len0);
        free(d0);
        free(d1);
        free(slots);
        free(lens);
        case_free(&c);
    }
}

/* a write-in over the plaintext ballot's limit is refused, nothing returned */
static void test_limit(void **state)
{
    (void)state;
    cd_case c;
    unsigned char *d = (unsigned char *)1;
    size_t dlen = 1;
    uint32_t nb = 1;
    make_contest(&c, 40, 2); /* 32 (L+1) > DT_LIMIT_STRING: a long text would be kept whole */
    c.status = 3;
    c.write[0] = calloc(DT_LIMIT_STRING + 2, 1);
    assert_non_null(c.write[0]);
    memset(c.write[0], 'a', DT_LIMIT_STRING);
    c.nwrite = 1;
    assert_int_equal(dt_ballot_cd_encode(&d, &dlen, &nb, &c.mc, c.status, c.marked, c.write, 1), DT_OK);
    free(d);
    c.write[0][DT_LIMIT_STRING] = 'a';
    assert_int_equal(dt_ballot_cd_encode(&d, &dlen, &nb, &c.mc, c.status, c.marked, c.write, 1), DT_ERR_LIMIT);
    assert_null(d);
    assert_int_equal(dlen, 0);
    assert_int_equal(nb, 0);
    case_free(&c);
}

int main(void)
{
    testrand_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_status),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
