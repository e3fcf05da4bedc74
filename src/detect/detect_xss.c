/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_xss.c: cross-site scripting by an HTML/JS-aware lexer. See detect_xss.h.
 *
 * The HTML tokenizer follows the browser's rules where they matter for an attacker: a tag
 * opens with '<' and a letter; its name runs to whitespace, '/' or '>'; attributes are
 * separated by whitespace or '/'; an attribute name runs to whitespace, '/', '>' or '=';
 * values are "..", '..', `..` (old IE) or unquoted to whitespace or '>'; a tag left open at
 * the end of the value still counts (the page supplies the '>'). Attribute values are entity
 * decoded and stripped of tab, newline and control bytes before their scheme is compared,
 * as browsers do ("jav&#x09;ascript:", "&#106;avascript:"). CSS is normalized (comments and
 * backslash escapes removed, whitespace dropped) before expression()/url(javascript:) are
 * looked for. Comments, CDATA and processing instructions are not skipped: a tag inside them
 * counts too, since the same value may land outside them.
 *
 * Invariants: no allocation; every loop advances; reads stay inside s[0, n); at most
 * VG_XSS_MAX_TAGS tags per value.
 */
#include "detect/detect_xss.h"

#include <string.h>

/* ---- small helpers ----------------------------------------------------------------------- */

static uint8_t vg_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static bool vg_alpha(uint8_t c)
{
    c = vg_lower(c);
    return c >= 'a' && c <= 'z';
}

static bool vg_alnum(uint8_t c)
{
    return vg_alpha(c) || (c >= '0' && c <= '9');
}

/* HTML whitespace, plus the control bytes browsers skip in tags. */
static bool vg_hspace(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0;
}

/* Case-insensitive equality of s[0, n) with the lower-case literal lit. */
static bool vg_ieq(const uint8_t *s, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++)
        if (vg_lower(s[i]) != (uint8_t)lit[i])
            return false;
    return true;
}

static bool vg_in_list(const uint8_t *s, size_t n, const char *const *list, size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (vg_ieq(s, n, list[i]))
            return true;
    return false;
}

static void vg_set_what(struct vg_xss_result *r, const uint8_t *s, size_t n)
{
    size_t m = n < VG_XSS_NAME_MAX ? n : VG_XSS_NAME_MAX;
    for (size_t i = 0; i < m; i++) {
        uint8_t c = vg_lower(s[i]);
        r->what[i] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
    }
    r->what[m] = 0;
}

static bool vg_hit(struct vg_xss_result *r, enum vg_xss_ctx ctx, enum vg_xss_reason why,
                   size_t start, size_t end, const uint8_t *what, size_t wn)
{
    r->is_xss = true;
    r->ctx = ctx;
    r->reason = why;
    r->start = start;
    r->end = end;
    vg_set_what(r, what, wn);
    return true;
}

/* ---- entity decoding of an attribute value prefix ---------------------------------------- */

/*
 * Decodes one character reference at s[i] ('&'); returns its length and the code point in
 * *cp, or 0 when it is not one. Numeric references may omit the ';' (browsers accept that);
 * named ones are the few that matter in a URL scheme or script.
 */
static size_t vg_entity(const uint8_t *s, size_t n, size_t i, uint32_t *cp)
{
    size_t j = i + 1;
    if (j < n && s[j] == '#') {
        j++;
        bool hex = j < n && (s[j] == 'x' || s[j] == 'X');
        if (hex)
            j++;
        uint32_t v = 0;
        size_t d = 0;
        while (j < n && d < 10) {
            uint8_t c = vg_lower(s[j]);
            int x = (c >= '0' && c <= '9') ? c - '0'
                    : (hex && c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
            if (x < 0)
                break;
            v = v * (hex ? 16u : 10u) + (uint32_t)x;
            if (v > 0x10ffff)
                v = 0x10ffff + 1;
            j++;
            d++;
        }
        if (d == 0)
            return 0;
        if (j < n && s[j] == ';')
            j++;
        *cp = v;
        return j - i;
    }
    static const struct {
        const char *name;
        uint32_t cp;
    } named[] = {{"colon;", ':'}, {"tab;", '\t'}, {"newline;", '\n'}, {"lpar;", '('},
                 {"rpar;", ')'}, {"sol;", '/'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'},
                 {"apos;", '\''}, {"amp;", '&'}, {"grave;", '`'}, {"period;", '.'},
                 {"excl;", '!'}, {"num;", '#'}, {"equals;", '='}, {"semi;", ';'}};
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
        size_t m = strlen(named[k].name);
        if (j + m <= n && vg_ieq(s + j, m, named[k].name)) {
            *cp = named[k].cp;
            return 1 + m;
        }
    }
    return 0;
}

/*
 * Writes the first bytes of an attribute value as the browser sees it: entities decoded,
 * tab/newline/control bytes removed, leading spaces dropped, lower case. Returns the length.
 */
static size_t vg_url_prefix(const uint8_t *v, size_t n, uint8_t *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < cap;) {
        uint32_t c = v[i];
        size_t len = 1;
        if (c == '&') {
            uint32_t cp;
            size_t m = vg_entity(v, n, i, &cp);
            if (m) {
                c = cp;
                len = m;
            }
        }
        i += len;
        if (c <= 0x20 || c == 0x7f)
            continue; /* browsers drop these in URLs (leading spaces and tab/newline anywhere) */
        if (c >= 0x80) {
            if (k == 0)
                continue; /* leading non-ASCII junk (\xe2\x80\xa8 ...) */
            c = '?';
        }
        out[k++] = vg_lower((uint8_t)c);
    }
    return k;
}

