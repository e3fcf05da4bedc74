/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_xss.h: cross-site scripting by an HTML/JS-aware lexer (the `operator: xss` of rule
 * files).
 *
 * A value is read the way a browser would read it in each place a page may echo it:
 *   - HTML text: every '<' that opens a tag is tokenized (tag name, attributes with quoted or
 *     unquoted values, '/' separators), comments and CDATA sections are looked into;
 *   - inside a quoted or unquoted attribute value: what follows the closing quote (or the
 *     first whitespace) is read as more attributes of the same tag;
 *   - as a URL attribute value: the scheme, after entity decoding and the characters browsers
 *     drop (tab, newline, control bytes), is checked;
 *   - inside a JavaScript string: a closing quote followed by an operator and a call of a
 *     script sink (alert, eval, document.cookie ...).
 * Dangerous are: script-capable elements (script, iframe, object, embed, svg handlers, meta,
 * base, link, style ...), event-handler attributes (on...=) with code, javascript:/vbscript:/
 * data: URLs in any attribute, style with expression()/url(javascript:)/binding, srcdoc and
 * xlink/xmlns tricks, and JavaScript-string breakouts. Harmless markup (<b>, <a href=https:..>,
 * "<3", "a < b") is not.
 *
 * The state is fixed-size and owned by the caller; nothing is allocated.
 *
 * Usage:
 *     struct vg_xss_state st;
 *     struct vg_xss_result r;
 *     if (vg_xss_precheck(p, n) && vg_xss_detect(&st, p, n, &r)) ... r.reason, r.start, r.end
 */
#ifndef VG_DETECT_XSS_H
#define VG_DETECT_XSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VG_XSS_NAME_MAX 32u   /* longest tag or attribute name compared (longer: not a match) */
#define VG_XSS_URL_MAX 64u    /* bytes of an attribute value decoded to check its scheme */
#define VG_XSS_MAX_TAGS 256u  /* tags looked at per value (Performance note: bounds the work) */

enum vg_xss_reason {
    VG_XSS_R_NONE = 0,
    VG_XSS_R_TAG,       /* an element that runs or loads script (<script, <iframe, <object ...) */
    VG_XSS_R_HANDLER,   /* an event-handler attribute with code (onerror=alert(1)) */
    VG_XSS_R_URL,       /* a javascript:/vbscript:/data: URL */
    VG_XSS_R_STYLE,     /* CSS that runs script (expression(), url(javascript:), binding) */
    VG_XSS_R_ATTR,      /* srcdoc, xlink:href, xmlns, formaction and the like with active content */
    VG_XSS_R_JS,        /* a JavaScript string breakout into a script call */
    VG_XSS_R_COUNT
};

enum vg_xss_ctx {
    VG_XSS_CTX_TEXT = 0, /* HTML text */
    VG_XSS_CTX_ATTR,     /* after a closing quote or whitespace inside a tag */
    VG_XSS_CTX_URL,      /* the whole value as a URL */
    VG_XSS_CTX_JS,       /* inside a JavaScript string */
    VG_XSS_CTX_CSS,      /* inside a style */
    VG_XSS_CTX_COUNT
};

struct vg_xss_result {
    bool is_xss;
    enum vg_xss_ctx ctx;
    enum vg_xss_reason reason;
    size_t start;          /* the dangerous construct: [start, end) of the value */
    size_t end;
    char what[VG_XSS_NAME_MAX + 1]; /* the tag, attribute or scheme, lower case, NUL-ended */
};

/* Caller-owned scratch (no pointers to free). Not shared between threads. */
struct vg_xss_state {
    unsigned tags;                     /* tags looked at so far */
    uint8_t buf[VG_XSS_URL_MAX + 1];   /* a decoded attribute value prefix */
};

/*
 * True when s[0, n) contains a character an XSS needs: '<', a quote, '(' , '`', ':' or '='.
 * Performance note: one pass, the common benign value fails it.
 */
bool vg_xss_precheck(const uint8_t *s, size_t n);

/*
 * Decides whether s[0, n) carries script for some place a page may echo it. *out is fully
 * written. Never allocates; linear in n (at most VG_XSS_MAX_TAGS tags are examined).
 */
bool vg_xss_detect(struct vg_xss_state *st, const uint8_t *s, size_t n,
                   struct vg_xss_result *out);

/* "tag", "handler", "url", "style", "attr", "js"; "none"; NULL when out of range. */
const char *vg_xss_reason_name(enum vg_xss_reason r);
/* "text", "attribute", "url", "js", "css"; NULL when out of range. */
const char *vg_xss_ctx_name(enum vg_xss_ctx c);

#endif /* VG_DETECT_XSS_H */
