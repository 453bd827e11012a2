/* Encodings of the trace format (docs/traces.md): 64-bit values as "0x" hex
 * strings (JSON numbers lose bits above 2^53 in many readers), byte data as
 * "hex", "base64" or "zlib+base64" (RFC 1950 zlib stream, then base64). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "trace_internal.h"

json_object *trace_hex(uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
    return json_object_new_string(b);
}

bool trace_parse_hex(const char *s, uint64_t *v)
{
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2])
        return false;
    uint64_t x = 0;
    size_t digits = 0;
    for (const char *p = s + 2; *p; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            return false;
        if (x >> 60)
            return false; /* more than 64 bits */
        x = x << 4 | (uint64_t)d;
        if (++digits > 64)
            return false;
    }
    *v = x;
    return true;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64(const uint8_t *d, size_t n)
{
    char *o = malloc(4 * ((n + 2) / 3) + 1), *p = o;
    if (!o)
        return NULL;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        *p++ = b64[v >> 18], *p++ = b64[(v >> 12) & 63], *p++ = b64[(v >> 6) & 63], *p++ = b64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0);
        *p++ = b64[v >> 18], *p++ = b64[(v >> 12) & 63];
        *p++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        *p++ = '=';
    }
    *p = 0;
    return o;
}

static int b64val(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

/* Decode base64 into out; false on a bad character, bad length or overflow. */
static bool unbase64(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(s), o = 0;
    if (n % 4)
        return false;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = s[i + k] == '=' && i + 4 == n && k >= 2 ? 0 : b64val(s[i + k]);
            if (v[k] < 0)
                return false;
        }
        if (s[i + 2] == '=' && s[i + 3] != '=')
            return false;
        uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        int bytes = s[i + 2] == '=' ? 1 : s[i + 3] == '=' ? 2 : 3;
        for (int k = 0; k < bytes; k++) {
            if (o >= cap)
                return false;
            out[o++] = (uint8_t)(x >> (16 - 8 * k));
        }
    }
    *len = o;
    return true;
}

json_object *trace_encode(const uint8_t *data, size_t len, bool compress, const char **encoding)
{
    char *s = NULL;
    if (compress) {
        uLongf cl = compressBound(len);
        uint8_t *c = malloc(cl);
        if (c && compress2(c, &cl, data, len, 6) == Z_OK) {
            s = base64(c, cl);
            *encoding = "zlib+base64";
        }
        free(c);
    }
    if (!s) {
        s = base64(data, len);
        *encoding = "base64";
    }
    if (!s)
        return NULL;
    json_object *j = json_object_new_string(s);
    free(s);
    return j;
}

bool trace_decode(const char *encoding, const char *text, uint8_t *out, size_t cap, size_t *len, char *why,
                  size_t whysize)
{
    if (strcmp(encoding, "hex") == 0) {
        size_t n = strlen(text);
        if (n % 2 || n / 2 > cap) {
            snprintf(why, whysize, n % 2 ? "odd number of hex digits" : "more than %zu bytes", cap);
            return false;
        }
        for (size_t i = 0; i < n / 2; i++) {
            char b[3] = {text[2 * i], text[2 * i + 1], 0};
            char *end;
            if (!((b[0] >= '0' && b[0] <= '9') || (b[0] | 32) >= 'a') || strtoul(b, &end, 16) > 255 || *end) {
                snprintf(why, whysize, "not hex digits at byte %zu", i);
                return false;
            }
            out[i] = (uint8_t)strtoul(b, NULL, 16);
        }
        *len = n / 2;
        return true;
    }
    if (strcmp(encoding, "base64") == 0) {
        if (!unbase64(text, out, cap, len)) {
            snprintf(why, whysize, "bad base64 data (or more than %zu bytes)", cap);
            return false;
        }
        return true;
    }
    if (strcmp(encoding, "zlib+base64") == 0) {
        size_t n = strlen(text);
        uint8_t *c = malloc(n / 4 * 3 + 3);
        size_t cl = 0;
        if (!c || !unbase64(text, c, n / 4 * 3 + 3, &cl)) {
            free(c);
            snprintf(why, whysize, "bad base64 data");
            return false;
        }
        uLongf ol = cap;
        int zr = uncompress(out, &ol, c, cl);
        free(c);
        if (zr != Z_OK) {
            snprintf(why, whysize, zr == Z_BUF_ERROR ? "compressed data expands beyond %zu bytes"
                                                     : "bad zlib data", cap);
            return false;
        }
        *len = ol;
        return true;
    }
    snprintf(why, whysize, "unknown encoding '%s' (hex, base64 or zlib+base64)", encoding);
    return false;
}
