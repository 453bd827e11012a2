/* vtxref check --junit: the results as JUnit XML (tools/check_report.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check_report.h"

void check_xml_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if (c >= 0x20 || c == '\n' || c == '\t')
                fputc(c, f); /* other control characters are not allowed in XML 1.0 */
            break;
        }
    }
}

static void attr(FILE *f, const char *name, const char *value)
{
    fprintf(f, " %s=\"", name);
    check_xml_escape(f, value);
    fputc('"', f);
}

int check_write_junit(const char *path, const check_result_list *rl)
{
    size_t fails = 0, errors = 0, skips = 0;
    for (size_t i = 0; i < rl->n; i++) {
        check_kind k = rl->records[i]->kind;
        fails += k == CHECK_FAIL;
        errors += k == CHECK_ERROR;
        skips += k == CHECK_SKIP;
    }
    char *tmp;
    if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        int e = errno;
        free(tmp);
        errno = e;
        return -1;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\">\n", rl->n, fails, errors,
            skips);
    fprintf(f, "  <testsuite name=\"vtxref check\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\">\n",
            rl->n, fails, errors, skips);
    for (size_t i = 0; i < rl->n; i++) {
        const check_record *r = rl->records[i];
        fputs("    <testcase", f);
        attr(f, "name", r->name);
        attr(f, "classname", rl->paths[i]);
        attr(f, "file", rl->paths[i]);
        switch (r->kind) {
        case CHECK_PASS:
            fputs("/>\n", f);
            break;
        case CHECK_FAIL:
            fputs(">\n      <failure", f);
            attr(f, "message", r->message);
            fputs(" type=\"mismatch\">", f);
            check_xml_escape(f, r->message);
            fputs("</failure>\n    </testcase>\n", f);
            break;
        case CHECK_SKIP:
            fputs(">\n      <skipped", f);
            attr(f, "message", r->message);
            fputs("/>\n    </testcase>\n", f);
            break;
        default:
            fputs(">\n      <error", f);
            attr(f, "message", r->message);
            fputs(" type=\"bad input\">", f);
            check_xml_escape(f, r->message);
            fputs("</error>\n    </testcase>\n", f);
            break;
        }
    }
    fputs("  </testsuite>\n</testsuites>\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        int e = errno ? errno : EIO;
        unlink(tmp);
        free(tmp);
        errno = e;
        return -1;
    }
    free(tmp);
    return 0;
}
