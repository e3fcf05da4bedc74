/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_sqli.h: SQL injection by grammar (the `operator: sqli` of rule files).
 *
 * A value (an argument, a cookie ...) is placed, in turn, in the SQL contexts an application
 * puts user input in: as-is (a number or an expression: `WHERE id=<value>`), inside a
 * single-quoted string (`WHERE name='<value>'`) and inside a double-quoted string. In each
 * context the value is tokenized (strings, numbers, keywords of the union of the MySQL,
 * PostgreSQL, SQL Server, Oracle and SQLite dialects, functions, operators, comments,
 * variables ...) and the tokens after the point where the value leaves its literal (the
 * closing quote, or the end of the leading number) are parsed by a small permissive SQL
 * grammar. The value is an injection when, in some context, that parse shows SQL that does
 * more than a literal: a tautology or boolean condition, UNION SELECT, a stacked statement, a
 * subquery, a call of a function only injected queries use (SLEEP, EXTRACTVALUE, CHAR ...), an
 * ORDER BY / GROUP BY probe, a comment cutting off the rest of the query. Natural text rarely
 * forms valid SQL after a quote (`it's`, `rock'n'roll`, `5" x 7"`), which is what keeps false
 * positives down: keywords alone decide nothing.
 *
 * The state is fixed-size and owned by the caller; nothing is allocated. Inputs are byte views
 * (no NUL terminator needed); the engine passes the decoded view of a field.
 *
 * Usage:
 *     struct vg_sqli_state st;            // ~4 KiB, e.g. inside a per-thread scratch
 *     struct vg_sqli_result r;
 *     if (vg_sqli_precheck(p, n) && vg_sqli_detect(&st, p, n, &r))
 *         printf("%s at [%zu, %zu): %s\n", vg_sqli_reason_name(r.reason), r.start, r.end,
 *                r.fingerprint);
 */
#ifndef VG_DETECT_SQLI_H
#define VG_DETECT_SQLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tokens kept per context. Performance note: a value with more tokens is judged on its first
   VG_SQLI_MAX_TOKENS tokens; injections show themselves well before that. */
#define VG_SQLI_MAX_TOKENS 192u
/* Longest fingerprint (one character per token after the breakout, see vg_sqli_token_type). */
#define VG_SQLI_FP_MAX 24u
/* Deepest parenthesis / subquery nesting the grammar follows (Security note: bounds the
   recursion on hostile input; deeper nesting stops the parse there). */
#define VG_SQLI_MAX_DEPTH 40u

/* Where the value is assumed to sit in the query. */
enum vg_sqli_ctx {
    VG_SQLI_CTX_NONE = 0, /* as-is: a number, identifier or expression */
    VG_SQLI_CTX_SQUOTE,   /* inside '...' */
    VG_SQLI_CTX_DQUOTE,   /* inside "..." */
    VG_SQLI_CTX_COUNT
};

/* Token classes; the value is the fingerprint character. */
enum vg_sqli_token_type {
    VG_SQLI_T_NONE = 0,
    VG_SQLI_T_NUMBER = 'n',   /* 42, -, 1.5e3, 0x41, 0b101 */
    VG_SQLI_T_STRING = 's',   /* 'x', "x", N'x', X'41', $$x$$, q'[x]' */
    VG_SQLI_T_VARIABLE = 'v', /* @x, @@version, :x */
    VG_SQLI_T_WORD = 'w',     /* identifier, `x`, [x] */
    VG_SQLI_T_FUNCTION = 'f', /* identifier or keyword followed by '(' */
    VG_SQLI_T_KEYWORD = 'k',  /* FROM, WHERE, AS, NULL, CASE ... */
    VG_SQLI_T_UNION = 'U',    /* UNION, INTERSECT, EXCEPT, MINUS */
    VG_SQLI_T_STATEMENT = 'E',/* SELECT, INSERT, DROP, EXEC, WAITFOR ... */
    VG_SQLI_T_LOGIC = '&',    /* AND, OR, XOR, &&, || */
    VG_SQLI_T_OPERATOR = 'o', /* = < + - * / ... LIKE, IS, IN, DIV */
    VG_SQLI_T_NOT = '!',      /* NOT, ! */
    VG_SQLI_T_LPAREN = '(',
    VG_SQLI_T_RPAREN = ')',
    VG_SQLI_T_COMMA = ',',
    VG_SQLI_T_SEMICOLON = ';',
    VG_SQLI_T_DOT = '.',
    VG_SQLI_T_COMMENT = 'c',  /* -- #  and block comments */
    VG_SQLI_T_OTHER = 'X',    /* anything SQL has no use for (':' '?' '{' '\\' ...) */
};