/* The active scheme a URL starts with, or NULL. data: counts unless it is a raster image. */
static const char *vg_bad_scheme(const uint8_t *u, size_t k)
{
    static const char *const schemes[] = {"javascript:", "vbscript:", "livescript:",
                                          "mocha:", "jscript:"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t m = strlen(schemes[i]);
        if (k >= m && memcmp(u, schemes[i], m) == 0)
            return schemes[i];
    }
    if (k >= 5 && memcmp(u, "data:", 5) == 0) {
        static const char *const safe[] = {"image/png", "image/gif", "image/jpeg", "image/jpg",
                                           "image/webp", "image/bmp", "image/x-icon",
                                           "image/vnd", "font/", "audio/", "video/",
                                           "application/octet", "application/font"};
        for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++) {
            size_t m = strlen(safe[i]);
            if (k >= 5 + m && memcmp(u + 5, safe[i], m) == 0)
                return NULL;
        }
        /* data:,<script>  data:text/html  data:image/svg+xml  data:;base64, */
        return k > 5 ? "data:" : NULL;
    }
    return NULL;
}

/* ---- CSS ----------------------------------------------------------------------------------- */

/*
 * True when CSS text s[0, n) can run script: expression(, url(javascript:, -moz-binding,
 * behavior:, @import of a javascript: URL. The text is normalized on the fly (comments and
 * backslash escapes removed, whitespace dropped, lower case) into a short rolling window.
 */
static bool vg_css_bad(const uint8_t *s, size_t n, const char **what)
{
    static const char *const pats[] = {"expression(", "url(javascript:", "url(vbscript:",
                                       "url('javascript:", "url(\"javascript:",
                                       "-moz-binding:", "behavior:", "behaviour:",
                                       "javascript:", "vbscript:"};
    uint8_t win[24];
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            const uint8_t *e = NULL;
            for (size_t k = i + 2; k + 1 < n; k++)
                if (s[k] == '*' && s[k + 1] == '/') {
                    e = s + k + 2;
                    break;
                }
            i = e ? (size_t)(e - s) : n;
            continue;
        }
        if (c == '\\' && i + 1 < n) {
            /* \65 \0065 hex escapes, \x any other */
            size_t j = i + 1, d = 0;
            uint32_t v = 0;
            while (j < n && d < 6) {
                uint8_t h = vg_lower(s[j]);
                int x = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : -1;
                if (x < 0)
                    break;
                v = v * 16 + (uint32_t)x;
                j++;
                d++;
            }
            if (d) {
                if (j < n && vg_hspace(s[j]))
                    j++;
                c = v < 0x80 ? (uint8_t)v : '?';
                i = j;
            } else {
                c = s[i + 1];
                i += 2;
            }
        } else {
            i++;
        }
        if (vg_hspace(c) || c < 0x20)
            continue;
        c = vg_lower(c);
        if (w == sizeof win) {
            memmove(win, win + 1, sizeof win - 1);
            w--;
        }
        win[w++] = c;
        if (c != '(' && c != ':')
            continue; /* every pattern ends with '(' or ':' */
        for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
            size_t m = strlen(pats[k]);
            if (w >= m && memcmp(win + w - m, pats[k], m) == 0) {
                *what = pats[k];
                return true;
            }
        }
    }
    return false;
}

