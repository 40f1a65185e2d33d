/* Voter receipts: C2SP tlog-proof v1 bundles, formatted, parsed strictly and
 * verified offline against the log's key and a quorum of witnesses.
 *
 * Decisions (docs/board.md, "Receipts"):
 *   - extra is the log entry itself, at most DT_LOG_ENTRY_MAX bytes; an
 *     "extra " line with empty base64 is an empty entry (extra non-NULL,
 *     extralen 0), distinct from no extra line (extra NULL).
 *   - index: canonical decimal below DT_CHECKPOINT_MAX_SIZE (an index is
 *     below a checkpoint's size); beyond is DT_ERR_LIMIT.
 *   - proof lines: each exactly the canonical base64 of 32 bytes; at most
 *     DT_MERKLE_MAX_PROOF of them (DT_ERR_LIMIT beyond).
 *   - the note: 1..DT_NOTE_MAX_BYTES bytes, kept verbatim; its content is
 *     checked by dt_receipt_verify, not by the parser. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <detente/log.h>
#include <detente/receipt.h>

#define HB DT_MERKLE_HASH_BYTES
#define MAGIC "c2sp.org/tlog-proof@v1"
/* Base64 characters of the largest extra. */
#define EXTRA_B64_MAX (4 * ((DT_LOG_ENTRY_MAX + 2) / 3))
#define INDEX_MAX (DT_CHECKPOINT_MAX_SIZE - 1)

_Static_assert(sizeof MAGIC + 7 + EXTRA_B64_MAX + 27 + DT_MERKLE_MAX_PROOF * 45 + 1 + DT_NOTE_MAX_BYTES <=
                   DT_RECEIPT_MAX,
               "DT_RECEIPT_MAX too small for the largest receipt");

/* ---- format ---- */

dt_err dt_receipt_format(char **out, size_t *outlen, const unsigned char *extra, size_t extralen, uint64_t index,
                         const unsigned char (*proof)[HB], size_t prooflen, const char *note, size_t notelen)
{
    size_t cap, n = 0, b64len = 0;
    char *buf;
    if (!out || !outlen || !note || (!extra && extralen) || (!proof && prooflen))
        dt_misuse("dt_receipt_format: NULL argument");
    *out = NULL;
    *outlen = 0;
    if (extralen > DT_LOG_ENTRY_MAX || index > INDEX_MAX || prooflen > DT_MERKLE_MAX_PROOF ||
        notelen > DT_NOTE_MAX_BYTES)
        return DT_ERR_LIMIT;
    if (notelen == 0)
        return DT_ERR_ENCODING;
    if (extra)
        b64len = sodium_base64_encoded_len(extralen, sodium_base64_VARIANT_ORIGINAL); /* with its NUL */
    cap = sizeof MAGIC + 6 + b64len + 1 + 6 + 20 + 1 + prooflen * 45 + 1 + notelen + 1;
    buf = malloc(cap);
    if (!buf)
        return DT_ERR_NOMEM;
    memcpy(buf, MAGIC "\n", sizeof MAGIC);
    n = sizeof MAGIC;
    if (extra) {
        memcpy(buf + n, "extra ", 6);
        n += 6;
        sodium_bin2base64(buf + n, b64len, extra, extralen, sodium_base64_VARIANT_ORIGINAL);
        n += b64len - 1;
        buf[n++] = '\n';
    }
    n += (size_t)snprintf(buf + n, cap - n, "index %llu\n", (unsigned long long)index);
    for (size_t i = 0; i < prooflen; i++) {
        sodium_bin2base64(buf + n, 45, proof[i], HB, sodium_base64_VARIANT_ORIGINAL);
        n += 44;
        buf[n++] = '\n';
    }
    buf[n++] = '\n';
    memcpy(buf + n, note, notelen);
    n += notelen;
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return DT_OK;
}

/* ---- parse ---- */

/* The next line from *p (before end), without its newline; 0 if there is
 * no newline left. */
static int next_line(const char **p, const char *end, const char **line, size_t *len)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl)
        return 0;
    *line = *p;
    *len = (size_t)(nl - *p);
    *p = nl + 1;
    return 1;
}

static int has_prefix(const char *line, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(line, prefix, n) == 0;
}

/* Canonical standard base64 (padded, zero trailing bits, nothing else):
 * libsodium refuses anything else when no ignore set and no end pointer are
 * given, except bytes from 0x80 up, which libsodium 1.0.18 reads as '/' (a
 * signed char; found by fuzz/fuzz_receipt.c): those are refused first. */
