/* vtxref check: one scenario's result as a worker sends it, and the JUnit XML report (tools/check_report.c). */
#ifndef VTX_TOOLS_CHECK_REPORT_H
#define VTX_TOOLS_CHECK_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** @brief What became of one scenario file. */
typedef enum { CHECK_PASS = 0, CHECK_FAIL = 1, CHECK_SKIP = 2, CHECK_ERROR = 3 } check_kind;

#define CHECK_RECORD_MAGIC 0x76786b31u /* "vxk1": a complete record came through the pipe */

/** @brief One scenario's result: a plain fixed-size struct, sent whole through a pipe. */
typedef struct check_record {
    uint32_t magic;     /**< CHECK_RECORD_MAGIC once complete. */
    check_kind kind;    /**< Pass, fail, skip or error. */
    int status;         /**< The exit status it calls for (tools/cli.h), 0 for a pass or skip. */
    uint32_t exits;     /**< VM exits in the run. */
    uint64_t instructions; /**< Guest instructions retired. */
    char name[128];     /**< Scenario name (the path for a file that did not load). */
    char message[800];  /**< First mismatch, "file:line:col: reason", or why it was skipped. */
} check_record;

/** @brief The results of a check run, in job order. */
typedef struct check_result_list {
    size_t n;                      /**< Number of jobs. */
    const check_record **records;  /**< Their records. */
    const char *const *paths;      /**< Their files. */
} check_result_list;

/**
 * @brief Write @p rl as JUnit XML to @p path: to a temporary file next to it, renamed
 * over @p path when complete. @return 0, or -1 with errno set (nothing is left behind).
 */
int check_write_junit(const char *path, const check_result_list *rl);

/** @brief Write @p s to @p f with the five XML special characters escaped (and control characters dropped). */
void check_xml_escape(FILE *f, const char *s);

#endif
