/*
 * isoc23.c: the three C23 entry points that the uWebSockets.js Linux binaries import from
 * glibc 2.38 (__isoc23_strtol, __isoc23_strtoul, __isoc23_sscanf), implemented on top of the
 * pre-C23 functions of an older glibc (Debian 12 ships 2.36).
 *
 * Why this exists: a program compiled against glibc >= 2.38 in C2x/C23 mode (or with
 * _GNU_SOURCE) has its strtol/strtoul/sscanf calls redirected to these __isoc23_ names. The
 * only behavioural difference is that C23 accepts a "0b"/"0B" binary prefix (base 0 or 2;
 * and %b / %i with 0b in scanf). We reproduce the prefix for strtol/strtoul; sscanf forwards
 * to vsscanf unchanged (no %b), which is enough for uWS (it never parses binary literals).
 *
 * This library is built by bench/e2e/lib/build.mjs with the version script isoc23.map (so the
 * symbols are defined as name@@GLIBC_2.38) and loaded with LD_PRELOAD into the uWS server
 * process only. The uWS .node file itself is copied and patched (patch-verneed.mjs) so that
 * its requirement "libc.so.6 must define GLIBC_2.38" is marked weak; see README.md.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* If s (after leading white space and an optional sign) starts with 0b/0B followed by a binary
 * digit and base allows it, return a pointer to the first binary digit and set *neg; else NULL.
 * The white-space set is that of isspace() in the "C" locale, which is what strtol uses. */
static const char *binary_digits(const char *s, int base, int *neg) {
  if (s == NULL || (base != 0 && base != 2)) return NULL;
  while (*s == ' ' || (*s >= '\t' && *s <= '\r')) s++;
  *neg = 0;
  if (*s == '+' || *s == '-') {
    *neg = (*s == '-');
    s++;
  }
  if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B') && (s[2] == '0' || s[2] == '1')) return s + 2;
  return NULL;
}

/* Magnitude of the binary digits at p, strtoul-style: *overflow set on ERANGE. */
static unsigned long binary_magnitude(const char *p, char **endptr, int *overflow) {
  int saved = errno;
  errno = 0;
  unsigned long v = strtoul(p, endptr, 2); /* p starts with a digit: no sign, no space */
  *overflow = (errno == ERANGE);
  errno = saved;
  return v;
}

long __isoc23_strtol(const char *s, char **endptr, int base) {
  int neg;
  const char *p = binary_digits(s, base, &neg);
  if (p == NULL) return strtol(s, endptr, base);
  int overflow;
  unsigned long mag = binary_magnitude(p, endptr, &overflow);
  const unsigned long limit = neg ? (unsigned long)LONG_MAX + 1UL : (unsigned long)LONG_MAX;
  if (overflow || mag > limit) {
    errno = ERANGE;
    return neg ? LONG_MIN : LONG_MAX;
  }
  if (!neg) return (long)mag;
  if (mag == (unsigned long)LONG_MAX + 1UL) return LONG_MIN;
  return -(long)mag;
}

unsigned long __isoc23_strtoul(const char *s, char **endptr, int base) {
  int neg;
  const char *p = binary_digits(s, base, &neg);
  if (p == NULL) return strtoul(s, endptr, base);
  int overflow;
  unsigned long mag = binary_magnitude(p, endptr, &overflow);
  if (overflow) {
    errno = ERANGE;
    return ULONG_MAX;
  }
  return neg ? 0UL - mag : mag; /* strtoul negates in unsigned arithmetic */
}

int __isoc23_sscanf(const char *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vsscanf(s, fmt, ap);
  va_end(ap);
  return r;
}