static int b64_decode(unsigned char *out, size_t cap, size_t *got, const char *in, size_t inlen)
{
    for (size_t i = 0; i < inlen; i++)
        if ((unsigned char)in[i] >= 0x80)
            return 0;
    return sodium_base642bin(out, cap, in, inlen, NULL, got, NULL, sodium_base64_VARIANT_ORIGINAL) == 0;
}

static dt_err parse_index(uint64_t *index, const char *s, size_t n)
{
    uint64_t v = 0;
    if (n == 0 || (n > 1 && s[0] == '0'))
        return DT_ERR_ENCODING;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return DT_ERR_ENCODING;
    if (n > 19)
        return DT_ERR_LIMIT;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits cannot overflow */
    if (v > INDEX_MAX)
        return DT_ERR_LIMIT;
    *index = v;
    return DT_OK;
}

dt_err dt_receipt_parse(dt_receipt *r, const char *text, size_t len)
{
    const char *p = text, *end, *line;
    size_t ll, got;
    dt_err err = DT_ERR_ENCODING;
    if (!r || !text)
        dt_misuse("dt_receipt_parse: NULL argument");
    memset(r, 0, sizeof *r);
    if (len > DT_RECEIPT_MAX)
        return DT_ERR_LIMIT;
    end = text + len;
    if (!next_line(&p, end, &line, &ll) || ll != sizeof MAGIC - 1 || memcmp(line, MAGIC, ll) != 0)
        goto fail;
    if (!next_line(&p, end, &line, &ll))
        goto fail;
    if (has_prefix(line, ll, "extra ")) {
        size_t b64len = ll - 6;
        if (b64len > EXTRA_B64_MAX) {
            err = DT_ERR_LIMIT;
            goto fail;
        }
        r->extra = malloc(b64len / 4 * 3 + 1);
        if (!r->extra) {
            err = DT_ERR_NOMEM;
            goto fail;
        }
        if (!b64_decode(r->extra, b64len / 4 * 3, &r->extralen, line + 6, b64len))
            goto fail;
        if (!next_line(&p, end, &line, &ll))
            goto fail;
    }
    if (!has_prefix(line, ll, "index ") || (err = parse_index(&r->index, line + 6, ll - 6)) != DT_OK)
        goto fail;
    err = DT_ERR_ENCODING;
    for (;;) {
        if (!next_line(&p, end, &line, &ll))
            goto fail;
        if (ll == 0)
            break;
        if (r->prooflen == DT_MERKLE_MAX_PROOF) {
            err = DT_ERR_LIMIT;
            goto fail;
        }
        if (ll != 44 || !b64_decode(r->proof[r->prooflen], HB, &got, line, ll) || got != HB)
            goto fail;
        r->prooflen++;
    }
    if (p == end)
        goto fail;
    if ((size_t)(end - p) > DT_NOTE_MAX_BYTES) {
        err = DT_ERR_LIMIT;
        goto fail;
    }
    r->notelen = (size_t)(end - p);
    r->note = malloc(r->notelen + 1);
    if (!r->note) {
        err = DT_ERR_NOMEM;
        goto fail;
    }
    memcpy(r->note, p, r->notelen);
    r->note[r->notelen] = '\0';
    return DT_OK;
fail:
    dt_receipt_free(r);
    return err;
}

void dt_receipt_free(dt_receipt *r)
{
    if (!r)
        return;
    free(r->extra);
    free(r->note);
    memset(r, 0, sizeof *r);
}

/* ---- verify ---- */

