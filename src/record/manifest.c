/* Manifest consistency: what ElectionGuard's indices and ballot styles need. */
#include <stdlib.h>
#include <string.h>

#include "record/record.h"
#include "util/codec.h"

static int in_list(char **v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

#define BAD(...)                                                                                         \
    do {                                                                                                 \
        if (msg)                                                                                         \
            *msg = dt_strdup_printf("manifest.json: " __VA_ARGS__);                                      \
        return DT_ERR_INVALID;                                                                           \
    } while (0)

dt_err dt_manifest_validate(const dt_rec_manifest *m, char **msg)
{
    if (msg)
        *msg = NULL;
    if (m->ncontests == 0)
        BAD("no contests");
    if (m->nstyles == 0)
        BAD("no ballot styles");
    for (size_t i = 0; i < m->ngpus; i++)
        for (size_t k = 0; k < i; k++)
            if (strcmp(m->gpus[i], m->gpus[k]) == 0)
                BAD("geopolitical unit %s is defined twice", m->gpus[i]);
    for (size_t i = 0; i < m->ncandidates; i++)
        for (size_t k = 0; k < i; k++)
            if (strcmp(m->candidates[i], m->candidates[k]) == 0)
                BAD("candidate %s is defined twice", m->candidates[i]);
    for (size_t i = 0; i < m->ncontests; i++) {
        const dt_rec_mcontest *c = &m->contests[i];
        for (size_t k = 0; k < i; k++)
            if (strcmp(c->id, m->contests[k].id) == 0)
                BAD("contest %s is defined twice", c->id);
        if (c->seq != i + 1)
            BAD("contest %s: sequence_order %u is not its position %zu", c->id, c->seq, i + 1);
        if (c->votes_allowed == 0)
            BAD("contest %s: votes_allowed (the contest selection limit) is 0", c->id);
        if (c->option_limit == 0)
            BAD("contest %s: option_selection_limit is 0", c->id);
        if (c->noptions == 0)
            BAD("contest %s has no selections", c->id);
        if (!in_list(m->gpus, m->ngpus, c->district))
            BAD("contest %s: electoral_district_id %s is not a geopolitical unit", c->id, c->district);
        for (size_t o = 0; o < c->noptions; o++) {
            const dt_rec_option *op = &c->options[o];
            for (size_t k = 0; k < o; k++)
                if (strcmp(op->id, c->options[k].id) == 0)
                    BAD("contest %s: selection %s is defined twice", c->id, op->id);
            if (op->seq != o + 1)
                BAD("contest %s: selection %s: sequence_order %u is not its position %zu", c->id, op->id, op->seq,
                    o + 1);
            if (op->candidate && !in_list(m->candidates, m->ncandidates, op->candidate))
                BAD("contest %s: selection %s: candidate %s is not defined", c->id, op->id, op->candidate);
        }
    }
    for (size_t i = 0; i < m->nstyles; i++) {
        const dt_rec_style *st = &m->styles[i];
        int any = 0;
        for (size_t k = 0; k < i; k++)
            if (strcmp(st->id, m->styles[k].id) == 0)
                BAD("ballot style %s is defined twice", st->id);
        for (size_t g = 0; g < st->ngpu; g++)
            if (!in_list(m->gpus, m->ngpus, st->gpu[g]))
                BAD("ballot style %s: geopolitical unit %s is not defined", st->id, st->gpu[g]);
        for (size_t c = 0; c < m->ncontests && !any; c++)
            any = in_list(st->gpu, st->ngpu, m->contests[c].district);
        if (!any)
            BAD("ballot style %s has no contests", st->id);
    }
    return DT_OK;
}
