/* Output files that appear only when complete: written under a temporary name
 * in the target's directory (mkstemp), renamed over the target at the end. */
#include <errno.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "trace_internal.h"

vtx_status trace_fail(vtx_trace_error *err, const char *file, long line, vtx_status st, const char *fmt, ...)
{
    if (err) {
        if (file)
            snprintf(err->file, sizeof err->file, "%s", file);
        err->line = line;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return st;
}

int vtx_trace_error_format(const vtx_trace_error *err, char *buf, size_t size)
{
    if (!err)
        return snprintf(buf, size, "?");
    if (err->line > 0)
        return snprintf(buf, size, "%s:%ld: %s", err->file, err->line, err->message);
    return snprintf(buf, size, "%s: %s", err->file, err->message);
}

vtx_status trace_out_open(trace_out *o, const char *path, vtx_trace_error *err)
{
    memset(o, 0, sizeof *o);
    size_t n = strlen(path);
    o->path = malloc(n + 1);
    o->tmp = malloc(n + 16);
    if (!o->path || !o->tmp) {
        free(o->path);
        free(o->tmp);
        return trace_fail(err, path, 0, VTX_ERR_NO_MEMORY, "out of memory");
    }
    memcpy(o->path, path, n + 1);
    snprintf(o->tmp, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(o->tmp);
        }
        free(o->path);
        free(o->tmp);
        o->path = o->tmp = NULL;
        return trace_fail(err, path, 0, VTX_ERR_IO, "cannot create the output file: %s", strerror(e));
    }
    mode_t um = umask(0);
    umask(um);
    fchmod(fileno(o->f), 0666 & ~um); /* mkstemp's 0600 would survive the rename */
    return VTX_OK;
}

vtx_status trace_out_line(trace_out *o, json_object *j)
{
    const char *s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (fputs(s, o->f) == EOF || fputc('\n', o->f) == EOF)
        return VTX_ERR_IO;
    return VTX_OK;
}

vtx_status trace_out_close(trace_out *o, vtx_trace_error *err)
{
    int bad = ferror(o->f);
    bad |= fflush(o->f) != 0;
    bad |= fsync(fileno(o->f)) != 0 && errno != EINVAL;
    bad |= fclose(o->f) != 0;
    o->f = NULL;
    if (bad || rename(o->tmp, o->path) != 0) {
        int e = errno;
        unlink(o->tmp);
        vtx_status st = trace_fail(err, o->path, 0, VTX_ERR_IO, "cannot write the output file: %s", strerror(e));
        free(o->path);
        free(o->tmp);
        o->path = o->tmp = NULL;
        return st;
    }
    free(o->path);
    free(o->tmp);
    o->path = o->tmp = NULL;
    return VTX_OK;
}

void trace_out_abort(trace_out *o)
{
    if (o->f)
        fclose(o->f);
    if (o->tmp)
        unlink(o->tmp);
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
}

void trace_copy_line(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n < size) {
        memcpy(dst, src, n + 1);
        return;
    }
    memcpy(dst, src, size - 5);
    memcpy(dst + size - 5, "...", 4);
}

void trace_note_action(char *actions, size_t size, const vtx_trace_record *rec)
{
    char line[400];
    snprintf(line, sizeof line, "%ld: ", rec->line);
    size_t h = strlen(line);
    trace_copy_line(line + h, sizeof line - h - 1, rec->text);
    strcat(line, "\n");
    size_t n = strlen(actions), k = strlen(line);
    while (n + k >= size) {
        char *nl = strchr(actions, '\n');
        if (!nl)
            break;
        memmove(actions, nl + 1, n - (size_t)(nl + 1 - actions) + 1);
        n = strlen(actions);
    }
    if (n + k < size)
        memcpy(actions + n, line, k + 1);
}