static dt_err fail(dt_err err, char *why, size_t whycap, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static dt_err fail(dt_err err, char *why, size_t whycap, const char *fmt, ...)
{
    va_list ap;
    if (why && whycap) {
        va_start(ap, fmt);
        vsnprintf(why, whycap, fmt, ap);
        va_end(ap);
    }
    return err;
}

/* 1 if a and b are the same key (type, name, key ID and public key). */
static int same_key(const dt_note_verifier *a, const dt_note_verifier *b)
{
    size_t na, nb;
    const char *sa = dt_note_verifier_name(a, &na), *sb = dt_note_verifier_name(b, &nb);
    return dt_note_verifier_type(a) == dt_note_verifier_type(b) && dt_note_verifier_id(a) == dt_note_verifier_id(b) &&
           na == nb && memcmp(sa, sb, na) == 0 &&
           memcmp(dt_note_verifier_pubkey(a), dt_note_verifier_pubkey(b), 32) == 0;
}

dt_err dt_receipt_verify(const dt_receipt *r, const dt_note_verifier *log, const dt_note_verifier *witnesses,
                         size_t nwitnesses, size_t quorum, uint64_t *size, char *why, size_t whycap)
{
    const char *origin, *ext, *lname;
    size_t tl, olen, extlen, lnamelen, count = 0;
    uint64_t csize;
    unsigned char root[HB], leaf[HB], ok;
    dt_err err;
    if (!r || !log || (!witnesses && nwitnesses) || (!why && whycap))
        dt_misuse("dt_receipt_verify: NULL argument");
    if (size)
        *size = 0;
    if (why && whycap)
        why[0] = '\0';
    if (!r->extra)
        return fail(DT_ERR_ENCODING, why, whycap, "the receipt carries no entry (no extra line)");
    if (dt_note_verifier_type(log) != DT_NOTE_ED25519)
        return fail(DT_ERR_INVALID, why, whycap, "the log key is not a signed-note Ed25519 key (type 0x01)");
    for (size_t j = 0; j < nwitnesses; j++)
        if (dt_note_verifier_type(&witnesses[j]) != DT_NOTE_COSIG) {
            size_t nl;
            const char *n = dt_note_verifier_name(&witnesses[j], &nl);
            return fail(DT_ERR_INVALID, why, whycap, "witness key %.*s is not a cosignature key (type 0x04)",
                        (int)nl, n);
        }

    /* The log's signature, then what it signed. */
    err = dt_note_open(&tl, &ok, NULL, r->note, r->notelen, log, 1);
    if (err == DT_ERR_NOT_FOUND)
        return fail(DT_ERR_PROOF, why, whycap, "the checkpoint is not signed by the log key");
    if (err == DT_ERR_PROOF)
        return fail(DT_ERR_PROOF, why, whycap, "the log's signature on the checkpoint does not verify");
    if (err)
        return fail(DT_ERR_ENCODING, why, whycap, "the checkpoint is not a well-formed signed note");
    if (dt_checkpoint_parse(&origin, &olen, &csize, root, &ext, &extlen, r->note, tl) != DT_OK)
        return fail(DT_ERR_ENCODING, why, whycap, "the signed note is not a checkpoint");
    lname = dt_note_verifier_name(log, &lnamelen);
    if (olen != lnamelen || memcmp(origin, lname, olen) != 0)
        return fail(DT_ERR_PROOF, why, whycap, "the checkpoint's origin '%.*s' is not the log key's name '%.*s'",
                    (int)(olen > 200 ? 200 : olen), origin, (int)lnamelen, lname);

    /* Witnesses: each distinct key once; a cosignature that fails refuses
     * the receipt, as dt_note_open refuses a note. */
    for (size_t j = 0; j < nwitnesses; j++) {
        size_t k, nl;
        const char *n = dt_note_verifier_name(&witnesses[j], &nl);
        for (k = 0; k < j && !same_key(&witnesses[k], &witnesses[j]); k++)
            ;
        if (k < j)
            continue;
        err = dt_note_open(&tl, &ok, NULL, r->note, r->notelen, &witnesses[j], 1);
        if (err == DT_OK)
            count++;
        else if (err == DT_ERR_PROOF)
            return fail(DT_ERR_PROOF, why, whycap, "the cosignature of witness %.*s does not verify", (int)nl, n);
        else if (err != DT_ERR_NOT_FOUND)
            return fail(DT_ERR_ENCODING, why, whycap, "the checkpoint is not a well-formed signed note");
    }
    if (count < quorum)
        return fail(DT_ERR_PROOF, why, whycap, "%zu witness cosignature%s, %zu required", count,
                    count == 1 ? "" : "s", quorum);

    /* The entry in the tree. */
    dt_merkle_leaf_hash(leaf, r->extra, r->extralen);
    err = dt_merkle_inclusion_verify(r->index, csize, leaf, (const unsigned char(*)[HB])r->proof, r->prooflen, root);
    if (err == DT_ERR_RANGE)
        return fail(DT_ERR_PROOF, why, whycap, "index %llu is beyond the checkpoint's tree of size %llu",
                    (unsigned long long)r->index, (unsigned long long)csize);
    if (err)
        return fail(DT_ERR_PROOF, why, whycap, "the entry is not in the tree at index %llu (tree size %llu)",
                    (unsigned long long)r->index, (unsigned long long)csize);
    if (size)
        *size = csize;
    return DT_OK;
}
