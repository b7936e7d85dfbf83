/* The typed Hong Kong number both _phonefast.c (TypedHK, a single check) and _rowscan.c (the
 * ingest's plain report lines) recognise: one definition, so the two cannot drift apart.
 *
 * hk_national_of(s, n, buf): the 8 national digits of s[0..n) when it is 1..20 characters of
 * digits and the separators " -()" only (a leading '+' or '(' allowed, a digit last), and its
 * digits are 8 not starting with '0' nor "852" with no '+' (a subscriber number), or "852"
 * and 8 digits not starting with '0' (with or without the '+'); else NULL. buf holds at least
 * 11 bytes; the result points into it. What a match means (and the prefix-table test that
 * follows it) is in _phonefast.c's module comment. Include after Python.h.
 */
#ifndef SCAMETER_HKPHONE_H
#define SCAMETER_HKPHONE_H

static const char *
hk_national_of(const char *s, Py_ssize_t n, char *buf)
{
    if (n == 0 || n > 20) {
        return NULL;
    }
    char first = s[0], last = s[n - 1];
    if (!((first >= '0' && first <= '9') || first == '+' || first == '(')) {
        return NULL;
    }
    if (!(last >= '0' && last <= '9')) {
        return NULL;
    }
    int plus = first == '+';
    int nd = 0;
    for (Py_ssize_t i = plus; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (nd == 11) {
                return NULL;
            }
            buf[nd++] = c;
        }
        else if (c != ' ' && c != '-' && c != '(' && c != ')') {
            return NULL;
        }
    }
    int cc = nd >= 3 && buf[0] == '8' && buf[1] == '5' && buf[2] == '2';
    const char *national;
    if (nd == 8 && !plus && !cc) {
        national = buf;
    }
    else if (nd == 11 && cc) {
        national = buf + 3;
    }
    else {
        return NULL;
    }
    return national[0] == '0' ? NULL : national;
}

#endif /* SCAMETER_HKPHONE_H */
