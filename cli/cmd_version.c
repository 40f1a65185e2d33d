#include <stdio.h>

#include "cli.h"

#ifndef DT_VERSION
#define DT_VERSION "0.1.0"
#endif

int version_main(int argc, const char *argv[])
{
    (void)argc;
    (void)argv;
    printf("detente %s (ElectionGuard 2.0 protocol)\n", DT_VERSION);
    return 0;
}
