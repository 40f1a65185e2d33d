/* C2SP tlog-tiles v0.1.0 resource paths. */
#include <detente/tiles.h>

#include <stdio.h>
#include <string.h>

/* Writes "<N>" in 3-digit groups, all but the last prefixed by 'x'. */
static size_t put_index(char *out, uint64_t index)
{
    unsigned groups[7]; /* 2^64 has 20 digits: at most 7 groups */
    size_t n = 0, len = 0;
    do {
        groups[n++] = (unsigned)(index % 1000);
        index /= 1000;
    } while (index != 0);
    while (n-- > 0)
        len += (size_t)sprintf(out + len, n ? "x%03u/" : "%03u", groups[n]);
    return len;
}

static dt_err put_path(char out[DT_TILE_PATH_MAX], const char *prefix, uint64_t index, unsigned width)
{
    if (width == 0 || width > DT_TILE_WIDTH)
        return DT_ERR_RANGE;
    size_t len = (size_t)sprintf(out, "%s", prefix);
    len += put_index(out + len, index);
    if (width < DT_TILE_WIDTH)
        sprintf(out + len, ".p/%u", width);
    return DT_OK;
}

dt_err dt_tile_path(char out[DT_TILE_PATH_MAX], unsigned level, uint64_t index, unsigned width)
{
    if (out == NULL)
        dt_misuse("dt_tile_path: NULL argument");
    if (level > 63)
        return DT_ERR_RANGE;
    char prefix[16];
    sprintf(prefix, "tile/%u/", level);
    return put_path(out, prefix, index, width);
}

dt_err dt_tile_entries_path(char out[DT_TILE_PATH_MAX], uint64_t index, unsigned width)
{
    if (out == NULL)
        dt_misuse("dt_tile_entries_path: NULL argument");
    return put_path(out, "tile/entries/", index, width);
}

/* A decimal without leading zeros (0 itself allowed), at most max. */
static int get_decimal(const char **p, uint64_t max, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (x > (max - (uint64_t)(*s - '0')) / 10)
            return 0;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *v = x;
    return 1;
}

dt_err dt_tile_path_parse(unsigned *level, uint64_t *index, unsigned *width, const char *path)
{
    if (level == NULL || index == NULL || width == NULL || path == NULL)
        dt_misuse("dt_tile_path_parse: NULL argument");
    const char *p = path;
    uint64_t v;
    if (strncmp(p, "tile/", 5) != 0)
        return DT_ERR_ENCODING;
    p += 5;
    if (strncmp(p, "entries/", 8) == 0) {
        *level = DT_TILE_ENTRIES;
        p += 8;
    } else {
        if (!get_decimal(&p, 63, &v) || *p++ != '/')
            return DT_ERR_ENCODING;
        *level = (unsigned)v;
    }
    /* Index groups: "xDDD/"* then "DDD". The first group may not be x000. */
    uint64_t x = 0;
    int first = 1;
    for (;;) {
        int more = (*p == 'x');
        if (more)
            p++;
        if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9'))
            return DT_ERR_ENCODING;
        unsigned g = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
        p += 3;
        if (more && first && g == 0)
            return DT_ERR_ENCODING;
        if (x > (UINT64_MAX - g) / 1000)
            return DT_ERR_ENCODING;
        x = x * 1000 + g;
        first = 0;
        if (!more)
            break;
        if (*p++ != '/')
            return DT_ERR_ENCODING;
    }
    *index = x;
    *width = DT_TILE_WIDTH;
    if (*p == '\0')
        return DT_OK;
    if (strncmp(p, ".p/", 3) != 0)
        return DT_ERR_ENCODING;
    p += 3;
    if (!get_decimal(&p, DT_TILE_WIDTH - 1, &v) || v == 0 || *p != '\0')
        return DT_ERR_ENCODING;
    *width = (unsigned)v;
    return DT_OK;
}