/* True when a value read as style text runs script there: expression() or url(javascript:); a
   property name such as "behavior:" alone is ordinary text. *what names the construct. */
static bool vg_css_runs_script(const uint8_t *s, size_t n, const char **what)
{
    *what = NULL;
    return vg_css_bad(s, n, what) &&
           (strcmp(*what, "expression(") == 0 || strncmp(*what, "url(", 4) == 0);
}

/* ---- tags and attributes ------------------------------------------------------------------- */

/* Elements that run or load script, or change where the page's links and scripts go. */
static bool vg_bad_tag(const uint8_t *s, size_t n)
{
    static const char *const tags[] = {
        "script", "iframe", "frame", "frameset", "object", "embed", "applet", "meta", "base",
        "link", "style", "xml", "import", "isindex", "xss", "vmlframe", "handler", "listener",
        "portal", "noscript", "layer", "ilayer", "bgsound", "svg:script", "xsl:stylesheet"};
    /* a namespace prefix (svg:script) is compared whole and by its local name */
    if (vg_in_list(s, n, tags, sizeof tags / sizeof tags[0]))
        return true;
    /* SVG and XSL elements (svg, svg:svg, xsl:...) carry handlers and scripts of their own */
    if (n >= 3 && (vg_ieq(s, 3, "svg") || vg_ieq(s, 3, "xsl")))
        return true;
    /* <script<{..}: the name runs on past the word; compare the leading word */
    size_t w = 0;
    while (w < n && vg_alnum(s[w]))
        w++;
    if (w < n && w >= 3 && vg_in_list(s, w, tags, 8))
        return true;
    const uint8_t *colon = memchr(s, ':', n);
    if (colon) {
        size_t off = (size_t)(colon - s) + 1;
        return vg_in_list(s + off, n - off, tags, 8);
    }
    return false;
}

