/* Host-C case drivers (test/helpers/host-c.ts): case_file_main.c opens the case file and the result file and calls
 * the driver's run_case until it returns something other than 1. */
#ifndef SQZFW_TEST_CASE_FILE_H
#define SQZFW_TEST_CASE_FILE_H

#include <stdio.h>

/* Reads one case from fi, runs it and writes its results to fo: 1 after a case, 0 at the end of the case file,
 * otherwise the exit status (3: a short or unallocatable case). */
int run_case(FILE *fi, FILE *fo);

#endif