/* Why a value was judged an injection. */
enum vg_sqli_reason {
    VG_SQLI_R_NONE = 0,
    VG_SQLI_R_UNION,      /* UNION [ALL] SELECT */
    VG_SQLI_R_STACKED,    /* a second statement (; DROP ..., WAITFOR DELAY ...) */
    VG_SQLI_R_SUBQUERY,   /* (SELECT ...) inside the condition */
    VG_SQLI_R_FUNCTION,   /* a function injected queries use (SLEEP, EXTRACTVALUE, CHAR ...) */
    VG_SQLI_R_TAUTOLOGY,  /* a comparison of constants (1=1, 'a'='a', x=x) joined to the query */
    VG_SQLI_R_BOOLEAN,    /* a boolean condition or operator after a string breakout */
    VG_SQLI_R_COMMENT,    /* a breakout followed by a comment that cuts off the query */
    VG_SQLI_R_CLAUSE,     /* ORDER BY / GROUP BY / HAVING / LIMIT / INTO OUTFILE probe */
    VG_SQLI_R_STATEMENT,  /* the whole value is an SQL statement doing more than a lookup */
    VG_SQLI_R_COUNT
};

struct vg_sqli_token {
    uint32_t pos;     /* offset in the input */
    uint32_t len;     /* bytes in the input (quotes and comment markers included) */
    uint8_t type;     /* enum vg_sqli_token_type */
    uint8_t kw;       /* keyword id (internal), 0 when none */
    uint8_t flags;    /* VG_SQLI_TF_* */
    uint8_t fn;       /* function tier (internal), 0 when none */
};

#define VG_SQLI_TF_OPEN 0x01u   /* string / block comment / quoted identifier not closed */
#define VG_SQLI_TF_SPACE 0x02u  /* whitespace or an inline comment precedes the token */
#define VG_SQLI_TF_KNOWN 0x04u  /* function: a known SQL function */
#define VG_SQLI_TF_STRONG 0x08u /* function: one that injected queries use */
#define VG_SQLI_TF_LINE 0x10u   /* comment: "--" or "#" (to the end of the line) */

/* The verdict of vg_sqli_detect. */
struct vg_sqli_result {
    bool is_sqli;
    enum vg_sqli_ctx ctx;       /* the context that showed the injection */
    enum vg_sqli_reason reason;
    size_t start;               /* the part of the value after the breakout point, [start, end) */
    size_t end;
    char fingerprint[VG_SQLI_FP_MAX + 1]; /* token classes from the breakout on, NUL-ended */
};

/* Caller-owned working state (no pointers to free). Not shared between threads. */
struct vg_sqli_state {
    const uint8_t *s;
    size_t n;
    enum vg_sqli_ctx ctx;
    unsigned ntok;
    bool truncated;             /* more tokens than VG_SQLI_MAX_TOKENS */
    bool exec_comment;          /* a MySQL executable comment was seen */
    struct vg_sqli_token tok[VG_SQLI_MAX_TOKENS];
};

/*
 * True when the value contains something an injection needs (a quote, a comment marker, an
 * operator character, a parenthesis, or a space between a number and a word ...): the cheap
 * test that decides whether vg_sqli_detect runs. Performance note: one pass over a byte table.
 */
bool vg_sqli_precheck(const uint8_t *s, size_t n);

/*
 * Decides whether the value s[0, n) injects SQL in any of the three contexts. *out is fully
 * written (is_sqli false, empty fingerprint when not). st is scratch; its tokens are those of
 * the last context tried. Never allocates; O(n) time.
 */
bool vg_sqli_detect(struct vg_sqli_state *st, const uint8_t *s, size_t n,
                    struct vg_sqli_result *out);

/*
 * Tokenizes s[0, n) as it reads in context ctx into st->tok[0, st->ntok). In a quote context
 * the first token is the string the value starts inside (up to the first unescaped closing
 * quote, or the whole value). Returns st->ntok.
 */
unsigned vg_sqli_tokenize(struct vg_sqli_state *st, const uint8_t *s, size_t n,
                          enum vg_sqli_ctx ctx);

/* Writes the fingerprint of tokens [from, st->ntok) into fp (cap bytes incl. the NUL). */
void vg_sqli_fingerprint(const struct vg_sqli_state *st, unsigned from, char *fp, size_t cap);

/* "union", "stacked", ...; "none" for VG_SQLI_R_NONE; NULL when out of range. */
const char *vg_sqli_reason_name(enum vg_sqli_reason r);
/* "as-is", "single-quote", "double-quote"; NULL when out of range. */
const char *vg_sqli_ctx_name(enum vg_sqli_ctx c);

#endif /* VG_DETECT_SQLI_H */