/* "on" + letters: an event-handler attribute name. */
static bool vg_handler_name(const uint8_t *s, size_t n)
{
    if (n < 5 || vg_lower(s[0]) != 'o' || vg_lower(s[1]) != 'n')
        return false;
    for (size_t i = 2; i < n; i++)
        if (!vg_alpha(s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

/* A handler value that is code: a call, an assignment, a template, a member access, an
   escape or entity hiding one ... (not "1" or "yes"). */
static bool vg_code_value(const uint8_t *v, size_t n)
{
    bool letters = false, special = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = v[i];
        if (vg_alpha(c))
            letters = true;
        if (c == '(' || c == '`')
            return true;
        if (c == '=' || c == '[' || c == '&' || c == '\\' || c == ';' ||
            (c == '.' && i + 1 < n && vg_alpha(v[i + 1])) || c == ':')
            special = true;
    }
    return letters && special;
}

struct vg_attr {
    size_t name, name_n;    /* offsets into the value */
    size_t val, val_n;
    bool has_val;
    size_t end;             /* after the attribute */
};

/*
 * Reads one attribute at s[i] (whitespace and '/' before it already skipped). Returns false at
 * '>' or the end of the value.
 */
static bool vg_read_attr(const uint8_t *s, size_t n, size_t i, struct vg_attr *a)
{
    if (i >= n || s[i] == '>')
        return false;
    a->name = i;
    /* the first character may be '=' (browsers keep it in the name) */
    size_t j = i + 1;
    while (j < n && !vg_hspace(s[j]) && s[j] != '/' && s[j] != '>' && s[j] != '=')
        j++;
    a->name_n = j - i;
    a->has_val = false;
    a->val = a->val_n = 0;
    size_t k = j;
    while (k < n && vg_hspace(s[k]))
        k++;
    if (k < n && s[k] == '=') {
        k++;
        while (k < n && vg_hspace(s[k]))
            k++;
        a->has_val = true;
        if (k < n && (s[k] == '"' || s[k] == '\'' || s[k] == '`')) {
            const uint8_t *q = memchr(s + k + 1, s[k], n - k - 1);
            a->val = k + 1;
            a->val_n = q ? (size_t)(q - s) - a->val : n - a->val;
            a->end = q ? (size_t)(q - s) + 1 : n;
        } else {
            size_t e = k;
            while (e < n && !vg_hspace(s[e]) && s[e] != '>')
                e++;
            a->val = k;
            a->val_n = e - k;
            a->end = e;
        }
    } else {
        a->end = j;
    }
    return true;
}

/* Judges one attribute; records a hit in r. */
static bool vg_judge_attr(struct vg_xss_state *st, const uint8_t *s, const struct vg_attr *a,
                          enum vg_xss_ctx ctx, struct vg_xss_result *r)
{
    const uint8_t *name = s + a->name;
    const uint8_t *val = s + a->val;
    if (!a->has_val)
        return false;
    /* Inside a tag the page did not write (text context) any handler is script; after a
       breakout (attribute context) the value must read as code. */
    if (vg_handler_name(name, a->name_n) &&
        (ctx == VG_XSS_CTX_TEXT ? a->val_n > 0 : vg_code_value(val, a->val_n)))
        return vg_hit(r, ctx, VG_XSS_R_HANDLER, a->name, a->end, name, a->name_n);
    if (vg_ieq(name, a->name_n, "style")) {
        const char *what = NULL;
        if (vg_css_bad(val, a->val_n, &what))
            return vg_hit(r, ctx, VG_XSS_R_STYLE, a->name, a->end, (const uint8_t *)what,
                          strlen(what));
        /* CSS syntax abuse (escapes, braces, comments, url()) inside an injected tag */
        static const char *const abuse[] = {"\\", "{", "}", "/*", "[", "url(", "&#",
                                            "import", "binding", "behavio"};
        for (size_t k = 0; ctx == VG_XSS_CTX_TEXT && k < sizeof abuse / sizeof abuse[0]; k++) {
            size_t m = strlen(abuse[k]);
            for (size_t i = 0; i + m <= a->val_n; i++)
                if (vg_ieq(val + i, m, abuse[k]))
                    return vg_hit(r, ctx, VG_XSS_R_STYLE, a->name, a->end, name, a->name_n);
        }
    }
    /* namespaces and links of SVG/XML, IE data binding, SVG animation of attributes: inside
       a tag the value injected */
    if (ctx == VG_XSS_CTX_TEXT && a->val_n > 0 &&
        ((a->name_n >= 5 && vg_ieq(name, 5, "xmlns")) ||
                         (a->name_n > 6 && vg_ieq(name, 6, "xlink:")) ||
                         vg_ieq(name, a->name_n, "datasrc") ||
                         vg_ieq(name, a->name_n, "dataformatas") ||
                         (vg_ieq(name, a->name_n, "attributename") &&
                          (vg_handler_name(val, a->val_n) || vg_ieq(val, a->val_n, "href") ||
                           vg_ieq(val, a->val_n, "xlink:href") ||
                           vg_ieq(val, a->val_n, "innerhtml")))))
        return vg_hit(r, ctx, VG_XSS_R_ATTR, a->name, a->end, name, a->name_n);
    bool markup = memchr(val, '<', a->val_n) != NULL;
    for (size_t i = 0; !markup && i + 1 < a->val_n; i++)
        markup = val[i] == '&' && (val[i + 1] == '#' || vg_lower(val[i + 1]) == 'l');
    if (vg_ieq(name, a->name_n, "srcdoc") && markup) /* markup, maybe entity-encoded */
        return vg_hit(r, ctx, VG_XSS_R_ATTR, a->name, a->end, name, a->name_n);
    size_t k = vg_url_prefix(val, a->val_n, st->buf, VG_XSS_URL_MAX);
    const char *sch = vg_bad_scheme(st->buf, k);
    if (sch)
        return vg_hit(r, ctx, VG_XSS_R_URL, a->name, a->end, (const uint8_t *)sch, strlen(sch));
    for (size_t i = 1; i + 11 <= k; i++)
        if (memcmp(st->buf + i, "javascript:", 11) == 0 || memcmp(st->buf + i, "vbscript:", 9) == 0)
            return vg_hit(r, ctx, VG_XSS_R_URL, a->name, a->end, st->buf + i, 10);
    size_t v0 = 0;
    while (v0 < a->val_n && vg_hspace(val[v0]))
        v0++;
    if (v0 + 1 < a->val_n && val[v0] == '&' && val[v0 + 1] == '{') /* Netscape &{...} */
        return vg_hit(r, ctx, VG_XSS_R_ATTR, a->name, a->end, name, a->name_n);
    return false;
}

/* Judges the attributes from s[i] to the end of the tag. */
static bool vg_judge_attrs(struct vg_xss_state *st, const uint8_t *s, size_t n, size_t i,
                           enum vg_xss_ctx ctx, struct vg_xss_result *r, size_t *end)
{
    struct vg_attr a;
    for (unsigned guard = 0; guard < 4096; guard++) {
        while (i < n && (vg_hspace(s[i]) || s[i] == '/'))
            i++;
        if (!vg_read_attr(s, n, i, &a)) {
            *end = i < n ? i + 1 : n;
            return false;
        }
        if (vg_judge_attr(st, s, &a, ctx, r))
            return true;
        i = a.end > i ? a.end : i + 1;
    }
    *end = i;
    return false;
}

/*
 * A dangerous element counts when it can act: it has an attribute (or junk in its name, or
 * is left open at the end), or code follows it before the next tag. "<script> tag" or
 * "<iframe> vs <frame>" (people asking about HTML) do not.
 */
static bool vg_tag_active(const uint8_t *s, size_t n, size_t name, size_t e)
{
    for (size_t k = name; k < e; k++)
        if (!vg_alnum(s[k]))
            return true; /* svg:script, script<{...} */
    size_t i = e;
    while (i < n && (vg_hspace(s[i]) || s[i] == '/'))
        i++;
    if (i >= n)
        return i > e; /* "<script " or "<script/" left open */
    if (s[i] != '>')
        return true; /* an attribute */
    for (i++; i < n && s[i] != '<'; i++) {
        uint8_t c = s[i];
        if (c == '(' || c == '=' || c == '`' || c == ';' || c == '{' || c == '@' ||
            c == '\\' || (c == '.' && i + 1 < n && vg_alpha(s[i + 1]) && i > 0 && vg_alnum(s[i - 1])))
            return true;
    }
    /* "<script></script>" with nothing between: only after a breakout ("><script>") */
    return false;
}

/* Text context: every tag of the value. */
static bool vg_judge_text(struct vg_xss_state *st, const uint8_t *s, size_t n,
                          struct vg_xss_result *r)
{
    size_t i = 0;
    while (i < n) {
        const uint8_t *lt = memchr(s + i, '<', n - i);
        if (!lt)
            return false;
        size_t t = (size_t)(lt - s);
        i = t + 1;
        if (i < n && (s[i] == '!' || s[i] == '?')) {
            /* <!DOCTYPE x [ <!ENTITY ...  <!ATTLIST  <?import  <?xml-stylesheet */
            static const char *const decl[] = {"!entity", "!attlist", "!element", "?import",
                                               "?xml-stylesheet"};
            for (size_t k = 0; k < sizeof decl / sizeof decl[0]; k++) {
                size_t m = strlen(decl[k]);
                if (i + m <= n && vg_ieq(s + i, m, decl[k]))
                    return vg_hit(r, VG_XSS_CTX_TEXT, VG_XSS_R_TAG, t, i + m, s + i, m);
            }
            if (i + 9 <= n && vg_ieq(s + i, 8, "!doctype") && memchr(s + i, '[', n - i))
                return vg_hit(r, VG_XSS_CTX_TEXT, VG_XSS_R_TAG, t, i + 8, s + i, 8);
            continue;
        }
        if (i >= n || !vg_alpha(s[i]))
            continue; /* "<3", "a < b", "</x>", "<!--" : no tag opens */
        if (++st->tags > VG_XSS_MAX_TAGS)
            return false;
        size_t e = i;
        while (e < n && !vg_hspace(s[e]) && s[e] != '/' && s[e] != '>')
            e++;
        /* after a breakout ('">', "'>", '>') a dangerous element counts whatever follows */
        size_t b = t;
        while (b > 0 && vg_hspace(s[b - 1]))
            b--;
        bool breakout = b > 0 && s[b - 1] == '>';
        if (vg_bad_tag(s + i, e - i) && (breakout || vg_tag_active(s, n, i, e)))
            return vg_hit(r, VG_XSS_CTX_TEXT, VG_XSS_R_TAG, t, e, s + i, e - i);
        size_t end = n;
        if (vg_judge_attrs(st, s, n, e, VG_XSS_CTX_TEXT, r, &end))
            return true;
        /* continue after the tag's name: a '<' inside an attribute value is looked at too */
        i = e;
    }
    return false;
}

/* ---- JavaScript string breakout ------------------------------------------------------------ */

/* True when s[i] starts a call (or template) of a script sink, at an identifier boundary. */
static bool vg_sink_at(const uint8_t *s, size_t n, size_t i, size_t *len)
{
    static const char *const sinks[] = {
        "alert", "prompt", "confirm", "eval", "settimeout", "setinterval", "function",
        "fromcharcode", "atob", "fetch", "import", "execscript", "constructor", "write",
        "writeln", "open", "print", "console.log", "xmlhttprequest", "top", "self",
        "parent", "window", "globalthis"};
    if (i > 0 && (vg_alnum(s[i - 1]) || s[i - 1] == '_' || s[i - 1] == '$'))
        return false;
    for (size_t k = 0; k < sizeof sinks / sizeof sinks[0]; k++) {
        size_t m = strlen(sinks[k]);
        if (i + m > n || !vg_ieq(s + i, m, sinks[k]))
            continue;
        size_t j = i + m;
        if (j < n && (vg_alnum(s[j]) || s[j] == '_'))
            continue;
        while (j < n && vg_hspace(s[j]))
            j++;
        /* alert(1)  alert`1`  top['al'+'ert'](1)  window.alert */
        if (j < n && (s[j] == '(' || s[j] == '`' || (k >= 20 && (s[j] == '[' || s[j] == '.')))) {
            *len = j + 1 - i;
            return true;
        }
    }
    /* document.cookie / document.domain / location= / .innerHTML= */
    static const char *const props[] = {"document.cookie", "document.domain", "document.write",
                                        "location=", "location.href", "innerhtml=",
                                        "outerhtml="};
    for (size_t k = 0; k < sizeof props / sizeof props[0]; k++) {
        size_t m = strlen(props[k]);
        if (i + m <= n && vg_ieq(s + i, m, props[k])) {
            *len = m;
            return true;
        }
    }
    return false;
}

/*
 * A quote q closes a JavaScript string: after it come (optionally) ')', ']' or '}', then an
 * operator or ';', then script reaching a sink. "';alert(1)//", "\"-alert(1)-\"".
 */
static bool vg_judge_js(const uint8_t *s, size_t n, uint8_t q, struct vg_xss_result *r)
{
    const uint8_t *p = memchr(s, q, n);
    if (!p)
        return false;
    size_t i = (size_t)(p - s) + 1;
    while (i < n && (vg_hspace(s[i]) || s[i] == ')' || s[i] == ']' || s[i] == '}'))
        i++;
    if (i >= n || !strchr(";+-*/,|&?^%<>=", s[i]) || s[i] == 0)
        return false;
    if (s[i] == '/' && i + 1 < n && (s[i + 1] == '/' || s[i + 1] == '*'))
        return false;
    size_t from = i;
    i++;
    size_t limit = n - i > 256 ? i + 256 : n;
    for (; i < limit; i++) {
        size_t len;
        if ((vg_alpha(s[i]) || s[i] == '.') && vg_sink_at(s, n, i, &len))
            return vg_hit(r, VG_XSS_CTX_JS, VG_XSS_R_JS, from - 1, i + len, s + i, len);
    }
    return false;
}

/* ${...} in a template literal reaching a sink. */
static bool vg_judge_template(const uint8_t *s, size_t n, struct vg_xss_result *r)
{
    for (size_t i = 0; i + 2 < n; i++) {
        if (s[i] != '$' || s[i + 1] != '{')
            continue;
        size_t limit = n - i > 128 ? i + 128 : n;
        for (size_t j = i + 2; j < limit && s[j] != '}'; j++) {
            size_t len;
            if (vg_alpha(s[j]) && vg_sink_at(s, n, j, &len))
                return vg_hit(r, VG_XSS_CTX_JS, VG_XSS_R_JS, i, j + len, s + j, len);
        }
    }
    return false;
}

/* ---- public entry points ------------------------------------------------------------------- */

/* The letters just before s[i] (spaces and control bytes skipped, lower case) end with w. */
static bool vg_pre_ends(const uint8_t *s, size_t i, const char *w)
{
    size_t m = strlen(w);
    while (m > 0 && i > 0) {
        uint8_t c = s[--i];
        if (c <= 0x20 || c == 0x7f)
            continue; /* as vg_url_prefix drops them */
        if (vg_lower(c) != (uint8_t)w[m - 1])
            return false;
        m--;
    }
    return m == 0;
}

/* Precheck byte classes: XPRE_HIT alone is enough ('<', quotes, backtick); XPRE_MAYBE needs a
   closer look ('&', '/', '{', ':', '(', '='). */
#define XPRE_HIT 1u
#define XPRE_MAYBE 2u
#define XPRE_CLASS(c)                                                                        \
    (uint8_t)(((c) == '<' || (c) == '"' || (c) == '\'' || (c) == '`') ? XPRE_HIT            \
              : ((c) == '&' || (c) == '/' || (c) == '{' || (c) == ':' || (c) == '(' ||       \
                 (c) == '=' || (c) == '\\')                                                  \
                  ? XPRE_MAYBE                                                               \
                  : 0u)
#define XPRE_ROW4(c) XPRE_CLASS(c), XPRE_CLASS((c) + 1), XPRE_CLASS((c) + 2), XPRE_CLASS((c) + 3)
#define XPRE_ROW16(c) XPRE_ROW4(c), XPRE_ROW4((c) + 4), XPRE_ROW4((c) + 8), XPRE_ROW4((c) + 12)
static const uint8_t vg_xpre_class[256] = {
    XPRE_ROW16(0x00), XPRE_ROW16(0x10), XPRE_ROW16(0x20), XPRE_ROW16(0x30),
    XPRE_ROW16(0x40), XPRE_ROW16(0x50), XPRE_ROW16(0x60), XPRE_ROW16(0x70),
    XPRE_ROW16(0x80), XPRE_ROW16(0x90), XPRE_ROW16(0xa0), XPRE_ROW16(0xb0),
    XPRE_ROW16(0xc0), XPRE_ROW16(0xd0), XPRE_ROW16(0xe0), XPRE_ROW16(0xf0),
};

/*
 * True when s[0, n) could carry script: it has '<', a quote or backtick, a character
 * reference, a CSS comment, "${", a scheme ending in "script:" or "data:", expression( or
 * url(, or a handler-looking "on...=" / "style=". Performance note: one pass; DokuWiki ids
 * ("wiki:syntax"), tokens ending in '=' and plain text stop here.
 */
static bool vg_xss_precheck_slow(const uint8_t *s, size_t n)
{
    bool css_done = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        switch (c) {
        case '<': case '"': case '\'': case '`':
            return true;
        case '&':
            if (i + 1 < n && (s[i + 1] == '#' || vg_alpha(s[i + 1]) || s[i + 1] == '{'))
                return true;
            break;
        case '/':
            if (i + 1 < n && s[i + 1] == '*')
                return true;
            break;
        case '\\': /* a CSS escape hiding a name (\\65xpression) */
            if (i + 1 < n && vg_alnum(s[i + 1]) && memchr(s, '(', n))
                return true;
            break;
        case '{':
            if (i > 0 && s[i - 1] == '$')
                return true;
            break;
        case ':':
            if (vg_pre_ends(s, i, "script") || vg_pre_ends(s, i, "data") ||
                vg_pre_ends(s, i, "mocha"))
                return true;
            break;
        case '(': {
            /* the style judge's own reading, once: its normalizer drops escapes, control
               bytes and comments anywhere inside the name */
            const char *what;
            if (!css_done && vg_css_runs_script(s, n, &what))
                return true;
            css_done = true;
            break;
        }
        case '=': {
            size_t b = i;
            while (b > 0 && (vg_alpha(s[b - 1]) || s[b - 1] == '_' || s[b - 1] == '-' ||
                             vg_hspace(s[b - 1])))
                b--;
            while (b < i && vg_hspace(s[b]))
                b++;
            size_t e = i;
            while (e > b && vg_hspace(s[e - 1]))
                e--;
            if (vg_handler_name(s + b, e - b) || vg_ieq(s + b, e - b, "style"))
                return true;
            /* "x onerror=", "x style=": the name is the last word */
            size_t w = e;
            while (w > b && (vg_alpha(s[w - 1]) || s[w - 1] == '_' || s[w - 1] == '-'))
                w--;
            if (w != b && (vg_handler_name(s + w, e - w) || vg_ieq(s + w, e - w, "style")))
                return true;
            break;
        }
        default:
            break;
        }
    }
    return false;
}

/* See detect_xss.h. Performance note: a table pass; the closer look only when needed. */
bool vg_xss_precheck(const uint8_t *s, size_t n)
{
    unsigned acc = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = vg_xpre_class[s[i]];
        if (c & XPRE_HIT)
            return true;
        acc |= c;
    }
    return (acc & XPRE_MAYBE) && vg_xss_precheck_slow(s, n);
}

