/* Private: a replacement randomness source for deterministic tests only.
 * Never called by the library or the CLI. */
#ifndef DT_UTIL_RANDOM_H
#define DT_UTIL_RANDOM_H

#include <stddef.h>

void dt_random_set_source_for_testing(void (*fn)(void *buf, size_t n));

#endif