/*
 * Reads the value as HTML text, as a URL, inside an attribute (after each kind of closing quote
 * and after whitespace), inside a JavaScript string or template, and inside a style; reports
 * the first dangerous construct. *out is fully written; st is scratch. See detect_xss.h.
 */
bool vg_xss_detect(struct vg_xss_state *st, const uint8_t *s, size_t n,
                   struct vg_xss_result *out)
{
    memset(out, 0, sizeof(*out));
    out->start = out->end = n;
    st->tags = 0;
    if (!s || n == 0)
        return false;
    /* HTML text */
    if (memchr(s, '<', n) && vg_judge_text(st, s, n, out))
        return true;
    /* the value as a URL (href=VALUE) */
    size_t k = vg_url_prefix(s, n, st->buf, VG_XSS_URL_MAX);
    const char *sch = vg_bad_scheme(st->buf, k);
    if (sch) {
        /* javascript: followed by code, not prose ("javascript: the good parts") */
        size_t m = strlen(sch);
        bool code = false;
        if (strcmp(sch, "data:") == 0) {
            code = memchr(s, '<', n) || memchr(s, ',', n);
        } else {
            /* javascript: that reaches a sink (alert(1), eval(..), document.cookie ...), not
               "javascript:void(0) link" or "javascript: the good parts" */
            const uint8_t *c = memchr(s, ':', n);
            for (size_t i = c ? (size_t)(c - s) + 1 : n; i < n && !code; i++) {
                size_t len;
                code = (vg_alpha(s[i]) || s[i] == '.') && vg_sink_at(s, n, i, &len);
            }
        }
        if (code)
            return vg_hit(out, VG_XSS_CTX_URL, VG_XSS_R_URL, 0, n, (const uint8_t *)sch, m);
    }
    /* inside an attribute value: after each kind of closing quote, and after whitespace of an
       unquoted value */
    static const uint8_t quotes[] = {'"', '\'', '`'};
    for (size_t q = 0; q < sizeof quotes; q++) {
        const uint8_t *p = memchr(s, quotes[q], n);
        if (!p)
            continue;
        size_t end;
        if (vg_judge_attrs(st, s, n, (size_t)(p - s) + 1, VG_XSS_CTX_ATTR, out, &end))
            return true;
    }
    {
        struct vg_attr a;
        if (vg_read_attr(s, n, 0, &a) && vg_handler_name(s, a.name_n) &&
            vg_judge_attr(st, s, &a, VG_XSS_CTX_ATTR, out))
            return true;
    }
    for (size_t i = 0; i < n; i++) {
        if (vg_hspace(s[i])) {
            size_t end;
            if (vg_judge_attrs(st, s, n, i, VG_XSS_CTX_ATTR, out, &end))
                return true;
            break;
        }
    }
    /* inside a JavaScript string or template */
    if (vg_judge_js(s, n, '\'', out) || vg_judge_js(s, n, '"', out) ||
        vg_judge_js(s, n, '`', out))
        return true;
    if (vg_judge_template(s, n, out))
        return true;
    /* inside a style: only what runs script there (expression(), url(javascript:)); a
       property name such as "behavior:" alone is ordinary text */
    const char *what = NULL;
    if (memchr(s, '(', n) && vg_css_runs_script(s, n, &what))
        return vg_hit(out, VG_XSS_CTX_CSS, VG_XSS_R_STYLE, 0, n, (const uint8_t *)what,
                      strlen(what));
    memset(out, 0, sizeof(*out));
    out->start = out->end = n;
    return false;
}

/* Static name of a reason ("tag" ...); NULL when out of range. */
const char *vg_xss_reason_name(enum vg_xss_reason r)
{
    static const char *const names[VG_XSS_R_COUNT] = {
        [VG_XSS_R_NONE] = "none",       [VG_XSS_R_TAG] = "tag",   [VG_XSS_R_HANDLER] = "handler",
        [VG_XSS_R_URL] = "url",         [VG_XSS_R_STYLE] = "style", [VG_XSS_R_ATTR] = "attr",
        [VG_XSS_R_JS] = "js",
    };
    return (unsigned)r < VG_XSS_R_COUNT ? names[r] : NULL;
}

/* Static name of a context ("text" ...); NULL when out of range. */
const char *vg_xss_ctx_name(enum vg_xss_ctx c)
{
    static const char *const names[VG_XSS_CTX_COUNT] = {
        [VG_XSS_CTX_TEXT] = "text", [VG_XSS_CTX_ATTR] = "attribute", [VG_XSS_CTX_URL] = "url",
        [VG_XSS_CTX_JS] = "js",     [VG_XSS_CTX_CSS] = "css",
    };
    return (unsigned)c < VG_XSS_CTX_COUNT ? names[c] : NULL;
}
