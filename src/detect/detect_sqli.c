/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_sqli.c: SQL injection by grammar. See detect_sqli.h for the idea; this file has the
 * tokenizer (one pass, dialect union), the word table, a small permissive recursive-descent SQL
 * grammar that records what it recognises ("features") and the verdict per context.
 *
 * The grammar. After the breakout point the value must continue the query as SQL. The parser
 * reads: an expression (operands: numbers, strings, variables, identifiers, function calls,
 * parenthesized expressions and subqueries, CASE, CAST/CONVERT, EXISTS; postfix IS / IN /
 * BETWEEN / LIKE; binary arithmetic, comparison and logical operators), then query clauses
 * (GROUP BY, HAVING, ORDER BY, LIMIT, INTO OUTFILE, PROCEDURE ANALYSE, FOR UPDATE, UNION
 * SELECT ...), then stacked statements after ';' (or, SQL Server style, without it). ')' with
 * nothing open closes a parenthesis of the application's query; '(' left open at the end is
 * closed by it. A string left open at the end of a quote context is closed by the application's
 * own quote. The first token the grammar cannot place ends the parse: what was recognised
 * before it stands ("valid prefix"); strong features (UNION SELECT, a stacked statement, a
 * subquery, an injection function) count from the valid prefix, weaker ones (a comparison, a
 * boolean operator, a comment) only when the whole rest of the value parses.
 *
 * Invariants: no allocation; recursion bounded by VG_SQLI_MAX_DEPTH; every loop advances the
 * token index or stops; reads never go past s[n).
 */
#include "detect/detect_sqli.h"

#include <string.h>

/* ---- the word table ---------------------------------------------------------------------- */

/* Keyword ids the grammar refers to (0: not a keyword). */
enum vg_kw {
    K_NONE = 0,
    K_ALL, K_ALTER, K_ANALYSE, K_AND, K_ANY, K_AS, K_ASC, K_BEGIN, K_BETWEEN, K_BINARY, K_BY,
    K_CALL, K_CASE, K_CAST, K_COLLATE, K_CONVERT, K_CREATE, K_CROSS, K_CURRENT, K_DATA,
    K_DATABASE, K_DBCC, K_DEALLOCATE, K_DECLARE, K_DEFAULT, K_DELAY, K_DELETE, K_DESC,
    K_DESCRIBE, K_DISTINCT, K_DIV, K_DO, K_DROP, K_DUMPFILE, K_ELSE, K_END, K_ESCAPE, K_EXCEPT,
    K_EXEC, K_EXISTS, K_FALSE, K_FETCH, K_FIRST, K_FOR, K_FROM, K_FULL, K_GLOB, K_GRANT,
    K_GROUP, K_HANDLER, K_HAVING, K_IF, K_ILIKE, K_IN, K_INFILE, K_INNER, K_INSERT, K_INTERSECT,
    K_INTERVAL, K_INTO, K_IS, K_JOIN, K_KILL, K_LEFT, K_LIKE, K_LIMIT, K_LOAD, K_LOCK, K_MERGE,
    K_MINUS, K_MOD, K_NATURAL, K_NEXT, K_NOT, K_NOWAIT, K_NULL, K_OFFSET, K_ON, K_ONLY, K_OR,
    K_ORDER, K_OUTER, K_OUTFILE, K_PREPARE, K_PRINT, K_PROCEDURE, K_REGEXP, K_RENAME,
    K_REPLACE, K_REVOKE, K_RIGHT, K_RLIKE, K_ROLLUP, K_ROW, K_ROWS, K_SELECT, K_SET, K_SHARE,
    K_SHOW, K_SHUTDOWN, K_SIMILAR, K_SOME, K_SOUNDS, K_STRAIGHT_JOIN, K_TABLE, K_THEN, K_TIME,
    K_TO, K_TOP, K_TRUE, K_TRUNCATE, K_UNION, K_UNKNOWN, K_UPDATE, K_USE, K_USING, K_VALUES,
    K_WAITFOR, K_WHEN, K_WHERE, K_WHILE, K_WITH, K_XOR, K_USER_LIT, K_MODIFIER, K_GOTO
};

/* How a word reads. */
enum vg_wclass {
    W_KEY = 0,  /* keyword (kw says which) */
    W_FUNC,     /* a function name only (a word when not followed by '(') */
};

/* Function tiers (flags of a table entry). */
#define FN_KNOWN 0x01u  /* a function of some dialect */
#define FN_STRONG 0x02u /* typical of injected queries */
#define FN_EMPTY 0x04u  /* strong only when called with no argument (VERSION(), USER()) */
#define FN_MULTI 0x08u  /* strong only with two or more arguments (IF(c,a,b)) */

struct vg_word {
    const char *name;   /* upper case */
    uint8_t wclass;
    uint8_t kw;
    uint8_t fn;         /* FN_* when the word may be called as a function */
};

/* Sorted by name (strcmp order; checked by the unit tests through vg_sqli_tokenize). Keywords
   that double as functions (LEFT, IF, REPLACE, DATABASE ...) carry both. */
static const struct vg_word vg_words[] = {
    {"ABS", W_FUNC, 0, FN_KNOWN},
    {"AES_DECRYPT", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"AES_ENCRYPT", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"AGAINST", W_KEY, K_MODIFIER, 0},
    {"ALL", W_KEY, K_ALL, 0},
    {"ALTER", W_KEY, K_ALTER, 0},
    {"ANALYSE", W_KEY, K_ANALYSE, FN_KNOWN | FN_STRONG},
    {"ANALYZE", W_KEY, K_ANALYSE, FN_KNOWN},
    {"AND", W_KEY, K_AND, 0},
    {"ANY", W_KEY, K_ANY, 0},
    {"ARRAY_AGG", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"ARRAY_TO_STRING", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"AS", W_KEY, K_AS, 0},
    {"ASC", W_KEY, K_ASC, 0},
    {"ASCII", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"AVG", W_FUNC, 0, FN_KNOWN},
    {"BEGIN", W_KEY, K_BEGIN, 0},
    {"BENCHMARK", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"BETWEEN", W_KEY, K_BETWEEN, 0},
    {"BIN", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"BINARY", W_KEY, K_BINARY, FN_KNOWN},
    {"BIT_COUNT", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"BIT_LENGTH", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"BY", W_KEY, K_BY, 0},
    {"CALL", W_KEY, K_CALL, 0},
    {"CASE", W_KEY, K_CASE, 0},
    {"CAST", W_KEY, K_CAST, FN_KNOWN | FN_STRONG},
    {"CEIL", W_FUNC, 0, FN_KNOWN},
    {"CEILING", W_FUNC, 0, FN_KNOWN},
    {"CHAR", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"CHARACTER_LENGTH", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"CHARINDEX", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"CHAR_LENGTH", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"CHR", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"COALESCE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"COLLATE", W_KEY, K_COLLATE, 0},
    {"COL_NAME", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"COMPRESS", W_FUNC, 0, FN_KNOWN},
    {"CONCAT", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"CONCAT_WS", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"CONNECTION_ID", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"CONV", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"CONVERT", W_KEY, K_CONVERT, FN_KNOWN | FN_STRONG},
    {"COS", W_FUNC, 0, FN_KNOWN},
    {"COT", W_FUNC, 0, FN_KNOWN},
    {"COUNT", W_FUNC, 0, FN_KNOWN},
    {"CRC32", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"CREATE", W_KEY, K_CREATE, 0},
    {"CROSS", W_KEY, K_CROSS, 0},
    {"CTXSYS", W_FUNC, 0, 0},
    {"CURDATE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"CURRENT", W_KEY, K_CURRENT, 0},
    {"CURRENT_DATABASE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"CURRENT_DATE", W_KEY, K_USER_LIT, FN_KNOWN},
    {"CURRENT_SCHEMA", W_KEY, K_USER_LIT, FN_KNOWN | FN_STRONG},
    {"CURRENT_SETTING", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"CURRENT_TIME", W_KEY, K_USER_LIT, FN_KNOWN},
    {"CURRENT_TIMESTAMP", W_KEY, K_USER_LIT, FN_KNOWN},
    {"CURRENT_USER", W_KEY, K_USER_LIT, FN_KNOWN | FN_STRONG},
    {"DATA", W_KEY, K_DATA, 0},
    {"DATABASE", W_KEY, K_DATABASE, FN_KNOWN | FN_STRONG | FN_EMPTY},
    {"DATABASE_TO_XML", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"DATALENGTH", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"DATE", W_FUNC, 0, FN_KNOWN},
    {"DAY", W_FUNC, 0, FN_KNOWN},
    {"DBCC", W_KEY, K_DBCC, 0},
    {"DB_NAME", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"DEALLOCATE", W_KEY, K_DEALLOCATE, 0},
    {"DECLARE", W_KEY, K_DECLARE, 0},
    {"DECODE", W_FUNC, 0, FN_KNOWN},
    {"DEFAULT", W_KEY, K_DEFAULT, 0},
    {"DEGREES", W_FUNC, 0, FN_KNOWN},
    {"DELAY", W_KEY, K_DELAY, 0},
    {"DELETE", W_KEY, K_DELETE, 0},
    {"DESC", W_KEY, K_DESC, 0},
    {"DESCRIBE", W_KEY, K_DESCRIBE, 0},
    {"DES_DECRYPT", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"DES_ENCRYPT", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"DISTINCT", W_KEY, K_DISTINCT, 0},
    {"DISTINCTROW", W_KEY, K_DISTINCT, 0},
    {"DIV", W_KEY, K_DIV, 0},
    {"DO", W_KEY, K_DO, 0},
    {"DROP", W_KEY, K_DROP, 0},
    {"DUMPFILE", W_KEY, K_DUMPFILE, 0},
    {"ELSE", W_KEY, K_ELSE, 0},
    {"ELT", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"ENCODE", W_FUNC, 0, FN_KNOWN},
    {"END", W_KEY, K_END, 0},
    {"ESCAPE", W_KEY, K_ESCAPE, 0},
    {"EXCEPT", W_KEY, K_EXCEPT, 0},
    {"EXEC", W_KEY, K_EXEC, 0},
    {"EXECUTE", W_KEY, K_EXEC, 0},
    {"EXISTS", W_KEY, K_EXISTS, 0},
    {"EXP", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"EXPORT_SET", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"EXTRACT", W_FUNC, 0, FN_KNOWN},
    {"EXTRACTVALUE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"FALSE", W_KEY, K_FALSE, 0},
    {"FETCH", W_KEY, K_FETCH, 0},
    {"FIELD", W_FUNC, 0, FN_KNOWN},
    {"FIRST", W_KEY, K_FIRST, 0},
    {"FLOOR", W_FUNC, 0, FN_KNOWN},
    {"FN_VARBINTOHEXSTR", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"FOR", W_KEY, K_FOR, 0},
    {"FORMAT", W_FUNC, 0, FN_KNOWN},
    {"FROM", W_KEY, K_FROM, 0},
    {"FULL", W_KEY, K_FULL, 0},
    {"GENERATE_SERIES", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"GEOMETRYCOLLECTION", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"GETDATE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"GLOB", W_KEY, K_GLOB, 0},
    {"GOTO", W_KEY, K_GOTO, 0},
    {"GRANT", W_KEY, K_GRANT, 0},
    {"GREATEST", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"GROUP", W_KEY, K_GROUP, 0},
    {"GROUP_CONCAT", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"GTID_SUBSET", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"GTID_SUBTRACT", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"HANDLER", W_KEY, K_HANDLER, 0},
    {"HAS_DBACCESS", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"HAVING", W_KEY, K_HAVING, 0},
    {"HEX", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"HOST_NAME", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"HOUR", W_FUNC, 0, FN_KNOWN},
    {"IF", W_KEY, K_IF, FN_KNOWN | FN_STRONG | FN_MULTI},
    {"IFNULL", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"IIF", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"ILIKE", W_KEY, K_ILIKE, 0},
    {"IN", W_KEY, K_IN, 0},
    {"INET_SERVER_ADDR", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"INFILE", W_KEY, K_INFILE, 0},
    {"INNER", W_KEY, K_INNER, 0},
    {"INSERT", W_KEY, K_INSERT, FN_KNOWN},
    {"INSTR", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"INTERSECT", W_KEY, K_INTERSECT, 0},
    {"INTERVAL", W_KEY, K_INTERVAL, 0},
    {"INTO", W_KEY, K_INTO, 0},
    {"IS", W_KEY, K_IS, 0},
    {"ISNULL", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"IS_MEMBER", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"IS_SRVROLEMEMBER", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"JOIN", W_KEY, K_JOIN, 0},
    {"JSON_EXTRACT", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"JSON_KEYS", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"KILL", W_KEY, K_KILL, 0},
    {"LAST_INSERT_ID", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"LCASE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"LEAST", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"LEFT", W_KEY, K_LEFT, FN_KNOWN},
    {"LEN", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"LENGTH", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"LIKE", W_KEY, K_LIKE, 0},
    {"LIMIT", W_KEY, K_LIMIT, 0},
    {"LINESTRING", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"LISTAGG", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"LOAD", W_KEY, K_LOAD, 0},
    {"LOAD_EXTENSION", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"LOAD_FILE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"LOCALTIME", W_KEY, K_USER_LIT, FN_KNOWN},
    {"LOCALTIMESTAMP", W_KEY, K_USER_LIT, FN_KNOWN},
    {"LOCATE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"LOCK", W_KEY, K_LOCK, 0},
    {"LOG", W_FUNC, 0, FN_KNOWN},
    {"LOWER", W_FUNC, 0, FN_KNOWN},
    {"LPAD", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"LTRIM", W_FUNC, 0, FN_KNOWN},
    {"MAKE_SET", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"MAX", W_FUNC, 0, FN_KNOWN},
    {"MD5", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"MERGE", W_KEY, K_MERGE, 0},
    {"MID", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"MIN", W_FUNC, 0, FN_KNOWN},
    {"MINUS", W_KEY, K_MINUS, 0},
    {"MINUTE", W_FUNC, 0, FN_KNOWN},
    {"MOD", W_KEY, K_MOD, 0},
    {"MONTH", W_FUNC, 0, FN_KNOWN},
    {"MULTILINESTRING", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"MULTIPOINT", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"MULTIPOLYGON", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"NAME_CONST", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"NATURAL", W_KEY, K_NATURAL, 0},
    {"NCHAR", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"NEXT", W_KEY, K_NEXT, 0},
    {"NOT", W_KEY, K_NOT, 0},
    {"NOW", W_FUNC, 0, FN_KNOWN | FN_STRONG | FN_EMPTY},
    {"NOWAIT", W_KEY, K_NOWAIT, 0},
    {"NULL", W_KEY, K_NULL, 0},
    {"NULLIF", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"NVL", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"OBJECT_ID", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"OBJECT_NAME", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"OCT", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"OFFSET", W_KEY, K_OFFSET, 0},
    {"ON", W_KEY, K_ON, 0},
    {"ONLY", W_KEY, K_ONLY, 0},
    {"OPENDATASOURCE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"OPENQUERY", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"OPENROWSET", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"OR", W_KEY, K_OR, 0},
    {"ORD", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"ORDER", W_KEY, K_ORDER, 0},
    {"OUTER", W_KEY, K_OUTER, 0},
    {"OUTFILE", W_KEY, K_OUTFILE, 0},
    {"PATINDEX", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"PG_LS_DIR", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"PG_READ_FILE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"PG_SLEEP", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"PI", W_FUNC, 0, FN_KNOWN | FN_STRONG | FN_EMPTY},
    {"POLYGON", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"POSITION", W_FUNC, 0, FN_KNOWN},
    {"POW", W_FUNC, 0, FN_KNOWN},
    {"POWER", W_FUNC, 0, FN_KNOWN},
    {"PREPARE", W_KEY, K_PREPARE, 0},
    {"PRINT", W_KEY, K_PRINT, 0},
    {"PROCEDURE", W_KEY, K_PROCEDURE, 0},
    {"QUERY_TO_XML", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"QUOTE", W_FUNC, 0, FN_KNOWN},
    {"RAISERROR", W_KEY, K_PRINT, 0},
    {"RAND", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"RANDOM", W_FUNC, 0, FN_KNOWN | FN_STRONG | FN_EMPTY},
    {"RANDOMBLOB", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"REGEXP", W_KEY, K_REGEXP, 0},
    {"REGEXP_LIKE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"REGEXP_SUBSTR", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"RENAME", W_KEY, K_RENAME, 0},
    {"REPEAT", W_FUNC, 0, FN_KNOWN},
    {"REPLACE", W_KEY, K_REPLACE, FN_KNOWN},
    {"REVERSE", W_FUNC, 0, FN_KNOWN},
    {"REVOKE", W_KEY, K_REVOKE, 0},
    {"RIGHT", W_KEY, K_RIGHT, FN_KNOWN},
    {"RLIKE", W_KEY, K_RLIKE, 0},
    {"ROLLUP", W_KEY, K_ROLLUP, 0},
    {"ROUND", W_FUNC, 0, FN_KNOWN},
    {"ROW", W_KEY, K_ROW, FN_KNOWN},
    {"ROWS", W_KEY, K_ROWS, 0},
    {"ROW_COUNT", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"RPAD", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"RTRIM", W_FUNC, 0, FN_KNOWN},
    {"SCHEMA", W_KEY, K_DATABASE, FN_KNOWN | FN_STRONG | FN_EMPTY},
    {"SECOND", W_FUNC, 0, FN_KNOWN},
    {"SELECT", W_KEY, K_SELECT, 0},
    {"SESSION_USER", W_KEY, K_USER_LIT, FN_KNOWN | FN_STRONG},
    {"SET", W_KEY, K_SET, 0},
    {"SHA", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SHA1", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SHA2", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SHARE", W_KEY, K_SHARE, 0},
    {"SHOW", W_KEY, K_SHOW, 0},
    {"SHUTDOWN", W_KEY, K_SHUTDOWN, 0},
    {"SIGN", W_FUNC, 0, FN_KNOWN},
    {"SIMILAR", W_KEY, K_SIMILAR, 0},
    {"SIN", W_FUNC, 0, FN_KNOWN},
    {"SLEEP", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SOME", W_KEY, K_SOME, 0},
    {"SOUNDEX", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SOUNDS", W_KEY, K_SOUNDS, 0},
    {"SPACE", W_FUNC, 0, FN_KNOWN},
    {"SQLITE_VERSION", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SQRT", W_FUNC, 0, FN_KNOWN},
    {"STRAIGHT_JOIN", W_KEY, K_STRAIGHT_JOIN, 0},
    {"STRCMP", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"STRING_AGG", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"STRING_TO_ARRAY", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SUBSTR", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SUBSTRING", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SUBSTRING_INDEX", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SUM", W_FUNC, 0, FN_KNOWN},
    {"SUSER_NAME", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SUSER_SNAME", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SYSDATE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SYSTEM_USER", W_KEY, K_USER_LIT, FN_KNOWN | FN_STRONG},
    {"SYS_CONTEXT", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SYS_EVAL", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"SYS_EXEC", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"TABLE", W_KEY, K_TABLE, 0},
    {"TAN", W_FUNC, 0, FN_KNOWN},
    {"THEN", W_KEY, K_THEN, 0},
    {"TIME", W_KEY, K_TIME, FN_KNOWN},
    {"TO", W_KEY, K_TO, 0},
    {"TOP", W_KEY, K_TOP, 0},
    {"TO_CHAR", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"TO_NUMBER", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"TRIM", W_FUNC, 0, FN_KNOWN},
    {"TRUE", W_KEY, K_TRUE, 0},
    {"TRUNCATE", W_KEY, K_TRUNCATE, FN_KNOWN},
    {"TYPEOF", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"UCASE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"UNCOMPRESS", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"UNHEX", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"UNICODE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"UNION", W_KEY, K_UNION, 0},
    {"UNKNOWN", W_KEY, K_UNKNOWN, 0},
    {"UPDATE", W_KEY, K_UPDATE, 0},
    {"UPDATEXML", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"UPPER", W_FUNC, 0, FN_KNOWN},
    {"USE", W_KEY, K_USE, 0},
    {"USER", W_FUNC, 0, FN_KNOWN | FN_STRONG | FN_EMPTY},
    {"USER_NAME", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"USING", W_KEY, K_USING, 0},
    {"UTC_TIME", W_FUNC, 0, FN_KNOWN},
    {"UUID", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"VALUES", W_KEY, K_VALUES, FN_KNOWN},
    {"VERSION", W_FUNC, 0, FN_KNOWN | FN_STRONG | FN_EMPTY},
    {"WAITFOR", W_KEY, K_WAITFOR, 0},
    {"WHEN", W_KEY, K_WHEN, 0},
    {"WHERE", W_KEY, K_WHERE, 0},
    {"WHILE", W_KEY, K_WHILE, 0},
    {"WITH", W_KEY, K_WITH, 0},
    {"XMLAGG", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"XMLTYPE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"XOR", W_KEY, K_XOR, 0},
    {"XP_CMDSHELL", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"XP_DIRTREE", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"XP_REGREAD", W_FUNC, 0, FN_KNOWN | FN_STRONG},
    {"YEAR", W_FUNC, 0, FN_KNOWN},
    {"ZEROBLOB", W_FUNC, 0, FN_KNOWN | FN_STRONG},
};

#define VG_WORD_MAX 32u

/* Looks a word up (case-insensitively); NULL when it is an ordinary identifier. */
static const struct vg_word *vg_word_find(const uint8_t *p, size_t n)
{
    if (n == 0 || n > VG_WORD_MAX)
        return NULL;
    char up[VG_WORD_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        up[i] = (char)((c >= 'a' && c <= 'z') ? c - 32 : c);
    }
    up[n] = 0;
    size_t lo = 0, hi = sizeof vg_words / sizeof vg_words[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(up, vg_words[mid].name);
        if (c == 0)
            return &vg_words[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Package prefixes whose procedures only injected queries call (Oracle, SQL Server). */
static bool vg_strong_prefix(const uint8_t *p, size_t n)
{
    static const char *const pre[] = {"DBMS_", "UTL_", "XP_", "SP_", "SYS.", "CTXSYS.",
                                      "MASTER.", "SYS_"};
    for (size_t k = 0; k < sizeof pre / sizeof pre[0]; k++) {
        size_t m = strlen(pre[k]);
        if (n <= m)
            continue;
        size_t i = 0;
        for (; i < m; i++) {
            uint8_t c = p[i];
            if (c >= 'a' && c <= 'z')
                c = (uint8_t)(c - 32);
            if (c != (uint8_t)pre[k][i])
                break;
        }
        if (i == m)
            return true;
    }
    return false;
}

/* ---- character classes ------------------------------------------------------------------- */

static bool vg_is_space(uint8_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0xa0 || c == 0 || (c < 0x20);
}

static bool vg_is_word_start(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' ||
           c >= 0x80;
}

static bool vg_is_word(uint8_t c)
{
    return vg_is_word_start(c) || (c >= '0' && c <= '9');
}

static bool vg_is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool vg_is_hex(uint8_t c)
{
    return vg_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* ---- tokenizer --------------------------------------------------------------------------- */

struct vg_lex {
    struct vg_sqli_state *st;
    const uint8_t *s;
    size_t n;
    size_t i;
    bool space;      /* whitespace or an inline comment since the last token */
    bool exec_open;  /* inside a MySQL executable comment slash-star-bang */
};

static bool vg_push(struct vg_lex *lx, size_t pos, size_t len, uint8_t type, uint8_t kw,
                    uint8_t flags)
{
    struct vg_sqli_state *st = lx->st;
    if (st->ntok >= VG_SQLI_MAX_TOKENS) {
        st->truncated = true;
        return false;
    }
    struct vg_sqli_token *t = &st->tok[st->ntok++];
    t->pos = (uint32_t)pos;
    t->len = (uint32_t)len;
    t->type = type;
    t->kw = kw;
    t->flags = (uint8_t)(flags | (lx->space ? VG_SQLI_TF_SPACE : 0));
    t->fn = 0;
    lx->space = false;
    return true;
}

/*
 * Scans a string whose opening quote q is at s[i - 1]: returns the index after the closing
 * quote, or n with *open set. A doubled quote and a backslash-escaped quote (MySQL) stay inside.
 */
static size_t vg_scan_string(const uint8_t *s, size_t n, size_t i, uint8_t q, bool *open)
{
    *open = false;
    while (i < n) {
        const uint8_t *e = memchr(s + i, q, n - i);
        if (!e)
            break;
        size_t k = (size_t)(e - s);
        size_t bs = 0;
        while (bs < k - i && s[k - 1 - bs] == '\\')
            bs++;
        if (bs & 1u) { /* escaped by a backslash */
            i = k + 1;
            continue;
        }
        if (k + 1 < n && s[k + 1] == q) { /* doubled */
            i = k + 2;
            continue;
        }
        return k + 1;
    }
    *open = true;
    return n;
}

/* Scans a number at s[i]; returns its end. */
static size_t vg_scan_number(const uint8_t *s, size_t n, size_t i)
{
    size_t j = i;
    if (j + 1 < n && s[j] == '0' && (s[j + 1] == 'x' || s[j + 1] == 'X')) {
        size_t k = j + 2;
        while (k < n && vg_is_hex(s[k]))
            k++;
        if (k > j + 2)
            return k;
    }
    if (j + 1 < n && s[j] == '0' && (s[j + 1] == 'b' || s[j + 1] == 'B')) {
        size_t k = j + 2;
        while (k < n && (s[k] == '0' || s[k] == '1'))
            k++;
        if (k > j + 2 && (k == n || !vg_is_word(s[k])))
            return k;
    }
    while (j < n && vg_is_digit(s[j]))
        j++;
    if (j < n && s[j] == '.') {
        j++;
        while (j < n && vg_is_digit(s[j]))
            j++;
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < n && (s[k] == '+' || s[k] == '-'))
            k++;
        if (k < n && vg_is_digit(s[k])) {
            while (k < n && vg_is_digit(s[k]))
                k++;
            j = k;
        }
    }
    return j;
}

/* Operators, longest first. */
static size_t vg_operator_len(const uint8_t *s, size_t n, size_t i, uint8_t *type)
{
    static const char *const ops3[] = {"<=>", "->>", "!~*"};
    static const char *const ops2[] = {"<>", "!=", "<=", ">=", "<<", ">>", "||", "&&", ":=",
                                       "::", "==", "!<", "!>", "->", "~*", "!~", "^="};
    *type = VG_SQLI_T_OPERATOR;
    for (size_t k = 0; k < sizeof ops3 / sizeof ops3[0]; k++)
        if (i + 3 <= n && memcmp(s + i, ops3[k], 3) == 0)
            return 3;
    for (size_t k = 0; k < sizeof ops2 / sizeof ops2[0]; k++)
        if (i + 2 <= n && memcmp(s + i, ops2[k], 2) == 0) {
            if (ops2[k][0] == '|' || ops2[k][0] == '&')
                *type = VG_SQLI_T_LOGIC;
            return 2;
        }
    switch (s[i]) {
    case '=': case '<': case '>': case '+': case '-': case '*': case '/': case '%': case '&':
    case '|': case '^': case '~':
        return 1;
    case '!':
        *type = VG_SQLI_T_NOT;
        return 1;
    default:
        return 0;
    }
}

/* Reads one word (or a dotted name a.b.c) starting at s[i]; pushes it. */
static void vg_lex_word(struct vg_lex *lx)
{
    const uint8_t *s = lx->s;
    size_t n = lx->n, i = lx->i, j = i;
    while (j < n && vg_is_word(s[j]))
        j++;
    /* String prefixes: N'..' X'..' B'..' E'..' _charset'..' */
    if (j < n && s[j] == '\'') {
        size_t w = j - i;
        uint8_t c0 = (uint8_t)(s[i] | 0x20);
        bool pre = (w == 1 && (c0 == 'n' || c0 == 'x' || c0 == 'b' || c0 == 'e')) ||
                   (w > 1 && s[i] == '_');
        if (w == 1 && c0 == 'q' && j + 1 < n) { /* Oracle q'[...]' */
            uint8_t open = s[j + 1], close = open;
            if (open == '[') close = ']';
            else if (open == '(') close = ')';
            else if (open == '{') close = '}';
            else if (open == '<') close = '>';
            for (size_t k = j + 2; k + 1 < n; k++)
                if (s[k] == close && s[k + 1] == '\'') {
                    vg_push(lx, i, k + 2 - i, VG_SQLI_T_STRING, 0, 0);
                    lx->i = k + 2;
                    return;
                }
        }
        if (pre) {
            bool open = false;
            size_t e = vg_scan_string(s, n, j + 1, '\'', &open);
            vg_push(lx, i, e - i, VG_SQLI_T_STRING, 0, open ? VG_SQLI_TF_OPEN : 0);
            lx->i = e;
            return;
        }
    }
    const struct vg_word *w = vg_word_find(s + i, j - i);
    /* Dotted names: schema.table.column, dbms_lock.sleep, master..xp_cmdshell */
    size_t e = j;
    bool dotted = false;
    while (e < n && s[e] == '.') {
        size_t k = e + 1;
        while (k < n && s[k] == '.')
            k++;
        if (k < n && (vg_is_word_start(s[k]) || s[k] == '`' || s[k] == '[' || s[k] == '"')) {
            if (s[k] == '`' || s[k] == '[' || s[k] == '"') {
                uint8_t cl = s[k] == '[' ? ']' : s[k];
                const uint8_t *q = memchr(s + k + 1, cl, n - k - 1);
                if (!q)
                    break;
                e = (size_t)(q - s) + 1;
            } else {
                e = k;
                while (e < n && vg_is_word(s[e]))
                    e++;
            }
            dotted = true;
            continue;
        }
        if (k < n && s[k] == '*') { /* t.* */
            e = k + 1;
            dotted = true;
        }
        break;
    }
    if (dotted)
        w = NULL;
    uint8_t type = VG_SQLI_T_WORD, kw = 0, fl = 0;
    if (w && w->wclass == W_KEY) {
        kw = w->kw;
        switch (kw) {
        case K_AND: case K_OR: case K_XOR:
            type = VG_SQLI_T_LOGIC;
            break;
        case K_NOT:
            type = VG_SQLI_T_NOT;
            break;
        case K_LIKE: case K_RLIKE: case K_REGEXP: case K_ILIKE: case K_GLOB: case K_DIV:
        case K_MOD: case K_IS: case K_IN: case K_BETWEEN: case K_SOUNDS: case K_SIMILAR:
            type = VG_SQLI_T_OPERATOR;
            break;
        case K_UNION: case K_INTERSECT: case K_EXCEPT: case K_MINUS:
            type = VG_SQLI_T_UNION;
            break;
        case K_SELECT: case K_INSERT: case K_UPDATE: case K_DELETE: case K_DROP: case K_CREATE:
        case K_ALTER: case K_TRUNCATE: case K_EXEC: case K_DECLARE: case K_SET: case K_SHUTDOWN:
        case K_WAITFOR: case K_GRANT: case K_REVOKE: case K_RENAME: case K_REPLACE: case K_CALL:
        case K_LOAD: case K_HANDLER: case K_DO: case K_BEGIN: case K_SHOW: case K_USE:
        case K_DESCRIBE: case K_PREPARE: case K_MERGE: case K_IF: case K_WHILE: case K_KILL:
        case K_DBCC: case K_PRINT: case K_DEALLOCATE: case K_GOTO:
            type = VG_SQLI_T_STATEMENT;
            break;
        default:
            type = VG_SQLI_T_KEYWORD;
            break;
        }
    }
    /* A word (or keyword that names a function) followed by '(' is a call. */
    size_t k = e;
    while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r'))
        k++;
    bool call = k < n && s[k] == '(';
    if (call && (type == VG_SQLI_T_WORD || (w && w->fn) ||
                 (type == VG_SQLI_T_STATEMENT && kw == K_IF))) {
        bool known = w && (w->fn & FN_KNOWN);
        type = VG_SQLI_T_FUNCTION;
        if (known)
            fl |= VG_SQLI_TF_KNOWN;
        if ((w && (w->fn & FN_STRONG)) || vg_strong_prefix(s + i, e - i))
            fl |= VG_SQLI_TF_STRONG | VG_SQLI_TF_KNOWN;
    } else if (type == VG_SQLI_T_WORD && vg_strong_prefix(s + i, e - i)) {
        fl |= VG_SQLI_TF_STRONG; /* a procedure name without parentheses (EXEC xp_cmdshell) */
    }
    if (vg_push(lx, i, e - i, type, kw, fl) && type == VG_SQLI_T_FUNCTION && w)
        lx->st->tok[lx->st->ntok - 1].fn = (uint8_t)(w->fn & (FN_EMPTY | FN_MULTI));
    lx->i = e;
}

/* Tokenizes from lx->i to the end. */
static void vg_lex_run(struct vg_lex *lx)
{
    const uint8_t *s = lx->s;
    size_t n = lx->n;
    while (lx->i < n && !lx->st->truncated) {
        size_t i = lx->i;
        uint8_t c = s[i];
        if (vg_is_space(c)) {
            lx->space = true;
            lx->i++;
            continue;
        }
        /* comments */
        if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            const uint8_t *nl = memchr(s + i, '\n', n - i);
            size_t e = nl ? (size_t)(nl - s) : n;
            vg_push(lx, i, e - i, VG_SQLI_T_COMMENT, 0, VG_SQLI_TF_LINE);
            lx->i = e;
            continue;
        }
        if (c == '#') {
            const uint8_t *nl = memchr(s + i, '\n', n - i);
            size_t e = nl ? (size_t)(nl - s) : n;
            vg_push(lx, i, e - i, VG_SQLI_T_COMMENT, 0, VG_SQLI_TF_LINE);
            lx->i = e;
            continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            if (i + 2 < n && s[i + 2] == '!') { /* MySQL executable comment: its text is SQL */
                size_t k = i + 3, d = k;
                while (d < n && d < i + 9 && vg_is_digit(s[d]))
                    d++;
                if (d - k >= 5 || (d > k && d < n && (vg_is_word_start(s[d]) || s[d] == ' ')))
                    k = d; /* a version number: 50000, or sqlmap's 0 before a keyword */
                lx->exec_open = true;
                lx->st->exec_comment = true;
                lx->space = true;
                lx->i = k;
                continue;
            }
            size_t e = n;
            uint8_t fl = VG_SQLI_TF_OPEN;
            for (size_t k = i + 2; k + 1 < n; k++)
                if (s[k] == '*' && s[k + 1] == '/') {
                    e = k + 2;
                    fl = 0;
                    break;
                }
            if (fl == 0 && e < n) {
                /* An inline comment between tokens is whitespace (UNION/x/SELECT). */
                lx->space = true;
                lx->i = e;
                continue;
            }
            vg_push(lx, i, e - i, VG_SQLI_T_COMMENT, 0, fl);
            lx->i = e;
            continue;
        }
        if (c == '*' && i + 1 < n && s[i + 1] == '/' && lx->exec_open) {
            lx->exec_open = false;
            lx->space = true;
            lx->i += 2;
            continue;
        }
        /* strings and quoted identifiers */
        if (c == '\'' || c == '"') {
            bool open = false;
            size_t e = vg_scan_string(s, n, i + 1, c, &open);
            vg_push(lx, i, e - i, VG_SQLI_T_STRING, 0, open ? VG_SQLI_TF_OPEN : 0);
            lx->i = e;
            continue;
        }
        if (c == '`') {
            const uint8_t *q = memchr(s + i + 1, '`', n - i - 1);
            size_t e = q ? (size_t)(q - s) + 1 : n;
            vg_push(lx, i, e - i, VG_SQLI_T_WORD, 0, q ? 0 : VG_SQLI_TF_OPEN);
            lx->i = e;
            /* `a`.`b` */
            while (lx->i + 1 < n && s[lx->i] == '.' &&
                   (s[lx->i + 1] == '`' || vg_is_word_start(s[lx->i + 1]))) {
                size_t k = lx->i + 1;
                size_t e2;
                if (s[k] == '`') {
                    q = memchr(s + k + 1, '`', n - k - 1);
                    e2 = q ? (size_t)(q - s) + 1 : n;
                } else {
                    e2 = k;
                    while (e2 < n && vg_is_word(s[e2]))
                        e2++;
                }
                lx->st->tok[lx->st->ntok - 1].len = (uint32_t)(e2 - lx->st->tok[lx->st->ntok - 1].pos);
                lx->i = e2;
            }
            continue;
        }
        if (c == '\\' && i + 1 < n && s[i + 1] == 'N' && (i + 2 >= n || !vg_is_word(s[i + 2]))) {
            vg_push(lx, i, 2, VG_SQLI_T_KEYWORD, K_NULL, 0); /* MySQL \N is NULL */
            lx->i += 2;
            continue;
        }
        if (c == '[') {
            size_t k = i + 1;
            while (k < n && k < i + 130 && s[k] != ']' && s[k] != '[' && s[k] != '\'' &&
                   s[k] != '"')
                k++;
            if (k < n && s[k] == ']' && k > i + 1) {
                vg_push(lx, i, k + 1 - i, VG_SQLI_T_WORD, 0, 0);
                lx->i = k + 1;
                continue;
            }
            vg_push(lx, i, 1, VG_SQLI_T_OTHER, 0, 0);
            lx->i++;
            continue;
        }
        if (c == '$' && i + 1 < n && (s[i + 1] == '$' || vg_is_word_start(s[i + 1]))) {
            /* PostgreSQL dollar quoting $$..$$ / $tag$..$tag$ */
            size_t k = i + 1;
            while (k < n && k < i + 34 && s[k] != '$' && vg_is_word(s[k]))
                k++;
            if (k < n && s[k] == '$') {
                size_t tag = k + 1 - i;
                size_t e = n;
                uint8_t fl = VG_SQLI_TF_OPEN;
                for (size_t m = k + 1; m + tag <= n; m++)
                    if (s[m] == '$' && memcmp(s + m, s + i, tag) == 0) {
                        e = m + tag;
                        fl = 0;
                        break;
                    }
                vg_push(lx, i, e - i, VG_SQLI_T_STRING, 0, fl);
                lx->i = e;
                continue;
            }
        }
        if (vg_is_digit(c) || (c == '.' && i + 1 < n && vg_is_digit(s[i + 1]))) {
            size_t e = vg_scan_number(s, n, i);
            if (e < n && vg_is_word(s[e]) && vg_is_digit(c)) {
                /* MySQL identifiers may start with digits (1a, 0_3, 25FALSE); a keyword glued
                   to a number stays apart (1union, 1and). */
                bool digits = true;
                for (size_t k = i; k < e && digits; k++)
                    digits = vg_is_digit(s[k]);
                size_t w = e;
                while (w < n && vg_is_word(s[w]))
                    w++;
                const struct vg_word *kw = vg_word_find(s + e, w - e);
                if (digits && !(kw && kw->wclass == W_KEY)) {
                    vg_push(lx, i, w - i, VG_SQLI_T_WORD, 0, 0);
                    lx->i = w;
                    continue;
                }
            }
            vg_push(lx, i, e - i, VG_SQLI_T_NUMBER, 0, 0);
            lx->i = e;
            continue;
        }
        if (vg_is_word_start(c)) {
            vg_lex_word(lx);
            continue;
        }
        if (c == '@') {
            size_t k = i + 1;
            if (k < n && s[k] == '@')
                k++;
            if (k < n && (s[k] == '\'' || s[k] == '"' || s[k] == '`')) {
                bool open = false;
                size_t e = vg_scan_string(s, n, k + 1, s[k], &open);
                vg_push(lx, i, e - i, VG_SQLI_T_VARIABLE, 0, 0);
                lx->i = e;
                continue;
            }
            size_t e = k;
            while (e < n && (vg_is_word(s[e]) || s[e] == '.'))
                e++;
            vg_push(lx, i, e - i, VG_SQLI_T_VARIABLE, 0, 0); /* '@' alone: MySQL @ */
            lx->i = e > i + 1 ? e : i + 1;
            continue;
        }
        if (c == ':' && i + 1 < n && vg_is_word_start(s[i + 1]) && !(i + 1 < n && s[i + 1] == ':')) {
            size_t e = i + 1;
            while (e < n && vg_is_word(s[e]))
                e++;
            vg_push(lx, i, e - i, VG_SQLI_T_VARIABLE, 0, 0);
            lx->i = e;
            continue;
        }
        switch (c) {
        case '(':
            vg_push(lx, i, 1, VG_SQLI_T_LPAREN, 0, 0);
            lx->i++;
            continue;
        case ')':
            vg_push(lx, i, 1, VG_SQLI_T_RPAREN, 0, 0);
            lx->i++;
            continue;
        case ',':
            vg_push(lx, i, 1, VG_SQLI_T_COMMA, 0, 0);
            lx->i++;
            continue;
        case ';':
            vg_push(lx, i, 1, VG_SQLI_T_SEMICOLON, 0, 0);
            lx->i++;
            continue;
        case '.':
            vg_push(lx, i, 1, VG_SQLI_T_DOT, 0, 0);
            lx->i++;
            continue;
        default:
            break;
        }
        uint8_t type;
        size_t m = vg_operator_len(s, n, i, &type);
        if (m) {
            vg_push(lx, i, m, type, 0, 0);
            lx->i += m;
            continue;
        }
        vg_push(lx, i, 1, VG_SQLI_T_OTHER, 0, 0);
        lx->i++;
    }
}

/*
 * Tokenizes s[0, n) in context ctx into st (see detect_sqli.h). In a quote context the value
 * begins inside a string: the first token is that string, up to the first closing quote.
 */
unsigned vg_sqli_tokenize(struct vg_sqli_state *st, const uint8_t *s, size_t n,
                          enum vg_sqli_ctx ctx)
{
    st->s = s;
    st->n = n;
    st->ctx = ctx;
    st->ntok = 0;
    st->truncated = false;
    st->exec_comment = false;
    struct vg_lex lx = {.st = st, .s = s, .n = n, .i = 0, .space = false, .exec_open = false};
    if (ctx == VG_SQLI_CTX_SQUOTE || ctx == VG_SQLI_CTX_DQUOTE) {
        uint8_t q = ctx == VG_SQLI_CTX_SQUOTE ? '\'' : '"';
        bool open = false;
        size_t e = vg_scan_string(s, n, 0, q, &open);
        vg_push(&lx, 0, e, VG_SQLI_T_STRING, 0, open ? VG_SQLI_TF_OPEN : 0);
        lx.i = e;
    }
    vg_lex_run(&lx);
    return st->ntok;
}

/* ---- the grammar ------------------------------------------------------------------------- */

/* What the parser recognised (bits of vg_parser.feat). */
#define F_LOGIC 0x0001u      /* AND / OR / XOR / && / || between operands */
#define F_CMP 0x0002u        /* a comparison (=, <, LIKE, IS, IN, BETWEEN ...) */
#define F_CMP_CONST 0x0004u  /* a comparison of constants or of an identifier with itself */
#define F_LOGIC_CONST 0x0008u/* a logical operator with a constant operand (OR 1, AND TRUE) */
#define F_ARITH 0x0010u      /* an arithmetic or bitwise operator */
#define F_ARITH_LIT 0x0020u  /* ... with a literal operand on its right */
#define F_FUNC 0x0040u       /* a call of a known function */
#define F_FUNC_ANY 0x0080u   /* a call of any function */
#define F_CLAUSE 0x0100u     /* ORDER BY / GROUP BY / HAVING / LIMIT after the breakout */
#define F_APPCLOSE 0x0200u   /* ')' closing the application's parenthesis */
#define F_WHERE 0x0400u      /* a WHERE clause */
#define F_LOGIC_STR 0x0800u  /* a logical operator with a string operand (OR 'x') */
#define F_ARITH_SQ 0x1000u   /* an arithmetic operator with a '...' string on its right */
#define F_FROM 0x4000u       /* a FROM clause */
#define F_FSTRONG 0x8000u    /* a call of a function typical of injections */
#define F_LITITEM 0x10000u   /* a select item that is a bare number or NULL */

/* An operand as the grammar saw it. */
struct vg_opnd {
    bool constant;  /* a literal, or computed from literals only */
    int ident;      /* token index of a lone identifier, -1 otherwise */
};

struct vg_parser {
    const struct vg_sqli_state *st;
    uint16_t idx[VG_SQLI_MAX_TOKENS]; /* indexes of the non-comment tokens */
    unsigned n;                       /* their number */
    unsigned i;                       /* next one */
    unsigned depth;
    bool err;
    unsigned err_at;
    unsigned app_close;  /* ')' that closed the application's parentheses */
    unsigned end_close;  /* '(' left open at the end (closed by the application) */
    bool weak_start;     /* as-is value starting with a word: natural text is likely */
    bool implied;        /* the value starts after its literal (" union select ...") */
    bool whole_statement;/* the value starts with a statement keyword */
    bool has_comment;    /* the value has comments (between tokens or at the end) */
    bool cond_done;      /* the condition parsed completely up to a ';' */
    uint32_t feat;
    enum vg_sqli_reason strong;
    unsigned strong_at;
};

static const struct vg_sqli_token *vg_tok(const struct vg_parser *p, unsigned k)
{
    return &p->st->tok[p->idx[k]];
}

static bool vg_at_end(const struct vg_parser *p)
{
    return p->i >= p->n;
}

static uint8_t vg_type(const struct vg_parser *p)
{
    return p->i < p->n ? vg_tok(p, p->i)->type : VG_SQLI_T_NONE;
}

static uint8_t vg_type_at(const struct vg_parser *p, unsigned k)
{
    return k < p->n ? vg_tok(p, k)->type : VG_SQLI_T_NONE;
}

static uint8_t vg_kw(const struct vg_parser *p)
{
    if (p->i >= p->n)
        return K_NONE;
    const struct vg_sqli_token *t = vg_tok(p, p->i);
    return (t->type == VG_SQLI_T_FUNCTION || t->type == VG_SQLI_T_WORD) ? K_NONE : t->kw;
}

static uint8_t vg_kw_at(const struct vg_parser *p, unsigned k)
{
    if (k >= p->n)
        return K_NONE;
    const struct vg_sqli_token *t = vg_tok(p, k);
    return (t->type == VG_SQLI_T_FUNCTION || t->type == VG_SQLI_T_WORD) ? K_NONE : t->kw;
}

static bool vg_fail(struct vg_parser *p)
{
    if (!p->err) {
        p->err = true;
        p->err_at = p->i;
    }
    return false;
}

static void vg_strong(struct vg_parser *p, enum vg_sqli_reason r)
{
    if (p->strong == VG_SQLI_R_NONE && !p->err) {
        p->strong = r;
        p->strong_at = p->i;
    }
}

/* Consumes a token of the given type. */
static bool vg_eat(struct vg_parser *p, uint8_t type)
{
    if (vg_type(p) != type)
        return false;
    p->i++;
    return true;
}

static bool vg_eat_kw(struct vg_parser *p, uint8_t kw)
{
    if (vg_kw(p) != kw)
        return false;
    p->i++;
    return true;
}

/* The byte of an operator token (0 for word operators). */
static uint8_t vg_op_char(const struct vg_parser *p, unsigned k, size_t *len)
{
    const struct vg_sqli_token *t = vg_tok(p, k);
    *len = t->len;
    if (t->kw)
        return 0;
    return p->st->s[t->pos];
}

static bool vg_is_cmp_op(const struct vg_parser *p, unsigned k)
{
    if (vg_type_at(p, k) != VG_SQLI_T_OPERATOR)
        return false;
    size_t len;
    uint8_t c = vg_op_char(p, k, &len);
    if (c == 0) {
        uint8_t kw = vg_tok(p, k)->kw;
        return kw == K_LIKE || kw == K_RLIKE || kw == K_REGEXP || kw == K_ILIKE ||
               kw == K_GLOB || kw == K_SIMILAR || kw == K_SOUNDS;
    }
    const uint8_t *s = p->st->s + vg_tok(p, k)->pos;
    if (len == 1)
        return c == '=' || c == '<' || c == '>';
    if (len == 2)
        return (s[0] == '<' && (s[1] == '>' || s[1] == '=')) ||
               (s[0] == '!' && (s[1] == '=' || s[1] == '<' || s[1] == '>')) ||
               (s[0] == '>' && s[1] == '=') || (s[0] == '=' && s[1] == '=') ||
               (s[0] == '!' && s[1] == '~') || (s[0] == '~' && s[1] == '*');
    return len == 3 && s[0] == '<';
}

static bool vg_parse_expr(struct vg_parser *p, struct vg_opnd *out);
static bool vg_parse_select(struct vg_parser *p, bool need_strong, bool *strong_out);
static bool vg_parse_statement(struct vg_parser *p, bool need_strong, bool *strong_out);

/* Enters one nesting level (parenthesis, subquery); false at the depth limit. */
static bool vg_enter(struct vg_parser *p)
{
    if (p->depth >= VG_SQLI_MAX_DEPTH)
        return vg_fail(p);
    p->depth++;
    return true;
}

/* Expects ')' closing a parenthesis opened inside the value; at the end of the value an
   open parenthesis may be closed by the application (up to the ')' the value closed of it). */
static bool vg_close_paren(struct vg_parser *p)
{
    if (vg_eat(p, VG_SQLI_T_RPAREN))
        return true;
    if (vg_at_end(p) && p->end_close < p->app_close) {
        p->end_close++;
        return true;
    }
    return vg_fail(p);
}

/* expr (',' expr)* ; returns the count in *count. */
static bool vg_parse_list(struct vg_parser *p, unsigned *count, bool *all_const)
{
    unsigned c = 0;
    bool cst = true;
    do {
        struct vg_opnd o;
        if (!vg_parse_expr(p, &o))
            return false;
        cst = cst && o.constant;
        c++;
    } while (vg_eat(p, VG_SQLI_T_COMMA));
    if (count)
        *count = c;
    if (all_const)
        *all_const = cst;
    return true;
}

/* A type name of CAST(x AS type) / CONVERT(x, type) / x::type: a word or keyword with an
   optional (n[,m]) and a following word (UNSIGNED, VARYING ...). */
static bool vg_parse_type(struct vg_parser *p)
{
    uint8_t t = vg_type(p);
    if (t != VG_SQLI_T_WORD && t != VG_SQLI_T_KEYWORD && t != VG_SQLI_T_FUNCTION &&
        t != VG_SQLI_T_STATEMENT)
        return vg_fail(p);
    p->i++;
    if (t == VG_SQLI_T_FUNCTION || vg_type(p) == VG_SQLI_T_LPAREN) {
        if (!vg_eat(p, VG_SQLI_T_LPAREN))
            return vg_fail(p);
        if (!vg_eat(p, VG_SQLI_T_NUMBER) && !vg_eat(p, VG_SQLI_T_WORD))
            return vg_fail(p);
        if (vg_eat(p, VG_SQLI_T_COMMA) && !vg_eat(p, VG_SQLI_T_NUMBER))
            return vg_fail(p);
        if (!vg_eat(p, VG_SQLI_T_RPAREN))
            return vg_fail(p);
    }
    if (vg_type(p) == VG_SQLI_T_WORD && !(vg_tok(p, p->i)->flags & VG_SQLI_TF_OPEN))
        p->i++; /* UNSIGNED, SIGNED, VARYING */
    return true;
}

/* A function call; the name is the current token. */
static bool vg_parse_call(struct vg_parser *p, struct vg_opnd *out)
{
    const struct vg_sqli_token *name = vg_tok(p, p->i);
    uint8_t kw = K_NONE;
    {
        /* The keyword behind the name decides special argument syntax. */
        const struct vg_word *w = vg_word_find(p->st->s + name->pos, name->len);
        kw = w ? w->kw : K_NONE;
    }
    p->i++;
    if (!vg_eat(p, VG_SQLI_T_LPAREN))
        return vg_fail(p);
    if (!vg_enter(p))
        return false;
    unsigned args = 0;
    bool cst = true;
    if (vg_type(p) == VG_SQLI_T_RPAREN) {
        /* no argument */
    } else if (vg_type(p) == VG_SQLI_T_OPERATOR && p->st->s[vg_tok(p, p->i)->pos] == '*' &&
               vg_tok(p, p->i)->len == 1) {
        p->i++; /* COUNT(*) */
        args = 1;
    } else if (kw == K_CAST) {
        struct vg_opnd o;
        if (!vg_parse_expr(p, &o) || !vg_eat_kw(p, K_AS) || !vg_parse_type(p))
            return false;
        args = 1;
        cst = o.constant;
    } else if (kw == K_CONVERT) {
        struct vg_opnd o;
        if (!vg_parse_expr(p, &o))
            return false;
        if (vg_eat(p, VG_SQLI_T_COMMA)) {
            /* MySQL CONVERT(x, type); SQL Server CONVERT(type, x [, style]) */
            uint8_t t1 = vg_type_at(p, p->i + 1);
            uint8_t t2 = vg_type_at(p, p->i + 2);
            if ((vg_type(p) == VG_SQLI_T_WORD || vg_type(p) == VG_SQLI_T_KEYWORD ||
                 vg_type(p) == VG_SQLI_T_FUNCTION) &&
                (t1 == VG_SQLI_T_RPAREN || (t1 == VG_SQLI_T_LPAREN && t2 == VG_SQLI_T_NUMBER) ||
                 t1 == VG_SQLI_T_WORD)) {
                if (!vg_parse_type(p))
                    return false;
            } else {
                unsigned more = 0;
                if (!vg_parse_list(p, &more, NULL))
                    return false;
            }
        } else if (vg_eat_kw(p, K_USING)) {
            if (vg_type(p) != VG_SQLI_T_WORD && vg_type(p) != VG_SQLI_T_KEYWORD)
                return vg_fail(p);
            p->i++;
        } else {
            return vg_fail(p);
        }
        args = 2;
        cst = o.constant;
    } else {
        /* COUNT(DISTINCT x), GROUP_CONCAT(ALL x) */
        if (!vg_eat_kw(p, K_DISTINCT))
            (void)vg_eat_kw(p, K_ALL);
        if (vg_kw(p) == K_SELECT) {
            bool strong = false;
            if (!vg_parse_select(p, false, &strong))
                return false;
            args = 1;
            cst = false;
        } else {
            if (!vg_parse_list(p, &args, &cst))
                return false;
            /* GROUP_CONCAT(x SEPARATOR y), SUBSTRING(x FROM a FOR b), POSITION(a IN b),
               EXTRACT(YEAR FROM d), TRIM(x FROM y), string_agg(x ORDER BY y) */
            while (!p->err && (vg_type(p) == VG_SQLI_T_WORD || vg_kw(p) == K_FROM ||
                               vg_kw(p) == K_FOR || vg_kw(p) == K_ORDER ||
                               vg_kw(p) == K_USING || vg_kw(p) == K_AS)) {
                if (vg_eat_kw(p, K_ORDER) && !vg_eat_kw(p, K_BY))
                    return vg_fail(p);
                if (vg_type(p) == VG_SQLI_T_WORD || vg_kw(p) == K_FROM || vg_kw(p) == K_FOR ||
                    vg_kw(p) == K_USING || vg_kw(p) == K_AS)
                    p->i++;
                struct vg_opnd o;
                if (!vg_parse_expr(p, &o))
                    return false;
                args++;
            }
        }
    }
    if (!vg_close_paren(p))
        return false;
    p->depth--;
    out->constant = cst;
    out->ident = -1;
    p->feat |= F_FUNC_ANY;
    if (name->flags & VG_SQLI_TF_KNOWN)
        p->feat |= F_FUNC;
    if (name->flags & VG_SQLI_TF_STRONG) {
        bool ok = true;
        if (name->fn & FN_EMPTY)
            ok = args == 0;
        else if (name->fn & FN_MULTI)
            ok = args >= 2;
        if (ok) {
            p->feat |= F_FSTRONG;
            vg_strong(p, VG_SQLI_R_FUNCTION);
        }
    }
    return true;
}

/* CASE [x] WHEN a THEN b ... [ELSE c] END */
static bool vg_parse_case(struct vg_parser *p)
{
    p->i++;
    struct vg_opnd o;
    if (vg_kw(p) != K_WHEN && !vg_parse_expr(p, &o))
        return false;
    if (vg_kw(p) != K_WHEN)
        return vg_fail(p);
    while (vg_eat_kw(p, K_WHEN)) {
        if (!vg_parse_expr(p, &o) || !vg_eat_kw(p, K_THEN))
            return vg_fail(p);
        if (!vg_parse_expr(p, &o))
            return false;
    }
    if (vg_eat_kw(p, K_ELSE) && !vg_parse_expr(p, &o))
        return false;
    if (!vg_eat_kw(p, K_END))
        return vg_fail(p);
    vg_strong(p, VG_SQLI_R_FUNCTION);
    return true;
}

/* Subquery or parenthesized expression list; current token is '('. */
static bool vg_parse_paren(struct vg_parser *p, struct vg_opnd *out)
{
    p->i++;
    if (!vg_enter(p))
        return false;
    out->constant = false;
    out->ident = -1;
    if (vg_kw(p) == K_SELECT || (vg_kw(p) == K_WITH && vg_type_at(p, p->i + 1) == VG_SQLI_T_WORD)) {
        bool strong = false;
        if (!vg_parse_select(p, p->weak_start && p->depth <= 1, &strong))
            return false;
        /* (SELECT ...) UNION (SELECT ...) inside parentheses */
        while (vg_type(p) == VG_SQLI_T_UNION) {
            p->i++;
            if (!vg_eat_kw(p, K_ALL))
                (void)vg_eat_kw(p, K_DISTINCT);
            if (vg_eat(p, VG_SQLI_T_LPAREN)) {
                if (!vg_parse_select(p, false, &strong) || !vg_close_paren(p))
                    return false;
            } else if (!vg_parse_select(p, false, &strong)) {
                return false;
            }
        }
    } else {
        unsigned c = 0;
        bool cst = true;
        if (!vg_parse_list(p, &c, &cst))
            return false;
        out->constant = cst && c == 1;
        /* ((a),b) UNION ... handled by the caller's clauses */
    }
    if (!vg_close_paren(p))
        return false;
    p->depth--;
    return true;
}

/* One operand with its prefix and postfix operators. */
static bool vg_parse_operand(struct vg_parser *p, struct vg_opnd *out)
{
    out->constant = false;
    out->ident = -1;
    /* prefix: - + ~ ! NOT BINARY */
    for (;;) {
        uint8_t t = vg_type(p);
        if (t == VG_SQLI_T_NOT) {
            p->i++;
            continue;
        }
        if (t == VG_SQLI_T_OPERATOR) {
            size_t len;
            uint8_t c = vg_op_char(p, p->i, &len);
            if (len == 1 && (c == '-' || c == '+' || c == '~')) {
                p->i++;
                continue;
            }
            /* SQLite's like(a, b) / glob(a, b) */
            if ((vg_kw(p) == K_LIKE || vg_kw(p) == K_GLOB || vg_kw(p) == K_MOD) &&
                vg_type_at(p, p->i + 1) == VG_SQLI_T_LPAREN)
                return vg_parse_call(p, out);
            return vg_fail(p);
        }
        if (t == VG_SQLI_T_KEYWORD && (vg_kw(p) == K_BINARY || vg_kw(p) == K_DISTINCT)) {
            p->i++;
            continue;
        }
        break;
    }
    uint8_t t = vg_type(p);
    uint8_t kw = vg_kw(p);
    switch (t) {
    case VG_SQLI_T_NUMBER:
        p->i++;
        out->constant = true;
        break;
    case VG_SQLI_T_STRING:
        p->i++;
        out->constant = true;
        /* MySQL concatenates adjacent strings: 'a' 'b' */
        while (vg_type(p) == VG_SQLI_T_STRING && p->st->ctx == VG_SQLI_CTX_NONE)
            p->i++;
        break;
    case VG_SQLI_T_VARIABLE:
        p->i++;
        out->constant = true;
        break;
    case VG_SQLI_T_WORD:
        if (vg_tok(p, p->i)->flags & VG_SQLI_TF_OPEN)
            return vg_fail(p);
        out->ident = (int)p->i;
        p->i++;
        break;
    case VG_SQLI_T_FUNCTION:
        if (!vg_parse_call(p, out))
            return false;
        break;
    case VG_SQLI_T_LPAREN:
        if (!vg_parse_paren(p, out))
            return false;
        break;
    case VG_SQLI_T_STATEMENT:
        /* a subquery without parentheses (1 AND SELECT 1 FROM t) */
        if (kw == K_SELECT) {
            bool strong = false;
            if (!vg_parse_select(p, true, &strong))
                return false;
            break;
        }
        return vg_fail(p);
    case VG_SQLI_T_KEYWORD:
        switch (kw) {
        case K_NULL: case K_TRUE: case K_FALSE: case K_UNKNOWN: case K_DEFAULT:
        case K_USER_LIT:
            p->i++;
            out->constant = true;
            break;
        case K_CASE:
            if (!vg_parse_case(p))
                return false;
            out->constant = true;
            break;
        case K_EXISTS: case K_ANY: case K_SOME: case K_ALL:
            p->i++;
            if (vg_type(p) != VG_SQLI_T_LPAREN)
                return vg_fail(p);
            if (!vg_parse_paren(p, out))
                return false;
            break;
        case K_INTERVAL: {
            p->i++;
            struct vg_opnd o;
            if (!vg_parse_operand(p, &o))
                return false;
            if (vg_type(p) != VG_SQLI_T_WORD && vg_type(p) != VG_SQLI_T_KEYWORD &&
                vg_type(p) != VG_SQLI_T_FUNCTION)
                return vg_fail(p);
            p->i++;
            out->constant = o.constant;
            break;
        }
        default:
            return vg_fail(p);
        }
        break;
    default:
        return vg_fail(p);
    }
    /* postfix: COLLATE x, ::type */
    for (;;) {
        if (vg_eat_kw(p, K_COLLATE)) {
            if (vg_type(p) != VG_SQLI_T_WORD && vg_type(p) != VG_SQLI_T_STRING)
                return vg_fail(p);
            p->i++;
            continue;
        }
        if (vg_type(p) == VG_SQLI_T_OPERATOR) {
            size_t len;
            const uint8_t *s = p->st->s + vg_tok(p, p->i)->pos;
            (void)vg_op_char(p, p->i, &len);
            if (len == 2 && s[0] == ':' && s[1] == ':') {
                p->i++;
                if (!vg_parse_type(p))
                    return false;
                continue;
            }
        }
        break;
    }
    return true;
}

/* Records a comparison of two operands. */
static void vg_note_cmp(struct vg_parser *p, const struct vg_opnd *a, const struct vg_opnd *b)
{
    p->feat |= F_CMP;
    bool same = false;
    if (a->ident >= 0 && b->ident >= 0) {
        const struct vg_sqli_token *x = vg_tok(p, (unsigned)a->ident);
        const struct vg_sqli_token *y = vg_tok(p, (unsigned)b->ident);
        same = x->len == y->len && x->len > 0;
        for (uint32_t k = 0; same && k < x->len; k++) {
            uint8_t c1 = p->st->s[x->pos + k], c2 = p->st->s[y->pos + k];
            if (c1 >= 'A' && c1 <= 'Z')
                c1 = (uint8_t)(c1 + 32);
            if (c2 >= 'A' && c2 <= 'Z')
                c2 = (uint8_t)(c2 + 32);
            same = c1 == c2;
        }
    }
    if ((a->constant && b->constant) || same)
        p->feat |= F_CMP_CONST;
}

/*
 * The operator loop of an expression whose first operand is *side (in: that operand; out: the
 * whole expression). Constant-ness is tracked per comparison side: the run of operands joined
 * by arithmetic since the last comparison or logical operator.
 */
static bool vg_parse_expr_rest(struct vg_parser *p, struct vg_opnd *side)
{
    struct vg_opnd first = *side;
    bool single = true;
    bool all_const = side->constant;
    for (;;) {
        uint8_t t = vg_type(p);
        uint8_t kw = vg_kw(p);
        if (t == VG_SQLI_T_LOGIC) {
            p->i++;
            p->feat |= F_LOGIC;
            struct vg_opnd o;
            if (!vg_parse_operand(p, &o))
                return false;
            /* OR 1, AND TRUE: a constant as a whole condition (no comparison follows) */
            if (o.constant && vg_type(p) != VG_SQLI_T_OPERATOR)
                p->feat |= vg_type_at(p, p->i - 1) == VG_SQLI_T_STRING ? F_LOGIC_STR
                                                                       : F_LOGIC_CONST;
            *side = o;
            all_const = all_const && o.constant;
            single = false;
            continue;
        }
        if (t == VG_SQLI_T_NOT) {
            /* NOT LIKE / NOT IN / NOT BETWEEN / NOT REGEXP */
            uint8_t nk = vg_kw_at(p, p->i + 1);
            if (nk == K_LIKE || nk == K_IN || nk == K_BETWEEN || nk == K_REGEXP ||
                nk == K_RLIKE || nk == K_ILIKE || nk == K_SIMILAR || nk == K_GLOB) {
                p->i++;
                continue;
            }
            return vg_fail(p);
        }
        if (t != VG_SQLI_T_OPERATOR)
            break;
        single = false;
        if (kw == K_IS) {
            p->i++;
            vg_eat(p, VG_SQLI_T_NOT);
            uint8_t k2 = vg_kw(p);
            if (k2 == K_NULL || k2 == K_TRUE || k2 == K_FALSE || k2 == K_UNKNOWN) {
                p->i++;
            } else if (k2 == K_DISTINCT) {
                p->i++;
                if (!vg_eat_kw(p, K_FROM))
                    return vg_fail(p);
                struct vg_opnd o;
                if (!vg_parse_operand(p, &o))
                    return false;
            } else {
                return vg_fail(p);
            }
            p->feat |= F_CMP | F_CMP_CONST; /* x IS NOT NULL holds for every row */
            continue;
        }
        if (kw == K_IN) {
            p->i++;
            const struct vg_sqli_token *m = p->i < p->n ? vg_tok(p, p->i) : NULL;
            if (m && m->type == VG_SQLI_T_WORD &&
                ((m->len == 7 && (p->st->s[m->pos] | 0x20) == 'b') ||
                 (m->len == 7 && (p->st->s[m->pos] | 0x20) == 'n'))) {
                /* MATCH ... AGAINST ('x' IN BOOLEAN MODE) / IN NATURAL LANGUAGE MODE */
                for (unsigned k = 0; k < 3 && vg_type(p) == VG_SQLI_T_WORD; k++)
                    p->i++;
                continue;
            }
            if (vg_type(p) != VG_SQLI_T_LPAREN)
                return vg_fail(p);
            struct vg_opnd o;
            if (!vg_parse_paren(p, &o))
                return false;
            p->feat |= F_CMP;
            if (side->constant && o.constant)
                p->feat |= F_CMP_CONST;
            continue;
        }
        if (kw == K_BETWEEN) {
            p->i++;
            struct vg_opnd a, b;
            if (!vg_parse_operand(p, &a))
                return false;
            while (vg_type(p) == VG_SQLI_T_OPERATOR && !vg_is_cmp_op(p, p->i) && !vg_kw(p)) {
                p->i++;
                if (!vg_parse_operand(p, &b))
                    return false;
                a.constant = a.constant && b.constant;
            }
            if (vg_kw(p) != K_AND)
                return vg_fail(p);
            p->i++;
            if (!vg_parse_operand(p, &b))
                return false;
            p->feat |= F_CMP;
            if (side->constant && a.constant && b.constant)
                p->feat |= F_CMP_CONST;
            continue;
        }
        if (kw == K_SOUNDS) {
            p->i++;
            if (vg_kw(p) != K_LIKE)
                return vg_fail(p);
        }
        if (kw == K_SIMILAR) {
            p->i++;
            if (vg_kw(p) != K_TO)
                return vg_fail(p);
        }
        bool cmp = vg_is_cmp_op(p, p->i);
        p->i++;
        struct vg_opnd o;
        if (!vg_parse_operand(p, &o))
            return false;
        if (cmp) {
            if (vg_eat_kw(p, K_ESCAPE)) {
                struct vg_opnd e;
                if (!vg_parse_operand(p, &e))
                    return false;
            }
            /* the right side runs on through arithmetic: 1=1+0 */
            struct vg_opnd r = o;
            while (vg_type(p) == VG_SQLI_T_OPERATOR && !vg_is_cmp_op(p, p->i) && !vg_kw(p)) {
                p->i++;
                p->feat |= F_ARITH;
                struct vg_opnd x;
                if (!vg_parse_operand(p, &x))
                    return false;
                r.constant = r.constant && x.constant;
                r.ident = -1;
            }
            vg_note_cmp(p, side, &r);
            side->constant = side->constant && r.constant;
            side->ident = -1;
            all_const = all_const && r.constant;
        } else {
            p->feat |= F_ARITH;
            if (o.constant)
                p->feat |= F_ARITH_LIT;
            if (vg_type_at(p, p->i - 1) == VG_SQLI_T_STRING &&
                p->st->s[vg_tok(p, p->i - 1)->pos] == '\'')
                p->feat |= F_ARITH_SQ;
            side->constant = side->constant && o.constant;
            side->ident = -1;
            all_const = all_const && o.constant;
        }
    }
    if (single) {
        *side = first;
    } else {
        side->constant = all_const;
        side->ident = -1;
    }
    return true;
}

/* expr := operand rest */
static bool vg_parse_expr(struct vg_parser *p, struct vg_opnd *out)
{
    if (!vg_enter(p))
        return false;
    if (!vg_parse_operand(p, out) || !vg_parse_expr_rest(p, out))
        return false;
    p->depth--;
    return true;
}

/* A table reference of FROM / JOIN: name [AS] alias, (subquery) alias, (refs), function(). */
static bool vg_parse_table_ref(struct vg_parser *p)
{
    uint8_t t = vg_type(p);
    if (t == VG_SQLI_T_WORD || t == VG_SQLI_T_STRING || (t == VG_SQLI_T_KEYWORD && vg_kw(p) == K_DATABASE)) {
        p->i++;
    } else if (t == VG_SQLI_T_FUNCTION) {
        struct vg_opnd o;
        if (!vg_parse_call(p, &o))
            return false;
    } else if (t == VG_SQLI_T_LPAREN) {
        struct vg_opnd o;
        if (!vg_parse_paren(p, &o))
            return false;
    } else {
        return vg_fail(p);
    }
    if (vg_eat_kw(p, K_AS)) {
        if (vg_type(p) != VG_SQLI_T_WORD && vg_type(p) != VG_SQLI_T_STRING)
            return vg_fail(p);
        p->i++;
    } else if (vg_type(p) == VG_SQLI_T_WORD) {
        p->i++;
    }
    return true;
}

/* FROM refs with joins. */
static bool vg_parse_from(struct vg_parser *p)
{
    if (!vg_parse_table_ref(p))
        return false;
    for (;;) {
        if (vg_eat(p, VG_SQLI_T_COMMA)) {
            if (!vg_parse_table_ref(p))
                return false;
            continue;
        }
        uint8_t kw = vg_kw(p);
        if (kw == K_JOIN || kw == K_INNER || kw == K_LEFT || kw == K_RIGHT || kw == K_FULL ||
            kw == K_CROSS || kw == K_NATURAL || kw == K_STRAIGHT_JOIN || kw == K_OUTER) {
            while (vg_kw(p) == K_INNER || vg_kw(p) == K_LEFT || vg_kw(p) == K_RIGHT ||
                   vg_kw(p) == K_FULL || vg_kw(p) == K_CROSS || vg_kw(p) == K_NATURAL ||
                   vg_kw(p) == K_OUTER)
                p->i++;
            if (!vg_eat_kw(p, K_JOIN) && !vg_eat_kw(p, K_STRAIGHT_JOIN))
                return vg_fail(p);
            if (!vg_parse_table_ref(p))
                return false;
            if (vg_eat_kw(p, K_ON)) {
                struct vg_opnd o;
                if (!vg_parse_expr(p, &o))
                    return false;
            } else if (vg_eat_kw(p, K_USING)) {
                struct vg_opnd o;
                if (vg_type(p) != VG_SQLI_T_LPAREN || !vg_parse_paren(p, &o))
                    return vg_fail(p);
            }
            continue;
        }
        break;
    }
    return true;
}

/* ORDER BY / GROUP BY list: expr [ASC|DESC] (, ...)* [WITH ROLLUP] */
static bool vg_parse_by_list(struct vg_parser *p)
{
    do {
        struct vg_opnd o;
        if (!vg_parse_expr(p, &o))
            return false;
        if (!vg_eat_kw(p, K_ASC))
            (void)vg_eat_kw(p, K_DESC);
    } while (vg_eat(p, VG_SQLI_T_COMMA));
    if (vg_kw(p) == K_WITH && vg_kw_at(p, p->i + 1) == K_ROLLUP)
        p->i += 2;
    return true;
}

/*
 * Clauses that may follow a condition or a select core: WHERE, GROUP BY, HAVING, ORDER BY,
 * LIMIT, OFFSET, FETCH, INTO, PROCEDURE ANALYSE, FOR UPDATE / FOR XML. Stops (without error)
 * at anything else.
 */
static bool vg_parse_clauses(struct vg_parser *p)
{
    for (;;) {
        uint8_t kw = vg_kw(p);
        struct vg_opnd o;
        if (kw == K_WHERE) {
            p->i++;
            if (!vg_parse_expr(p, &o))
                return false;
            p->feat |= F_WHERE;
        } else if (kw == K_GROUP || kw == K_ORDER) {
            p->i++;
            if (!vg_eat_kw(p, K_BY))
                return vg_fail(p);
            if (!vg_parse_by_list(p))
                return false;
            p->feat |= F_CLAUSE;
        } else if (kw == K_HAVING) {
            p->i++;
            if (!vg_parse_expr(p, &o))
                return false;
            p->feat |= F_CLAUSE;
        } else if (kw == K_LIMIT) {
            p->i++;
            if (!vg_eat(p, VG_SQLI_T_NUMBER) && !vg_eat(p, VG_SQLI_T_VARIABLE))
                return vg_fail(p);
            if (vg_eat(p, VG_SQLI_T_COMMA) || vg_eat_kw(p, K_OFFSET)) {
                if (!vg_eat(p, VG_SQLI_T_NUMBER) && !vg_eat(p, VG_SQLI_T_VARIABLE))
                    return vg_fail(p);
            }
            p->feat |= F_CLAUSE;
        } else if (kw == K_OFFSET) {
            p->i++;
            if (!vg_parse_operand(p, &o))
                return false;
            vg_eat_kw(p, K_ROWS);
            p->feat |= F_CLAUSE;
        } else if (kw == K_FETCH) {
            p->i++;
            if (!vg_eat_kw(p, K_FIRST) && !vg_eat_kw(p, K_NEXT))
                return vg_fail(p);
            vg_eat(p, VG_SQLI_T_NUMBER);
            if (!vg_eat_kw(p, K_ROWS) || !vg_eat_kw(p, K_ONLY))
                return vg_fail(p);
            p->feat |= F_CLAUSE;
        } else if (kw == K_INTO) {
            p->i++;
            if (vg_kw(p) == K_OUTFILE || vg_kw(p) == K_DUMPFILE) {
                p->i++;
                vg_strong(p, VG_SQLI_R_CLAUSE);
                /* FIELDS TERMINATED BY ... LINES ... : the rest is not checked */
                while (!vg_at_end(p) && vg_type(p) != VG_SQLI_T_SEMICOLON)
                    p->i++;
            } else if (vg_type(p) == VG_SQLI_T_VARIABLE) {
                while (vg_eat(p, VG_SQLI_T_VARIABLE) && vg_eat(p, VG_SQLI_T_COMMA)) {
                }
                p->feat |= F_CLAUSE;
            } else {
                return vg_fail(p);
            }
        } else if (kw == K_PROCEDURE) {
            p->i++;
            if (vg_type(p) != VG_SQLI_T_FUNCTION)
                return vg_fail(p);
            if (!vg_parse_call(p, &o))
                return false;
            vg_strong(p, VG_SQLI_R_CLAUSE);
        } else if (kw == K_FOR) {
            p->i++;
            if (vg_kw(p) == K_UPDATE || vg_kw(p) == K_SHARE) {
                p->i++;
                vg_eat_kw(p, K_NOWAIT);
            } else if (vg_type(p) == VG_SQLI_T_WORD) { /* FOR XML PATH / JSON AUTO */
                p->i++;
                if (vg_type(p) == VG_SQLI_T_WORD || vg_type(p) == VG_SQLI_T_FUNCTION) {
                    if (vg_type(p) == VG_SQLI_T_FUNCTION) {
                        if (!vg_parse_call(p, &o))
                            return false;
                    } else {
                        p->i++;
                    }
                }
            } else {
                return vg_fail(p);
            }
            p->feat |= F_CLAUSE;
        } else if (kw == K_LOCK) {
            p->i++;
            if (!vg_eat_kw(p, K_IN))
                return vg_fail(p);
            while (vg_type(p) == VG_SQLI_T_WORD || vg_kw(p) == K_SHARE)
                p->i++;
        } else {
            return true;
        }
        if (p->err)
            return false;
    }
}

/* True when the current token can start a select item. */
static bool vg_item_start(const struct vg_parser *p)
{
    uint8_t t = vg_type(p);
    uint8_t kw = vg_kw(p);
    if (t == VG_SQLI_T_OPERATOR) {
        uint8_t c = p->st->s[vg_tok(p, p->i)->pos];
        if ((kw == K_LIKE || kw == K_GLOB) && vg_type_at(p, p->i + 1) == VG_SQLI_T_LPAREN)
            return true;
        return vg_tok(p, p->i)->len == 1 && (c == '*' || c == '-' || c == '+' || c == '~');
    }
    return t == VG_SQLI_T_NUMBER || t == VG_SQLI_T_STRING || t == VG_SQLI_T_VARIABLE ||
           t == VG_SQLI_T_WORD || t == VG_SQLI_T_FUNCTION || t == VG_SQLI_T_LPAREN ||
           t == VG_SQLI_T_NOT ||
           (t == VG_SQLI_T_KEYWORD && (kw == K_NULL || kw == K_TRUE || kw == K_FALSE ||
                                       kw == K_CASE || kw == K_USER_LIT || kw == K_EXISTS ||
                                       kw == K_BINARY || kw == K_INTERVAL));
}

/*
 * SELECT [modifiers] items [FROM refs] clauses. *strong is written as soon as it is known (so
 * that it holds even when a later token fails). Without need_strong any select is strong once
 * an item begins. need_strong is for places where natural text could read as a select (a value
 * starting with a word, a subquery without parentheses): then an item must be more than a bare
 * identifier (a number, string, function, '*', expression ...), or FROM must name a dotted
 * table or be followed by a clause. A strong select notes VG_SQLI_R_SUBQUERY; callers relabel
 * it (UNION, stacked).
 */
static bool vg_parse_select(struct vg_parser *p, bool need_strong, bool *strong_out)
{
    bool dummy = false;
    bool *strong = strong_out ? strong_out : &dummy;
    *strong = false;
    if (vg_kw(p) == K_WITH) { /* WITH x AS (...) SELECT */
        p->i++;
        do {
            if (!vg_eat(p, VG_SQLI_T_WORD) || !vg_eat_kw(p, K_AS))
                return vg_fail(p);
            struct vg_opnd o;
            if (vg_type(p) != VG_SQLI_T_LPAREN || !vg_parse_paren(p, &o))
                return vg_fail(p);
        } while (vg_eat(p, VG_SQLI_T_COMMA));
    }
    if (!vg_eat_kw(p, K_SELECT))
        return vg_fail(p);
    for (;;) { /* ALL DISTINCT TOP n FIRST n SQL_CALC_FOUND_ROWS HIGH_PRIORITY ... */
        if (vg_eat_kw(p, K_ALL) || vg_eat_kw(p, K_DISTINCT) || vg_eat_kw(p, K_STRAIGHT_JOIN))
            continue;
        if ((vg_kw(p) == K_TOP || vg_kw(p) == K_FIRST) &&
            (vg_type_at(p, p->i + 1) == VG_SQLI_T_NUMBER ||
             vg_type_at(p, p->i + 1) == VG_SQLI_T_LPAREN)) {
            p->i++;
            if (!vg_eat(p, VG_SQLI_T_NUMBER)) {
                struct vg_opnd o;
                if (!vg_parse_paren(p, &o))
                    return false;
            }
            continue;
        }
        if (vg_type(p) == VG_SQLI_T_WORD && vg_tok(p, p->i)->len > 4) {
            const uint8_t *w = p->st->s + vg_tok(p, p->i)->pos;
            if ((w[0] | 0x20) == 's' && (w[1] | 0x20) == 'q' && (w[2] | 0x20) == 'l' &&
                w[3] == '_' && vg_type_at(p, p->i + 1) != VG_SQLI_T_COMMA) {
                p->i++;
                continue;
            }
        }
        break;
    }
    if (!vg_item_start(p))
        return vg_fail(p);
    do {
        /* Strength from the item's first token: anything but a bare word reads as code. */
        if (!need_strong || (vg_item_start(p) && vg_type(p) != VG_SQLI_T_WORD))
            *strong = true;
        if (*strong)
            vg_strong(p, VG_SQLI_R_SUBQUERY);
        if (vg_type(p) == VG_SQLI_T_OPERATOR && p->st->s[vg_tok(p, p->i)->pos] == '*' &&
            vg_tok(p, p->i)->len == 1) {
            p->i++;
        } else {
            unsigned at = p->i;
            struct vg_opnd o;
            if (!vg_parse_expr(p, &o))
                return false;
            if (p->i != at + 1 ||
                p->st->s[vg_tok(p, at)->pos + vg_tok(p, at)->len - 1] == '*') /* t.* */
                *strong = true;
            if (p->i == at + 1 && (vg_type_at(p, at) == VG_SQLI_T_NUMBER ||
                                   vg_kw_at(p, at) == K_NULL))
                p->feat |= F_LITITEM;
            if (*strong)
                vg_strong(p, VG_SQLI_R_SUBQUERY);
            /* alias: [AS] name */
            if (vg_eat_kw(p, K_AS)) {
                if (vg_type(p) != VG_SQLI_T_WORD && vg_type(p) != VG_SQLI_T_STRING)
                    return vg_fail(p);
                p->i++;
            } else if (vg_type(p) == VG_SQLI_T_WORD ||
                       (vg_type(p) == VG_SQLI_T_STRING && p->st->ctx == VG_SQLI_CTX_NONE)) {
                p->i++;
            }
        }
    } while (vg_eat(p, VG_SQLI_T_COMMA));
    if (vg_kw(p) == K_INTO && vg_type_at(p, p->i + 1) == VG_SQLI_T_VARIABLE) {
        p->i++;
        while (vg_eat(p, VG_SQLI_T_VARIABLE) && vg_eat(p, VG_SQLI_T_COMMA)) {
        }
    }
    if (vg_eat_kw(p, K_FROM)) {
        unsigned at = p->i;
        if (!vg_parse_from(p))
            return false;
        p->feat |= F_FROM;
        bool dotted = false;
        for (unsigned k = at; k < p->i && !dotted; k++) {
            const struct vg_sqli_token *t = vg_tok(p, k);
            if (t->type == VG_SQLI_T_WORD && memchr(p->st->s + t->pos, '.', t->len))
                dotted = true;
        }
        unsigned before = p->i;
        if (!vg_parse_clauses(p))
            return false;
        /* FROM a.b, or FROM x followed by a complete clause */
        if (dotted || p->i > before) {
            *strong = true;
            vg_strong(p, VG_SQLI_R_SUBQUERY);
        }
        return true;
    }
    return vg_parse_clauses(p);
}

/* Skips the rest of a statement this grammar does not model, to ';' or the end. */
static void vg_skip_statement(struct vg_parser *p)
{
    unsigned d = 0;
    while (!vg_at_end(p)) {
        uint8_t t = vg_type(p);
        if (t == VG_SQLI_T_SEMICOLON && d == 0)
            break;
        if (t == VG_SQLI_T_LPAREN)
            d++;
        if (t == VG_SQLI_T_RPAREN && d)
            d--;
        p->i++;
    }
}

/*
 * One statement (stacked, or the whole value). *strong_out: the statement reached the point
 * where only SQL reads this way (DROP TABLE x, WAITFOR DELAY 'x', EXEC xp_..., SELECT 1 ...).
 * Statements that are certain at their first words skip their remaining tokens. need_strong:
 * a SELECT must show more than bare identifiers (see vg_parse_select).
 */
static bool vg_parse_statement(struct vg_parser *p, bool need_strong, bool *strong_out)
{
    *strong_out = false;
    uint8_t kw = vg_kw(p);
    if (vg_type(p) == VG_SQLI_T_FUNCTION) {
        /* IF(...) as a statement (MySQL stacked IF((...),SELECT ...,DROP ...)) */
        kw = vg_tok(p, p->i)->kw;
    }
    if (vg_type(p) == VG_SQLI_T_LPAREN && vg_kw_at(p, p->i + 1) == K_SELECT) {
        struct vg_opnd o;
        if (!vg_parse_paren(p, &o))
            return false;
        *strong_out = true;
        return vg_parse_clauses(p);
    }
    struct vg_opnd o;
    if (vg_type(p) == VG_SQLI_T_FUNCTION && (vg_tok(p, p->i)->flags & VG_SQLI_TF_STRONG) &&
        kw != K_IF) {
        *strong_out = true;
        return vg_parse_call(p, &o);
    }
    switch (kw) {
    case K_SELECT:
        return vg_parse_select(p, need_strong, strong_out);
    case K_INSERT: case K_REPLACE:
        p->i++;
        if (!vg_eat_kw(p, K_INTO) && vg_type(p) != VG_SQLI_T_WORD)
            return vg_fail(p);
        if (!vg_eat(p, VG_SQLI_T_WORD))
            return vg_fail(p);
        if (vg_type(p) == VG_SQLI_T_LPAREN || vg_kw(p) == K_VALUES || vg_kw(p) == K_SELECT ||
            vg_kw(p) == K_SET || vg_type(p) == VG_SQLI_T_FUNCTION) {
            *strong_out = true;
            vg_skip_statement(p);
            return true;
        }
        return vg_fail(p);
    case K_UPDATE:
        p->i++;
        if (!vg_eat(p, VG_SQLI_T_WORD))
            return vg_fail(p);
        vg_eat(p, VG_SQLI_T_WORD);
        if (!vg_eat_kw(p, K_SET))
            return vg_fail(p);
        if (!vg_eat(p, VG_SQLI_T_WORD))
            return vg_fail(p);
        *strong_out = true;
        vg_skip_statement(p);
        return true;
    case K_DELETE:
        p->i++;
        for (unsigned k = 0; k < 3 && vg_type(p) == VG_SQLI_T_WORD; k++)
            p->i++; /* LOW_PRIORITY QUICK IGNORE */
        if (!vg_eat_kw(p, K_FROM))
            return vg_fail(p);
        if (!vg_eat(p, VG_SQLI_T_WORD))
            return vg_fail(p);
        *strong_out = true;
        vg_skip_statement(p);
        return true;
    case K_DROP: case K_CREATE: case K_ALTER: case K_RENAME: case K_TRUNCATE:
        p->i++;
        if (kw == K_TRUNCATE && vg_type(p) == VG_SQLI_T_WORD) {
            vg_skip_statement(p);
            return true;
        }
        if (vg_type(p) != VG_SQLI_T_KEYWORD && vg_type(p) != VG_SQLI_T_WORD &&
            vg_type(p) != VG_SQLI_T_STATEMENT)
            return vg_fail(p);
        {
            /* DROP TABLE x / DROP FUNCTION x / CREATE USER x / ALTER DATABASE x ... */
            const struct vg_sqli_token *obj = vg_tok(p, p->i);
            static const char *const objects[] = {
                "TABLE", "DATABASE", "SCHEMA", "FUNCTION", "PROCEDURE", "USER", "VIEW",
                "INDEX", "TRIGGER", "LOGIN", "ROLE", "EVENT", "SEQUENCE", "TEMPORARY",
                "OR", "DEFINER", "ALGORITHM", "UNIQUE", "TABLESPACE", "SERVER", "ASSEMBLY",
                "EXTENSION", "LANGUAGE", "TYPE"};
            bool ok = false;
            for (size_t k = 0; k < sizeof objects / sizeof objects[0] && !ok; k++) {
                size_t m = strlen(objects[k]);
                if (obj->len != m)
                    continue;
                ok = true;
                for (size_t c = 0; c < m && ok; c++) {
                    uint8_t ch = p->st->s[obj->pos + c];
                    if (ch >= 'a' && ch <= 'z')
                        ch = (uint8_t)(ch - 32);
                    ok = ch == (uint8_t)objects[k][c];
                }
            }
            if (!ok)
                return vg_fail(p);
            p->i++;
            if (vg_kw(p) == K_IF) { /* IF [NOT] EXISTS */
                p->i++;
                vg_eat(p, VG_SQLI_T_NOT);
                if (!vg_eat_kw(p, K_EXISTS))
                    return vg_fail(p);
            }
            uint8_t t = vg_type(p);
            if (t != VG_SQLI_T_WORD && t != VG_SQLI_T_FUNCTION && t != VG_SQLI_T_STRING &&
                t != VG_SQLI_T_KEYWORD && t != VG_SQLI_T_STATEMENT)
                return vg_fail(p);
            p->i++;
            /* Destructive DDL alone is not evidence: "'); drop table students;--" is the
               xkcd joke people search for, and real probes test stacking with delays, catalog
               reads or procedures. It parses (so what follows still counts). */
            *strong_out = false;
            vg_skip_statement(p);
            return true;
        }
    case K_EXEC:
        p->i++;
        if ((vg_type(p) == VG_SQLI_T_LPAREN && (vg_type_at(p, p->i + 1) == VG_SQLI_T_STRING ||
                                                 vg_type_at(p, p->i + 1) == VG_SQLI_T_VARIABLE)) ||
            vg_type(p) == VG_SQLI_T_VARIABLE ||
            vg_type(p) == VG_SQLI_T_FUNCTION ||
            (vg_type(p) == VG_SQLI_T_WORD && (vg_tok(p, p->i)->flags & VG_SQLI_TF_STRONG))) {
            *strong_out = true;
            vg_skip_statement(p);
            return true;
        }
        if (vg_type(p) == VG_SQLI_T_WORD) {
            p->i++;
            /* EXEC name 'arg' / EXEC name @v / EXEC name 1 ("exec c" alone is text) */
            if (vg_type(p) == VG_SQLI_T_STRING || vg_type(p) == VG_SQLI_T_NUMBER ||
                vg_type(p) == VG_SQLI_T_VARIABLE) {
                *strong_out = true;
                vg_skip_statement(p);
                return true;
            }
        }
        return vg_fail(p);
    case K_DECLARE:
        p->i++;
        if (!vg_eat(p, VG_SQLI_T_VARIABLE) &&
            !(vg_type(p) == VG_SQLI_T_WORD && vg_type_at(p, p->i + 1) == VG_SQLI_T_WORD &&
              vg_tok(p, p->i + 1)->len == 6 && (p->i += 2)))
            return vg_fail(p);
        *strong_out = true;
        vg_skip_statement(p);
        return true;
    case K_SET:
        p->i++;
        if (vg_type(p) == VG_SQLI_T_VARIABLE ||
            (vg_type(p) == VG_SQLI_T_WORD && vg_type_at(p, p->i + 1) == VG_SQLI_T_OPERATOR &&
             p->st->s[vg_tok(p, p->i + 1)->pos] == '=')) {
            p->i++;
            if (vg_type(p) != VG_SQLI_T_OPERATOR)
                return vg_fail(p);
            p->i++;
            if (!vg_parse_expr(p, &o))
                return false;
            *strong_out = true;
            return true;
        }
        return vg_fail(p);
    case K_SHUTDOWN:
        p->i++;
        if (vg_kw(p) == K_WITH) {
            p->i++;
            if (!vg_eat_kw(p, K_NOWAIT))
                return vg_fail(p);
        }
        if (!vg_at_end(p) && vg_type(p) != VG_SQLI_T_SEMICOLON)
            return vg_fail(p);
        *strong_out = true;
        return true;
    case K_WAITFOR:
        p->i++;
        if (!vg_eat_kw(p, K_DELAY) && !vg_eat_kw(p, K_TIME))
            return vg_fail(p);
        if (!vg_eat(p, VG_SQLI_T_STRING) && !vg_eat(p, VG_SQLI_T_VARIABLE))
            return vg_fail(p);
        *strong_out = true;
        return true;
    case K_IF: case K_WHILE:
        if (vg_type(p) == VG_SQLI_T_FUNCTION) {
            /* MySQL IF((cond), SELECT x, DROP FUNCTION y) in a stacked query: lenient */
            p->i++;
            if (!vg_eat(p, VG_SQLI_T_LPAREN))
                return vg_fail(p);
            if (!vg_parse_expr(p, &o))
                return false;
            if (vg_eat(p, VG_SQLI_T_COMMA)) {
                *strong_out = true;
                vg_skip_statement(p);
                return true;
            }
            if (!vg_close_paren(p))
                return false;
        } else {
            p->i++;
            if (!vg_parse_expr(p, &o))
                return false;
        }
        {
            bool inner = false;
            if (vg_eat_kw(p, K_THEN) || vg_eat_kw(p, K_BEGIN)) {
            }
            if (vg_at_end(p))
                return vg_fail(p);
            bool ok = vg_parse_statement(p, need_strong, &inner);
            *strong_out = inner;
            return ok;
        }
    case K_GOTO:
        p->i++;
        if (!vg_eat(p, VG_SQLI_T_WORD))
            return vg_fail(p);
        return true;
    case K_BEGIN:
        p->i++;
        /* BEGIN TRY / BEGIN CATCH / BEGIN TRAN (SQL Server) */
        if (vg_type(p) == VG_SQLI_T_WORD && vg_tok(p, p->i)->len <= 11)
            p->i++;
        if (vg_eat_kw(p, K_END)) {
            *strong_out = false;
            return true;
        }
        {
            bool inner = false;
            bool ok = vg_parse_statement(p, need_strong, &inner);
            *strong_out = inner;
            if (!ok)
                return false;
            vg_skip_statement(p);
            return true;
        }
    case K_CALL: case K_DO:
        p->i++;
        if (vg_type(p) != VG_SQLI_T_FUNCTION && kw == K_CALL)
            return vg_fail(p);
        /* CALL p(...) / DO expr after a ';' */
        *strong_out = p->i >= 2 && vg_type_at(p, p->i - 2) == VG_SQLI_T_SEMICOLON;
        if (!vg_parse_expr(p, &o))
            return false;
        return true;
    case K_LOAD:
        p->i++;
        if (vg_type(p) != VG_SQLI_T_WORD && vg_kw(p) != K_DATA)
            return vg_fail(p);
        p->i++;
        while (vg_type(p) == VG_SQLI_T_WORD || vg_type(p) == VG_SQLI_T_KEYWORD) {
            if (vg_eat_kw(p, K_INFILE)) {
                if (!vg_eat(p, VG_SQLI_T_STRING))
                    return vg_fail(p);
                *strong_out = true;
                vg_skip_statement(p);
                return true;
            }
            p->i++;
        }
        return vg_fail(p);
    case K_SHOW: case K_DESCRIBE: case K_USE: case K_GRANT: case K_REVOKE: case K_KILL:
    case K_HANDLER: case K_PREPARE: case K_DEALLOCATE: case K_DBCC: case K_PRINT: case K_MERGE: {
        p->i++;
        uint8_t t = vg_type(p);
        if (t != VG_SQLI_T_WORD && t != VG_SQLI_T_KEYWORD && t != VG_SQLI_T_NUMBER &&
            t != VG_SQLI_T_STRING && t != VG_SQLI_T_VARIABLE && t != VG_SQLI_T_STATEMENT)
            return vg_fail(p);
        p->i++;
        t = vg_type(p);
        if (!vg_at_end(p) && t != VG_SQLI_T_SEMICOLON && t != VG_SQLI_T_WORD &&
            t != VG_SQLI_T_KEYWORD && t != VG_SQLI_T_STRING && t != VG_SQLI_T_OPERATOR &&
            t != VG_SQLI_T_STATEMENT && t != VG_SQLI_T_COMMA && t != VG_SQLI_T_NUMBER)
            return vg_fail(p);
        /* USE master; SHOW TABLES --: code when another statement or a comment follows */
        t = vg_type(p);
        *strong_out = kw == K_GRANT || kw == K_REVOKE || kw == K_DBCC ||
                      t == VG_SQLI_T_STATEMENT ||
                      (vg_at_end(p) && p->st->ntok &&
                       p->st->tok[p->st->ntok - 1].type == VG_SQLI_T_COMMENT);
        vg_skip_statement(p);
        return true;
    }
    default:
        return vg_fail(p);
    }
}

/*
 * Statements after ';' (or, SQL Server style, right after the condition when !need_semicolon).
 * A strong statement notes VG_SQLI_R_STACKED.
 */
static bool vg_parse_stacked(struct vg_parser *p, bool need_semicolon)
{
    for (;;) {
        bool semi = false;
        while (vg_eat(p, VG_SQLI_T_SEMICOLON))
            semi = true;
        if (vg_at_end(p))
            return true;
        /* a label (SQL Server "label:") */
        if (vg_type(p) == VG_SQLI_T_WORD && vg_type_at(p, p->i + 1) == VG_SQLI_T_OTHER &&
            p->st->s[vg_tok(p, p->i + 1)->pos] == ':') {
            p->i += 2;
            continue;
        }
        uint8_t t = vg_type(p);
        if (!semi && need_semicolon && t != VG_SQLI_T_STATEMENT)
            return vg_fail(p);
        if (t != VG_SQLI_T_STATEMENT &&
            !(t == VG_SQLI_T_FUNCTION && (vg_tok(p, p->i)->fn & FN_MULTI)) &&
            !(t == VG_SQLI_T_LPAREN && vg_kw_at(p, p->i + 1) == K_SELECT))
            return vg_fail(p);
        unsigned at = p->i;
        enum vg_sqli_reason before = p->strong;
        bool strong = false;
        /* Without a semicolon ("foo select bar") the statement must read as code. */
        bool ok = vg_parse_statement(p, !semi && p->weak_start, &strong);
        if (before == VG_SQLI_R_NONE) {
            if (strong) {
                p->strong = VG_SQLI_R_STACKED;
                p->strong_at = at;
            } else if (vg_kw_at(p, at) == K_SELECT) {
                p->strong = VG_SQLI_R_NONE; /* "foo select bar" */
            }
        }
        if (!ok)
            return false;
        need_semicolon = true;
    }
}

/*
 * UNION [ALL|DISTINCT] (SELECT ...) | SELECT ...; current token is the UNION keyword. A value
 * that ends right after UNION [ALL] SELECT (a truncated probe) counts when it did not start
 * with a word; one that ends after UNION alone counts after other SQL.
 */
static bool vg_parse_union(struct vg_parser *p)
{
    p->i++;
    while (vg_eat_kw(p, K_ALL) || vg_eat_kw(p, K_DISTINCT)) {
    }
    unsigned at = p->i;
    if (vg_at_end(p)) {
        if ((p->feat & (F_LOGIC | F_CMP)) || p->st->ctx != VG_SQLI_CTX_NONE || p->has_comment ||
            !p->weak_start) {
            vg_strong(p, VG_SQLI_R_UNION);
            return true;
        }
        return vg_fail(p);
    }
    if (vg_kw(p) == K_SELECT && p->i + 1 >= p->n && !p->weak_start) {
        p->i++;
        vg_strong(p, VG_SQLI_R_UNION);
        return true;
    }
    enum vg_sqli_reason before = p->strong;
    bool strong = false, ok;
    unsigned parens = 0;
    while (vg_type(p) == VG_SQLI_T_LPAREN && parens < 16) {
        p->i++;
        parens++;
        if (!vg_enter(p))
            return false;
    }
    /* "union (select": parentheses make it code even after a word */
    ok = vg_parse_select(p, p->weak_start && parens == 0, &strong);
    while (ok && parens) {
        ok = vg_close_paren(p);
        parens--;
        p->depth--;
    }
    if (before == VG_SQLI_R_NONE) {
        p->strong = VG_SQLI_R_NONE;
        if (strong) {
            p->strong = VG_SQLI_R_UNION;
            p->strong_at = at;
        }
    }
    return ok;
}

/* Clause keywords that may follow the condition. */
static bool vg_is_clause_kw(uint8_t kw)
{
    return kw == K_WHERE || kw == K_GROUP || kw == K_ORDER || kw == K_HAVING ||
           kw == K_LIMIT || kw == K_OFFSET || kw == K_FETCH || kw == K_INTO ||
           kw == K_PROCEDURE || kw == K_FOR || kw == K_LOCK;
}

/*
 * The whole value in its context: a condition (starting with the value's own literal), then
 * any of: more operators after ')' closing the application's parentheses, ',' (an IN list),
 * clauses, UNION, stacked statements. A value that starts with a statement keyword (or ';')
 * is read as statements. Stops at the end or at the first error.
 */
static void vg_parse_top(struct vg_parser *p, unsigned *lit_end)
{
    *lit_end = 0;
    if (vg_type(p) == VG_SQLI_T_SEMICOLON) {
        (void)vg_parse_stacked(p, true);
        return;
    }
    if (vg_type(p) == VG_SQLI_T_STATEMENT) {
        bool strong = false;
        uint8_t k0s = vg_kw(p);
        p->weak_start = true;
        p->whole_statement = true;
        bool ok = vg_parse_statement(p, true, &strong);
        /* A value that is a whole statement ("select * from users where name = 'x'") is
           what people ask about SQL: the statement itself is no evidence, only injection
           functions inside it or a second statement stacked on it. */
        if (p->strong == VG_SQLI_R_SUBQUERY)
            p->strong = VG_SQLI_R_NONE;
        /* ... but a select of literal columns (select 1,2,3 from t), SQL Server procedures
           and declarations are code, not a question about SQL */
        if ((p->feat & F_FSTRONG) || ((p->feat & F_LITITEM) && (p->feat & F_FROM)) ||
            (strong && (k0s == K_EXEC || k0s == K_DECLARE || k0s == K_WAITFOR ||
                        k0s == K_SHUTDOWN || k0s == K_SET)))
            p->strong = VG_SQLI_R_STATEMENT;
        if (p->strong != VG_SQLI_R_NONE)
            p->strong = VG_SQLI_R_STATEMENT;
        if (ok)
            (void)vg_parse_stacked(p, true);
        return;
    }
    struct vg_opnd o = {true, -1};
    uint8_t t0 = vg_type(p);
    uint8_t k0 = vg_kw(p);
    bool implied = t0 == VG_SQLI_T_LOGIC || t0 == VG_SQLI_T_UNION || t0 == VG_SQLI_T_RPAREN ||
                   (t0 == VG_SQLI_T_OPERATOR && vg_is_cmp_op(p, 0)) ||
                   (t0 == VG_SQLI_T_OPERATOR && vg_tok(p, 0)->len == 2 &&
                    p->st->s[vg_tok(p, 0)->pos] == '|') ||
                   (t0 == VG_SQLI_T_KEYWORD && vg_is_clause_kw(k0) && k0 != K_FOR &&
                    k0 != K_INTO && k0 != K_WHERE);
    if (implied) {
        /* A fragment that begins where the literal ended: " union select ...", ") or (1=1",
           "and 1=1 --". The empty literal is implied. */
        p->implied = true;
        p->weak_start = t0 != VG_SQLI_T_RPAREN && t0 != VG_SQLI_T_OPERATOR &&
                        !(t0 == VG_SQLI_T_LOGIC && vg_tok(p, 0)->len == 2 &&
                          !vg_word_find(p->st->s + vg_tok(p, 0)->pos, 2));
    } else {
        if (!vg_parse_operand(p, &o))
            return;
        *lit_end = p->i;
        /* '9999' (select ...): a subquery glued to the literal */
        if (vg_type(p) == VG_SQLI_T_LPAREN && vg_kw_at(p, p->i + 1) == K_SELECT &&
            (p->st->ctx != VG_SQLI_CTX_NONE || !p->weak_start)) {
            struct vg_opnd q;
            if (!vg_parse_paren(p, &q))
                return;
        }
        if (!vg_parse_expr_rest(p, &o))
            return;
    }
    for (;;) {
        unsigned before = p->i;
        while (vg_type(p) == VG_SQLI_T_RPAREN && p->depth == 0 && p->app_close < 8) {
            p->i++;
            p->app_close++;
            p->feat |= F_APPCLOSE;
        }
        uint8_t t = vg_type(p);
        uint8_t kw = vg_kw(p);
        if (t == VG_SQLI_T_NONE)
            return;
        if (t == VG_SQLI_T_LOGIC || t == VG_SQLI_T_OPERATOR || t == VG_SQLI_T_NOT) {
            if (!vg_parse_expr_rest(p, &o))
                return;
        } else if (t == VG_SQLI_T_COMMA) {
            p->i++;
            if (!vg_parse_expr(p, &o))
                return;
        } else if (t == VG_SQLI_T_UNION) {
            if (!vg_parse_union(p))
                return;
        } else if (vg_is_clause_kw(kw)) {
            if (!vg_parse_clauses(p))
                return;
        } else if (t == VG_SQLI_T_SEMICOLON || t == VG_SQLI_T_STATEMENT ||
                   (t == VG_SQLI_T_FUNCTION && (vg_tok(p, p->i)->fn & FN_MULTI) &&
                    vg_kw_at(p, p->i) == K_NONE && false)) {
            if (t == VG_SQLI_T_SEMICOLON && !p->err)
                p->cond_done = true; /* the condition parsed up to the ';' */
            (void)vg_parse_stacked(p, t == VG_SQLI_T_SEMICOLON);
            return;
        } else {
            (void)vg_fail(p);
            return;
        }
        if (p->err)
            return;
        if (p->i == before) {
            (void)vg_fail(p);
            return;
        }
    }
}

/* ---- verdict ----------------------------------------------------------------------------- */

/* True when the value ends in a comment (a line comment or an unclosed block comment). */
static bool vg_ends_in_comment(const struct vg_sqli_state *st, bool *short_body, bool *block)
{
    *short_body = false;
    *block = false;
    if (st->ntok == 0 || st->truncated)
        return false;
    const struct vg_sqli_token *t = &st->tok[st->ntok - 1];
    if (t->type != VG_SQLI_T_COMMENT)
        return false;
    bool line = (t->flags & VG_SQLI_TF_LINE) != 0;
    if (!line && !(t->flags & VG_SQLI_TF_OPEN))
        return false;
    /* a line comment reaches the end of the value, or only whitespace follows its newline */
    size_t e = t->pos + t->len;
    for (size_t k = e; k < st->n; k++)
        if (!vg_is_space(st->s[k]))
            return false;
    *block = !line;
    size_t b = t->pos + (st->s[t->pos] == '#' ? 1 : 2);
    size_t words = 0, letters = 0;
    bool in_word = false;
    for (size_t k = b; k < e; k++) {
        uint8_t c = st->s[k];
        bool w = vg_is_word(c);
        if (w && !in_word)
            words++;
        if (w)
            letters++;
        in_word = w;
    }
    *short_body = words <= 1 && letters <= 16;
    return true;
}

/* Judges one context; fills *r and returns true on an injection. */
static bool vg_judge(struct vg_sqli_state *st, enum vg_sqli_ctx ctx, struct vg_sqli_result *r)
{
    vg_sqli_tokenize(st, st->s, st->n, ctx);
    struct vg_parser p;
    p.st = st;
    p.n = 0;
    for (unsigned k = 0; k < st->ntok; k++)
        if (st->tok[k].type != VG_SQLI_T_COMMENT)
            p.idx[p.n++] = (uint16_t)k;
    if (p.n == 0)
        return false;
    p.i = 0;
    p.depth = 0;
    p.err = false;
    p.err_at = 0;
    p.app_close = 0;
    p.end_close = 0;
    p.feat = 0;
    p.strong = VG_SQLI_R_NONE;
    p.strong_at = 0;
    p.implied = false;
    p.whole_statement = false;
    p.has_comment = p.n < st->ntok || st->exec_comment;
    p.cond_done = false;
    uint8_t t0 = vg_tok(&p, 0)->type;
    p.weak_start = ctx == VG_SQLI_CTX_NONE && t0 != VG_SQLI_T_NUMBER && t0 != VG_SQLI_T_LPAREN &&
                   t0 != VG_SQLI_T_OPERATOR && t0 != VG_SQLI_T_VARIABLE;
    /* In a quote context nothing but the string itself: not an injection. */
    if (ctx != VG_SQLI_CTX_NONE && p.n < 2 && st->ntok < 2)
        return false;

    unsigned lit_end = 0;
    vg_parse_top(&p, &lit_end);
    if (ctx != VG_SQLI_CTX_NONE)
        lit_end = 1;
    bool valid = (!p.err || p.cond_done) && !st->truncated;
    bool sb = false, block = false;
    bool cend = vg_ends_in_comment(st, &sb, &block);
    uint32_t f = p.feat;
    enum vg_sqli_reason why = VG_SQLI_R_NONE;
    /* the token right after the literal (quote contexts: right after the closing quote) */
    const struct vg_sqli_token *brk = p.n > 1 ? vg_tok(&p, 1) : NULL;

    if (ctx == VG_SQLI_CTX_DQUOTE && brk && !(brk->flags & VG_SQLI_TF_SPACE) && p.n > 2 &&
        vg_tok(&p, 2)->type == VG_SQLI_T_STRING && !(vg_tok(&p, 2)->flags & VG_SQLI_TF_SPACE) &&
        (brk->type == VG_SQLI_T_OPERATOR || brk->type == VG_SQLI_T_LOGIC) &&
        st->s[brk->pos] >= 'A') {
        /* "LIKE", "AND": a quoted word of ordinary text */
        return false;
    }
    if (p.strong != VG_SQLI_R_NONE) {
        /* as-is, an injection function that is the value's own first operand ("sleep(5) in
           bash loop", "char(39) in sql") counts only when the whole value parses */
        bool own = ctx == VG_SQLI_CTX_NONE && p.strong == VG_SQLI_R_FUNCTION &&
                   p.strong_at <= lit_end && !p.implied && t0 == VG_SQLI_T_FUNCTION;
        /* a call whose arguments hold calls, variables or keywords is code whatever follows */
        for (unsigned k = 1; own && k < lit_end && k < p.n; k++) {
            uint8_t tk = vg_tok(&p, k)->type;
            own = tk != VG_SQLI_T_FUNCTION && tk != VG_SQLI_T_VARIABLE &&
                  tk != VG_SQLI_T_KEYWORD && tk != VG_SQLI_T_STATEMENT;
        }
        /* ... and is more than the call alone: "sleep(5)" is also what a search box sends
           while someone types "sleep(5) in bash"; "sleep(5)#" or "sleep(5) and 1" is not */
        if (!own || (valid && (lit_end < p.n || cend)))
            why = p.strong;
    } else if (valid && ctx != VG_SQLI_CTX_NONE) {
        bool bitand_first = brk && brk->type == VG_SQLI_T_OPERATOR && brk->len == 1 &&
                            (st->s[brk->pos] == '&' || st->s[brk->pos] == '|');
        /* a closing quote that follows a space reads as an opening quote of text */
        bool quote_after_space = false;
        if (st->tok[0].len >= 2) {
            uint8_t pc = st->s[st->tok[0].pos + st->tok[0].len - 2];
            quote_after_space = !(vg_is_word(pc) || pc == ')' || pc == ']');
        }
        uint32_t lc = F_LOGIC_CONST | (ctx == VG_SQLI_CTX_SQUOTE ? F_LOGIC_STR : 0);
        if (bitand_first) {
            if (ctx == VG_SQLI_CTX_SQUOTE && (f & F_ARITH_SQ))
                why = VG_SQLI_R_BOOLEAN;
        } else if (f & (F_CMP_CONST | lc)) {
            why = VG_SQLI_R_TAUTOLOGY;
        } else if (f & F_CLAUSE) {
            why = VG_SQLI_R_CLAUSE;
        } else if (f & (F_CMP | F_FUNC_ANY)) {
            why = VG_SQLI_R_BOOLEAN;
        } else if (ctx == VG_SQLI_CTX_SQUOTE && (f & F_ARITH_SQ)) {
            why = VG_SQLI_R_BOOLEAN;
        } else if (cend && lit_end + p.app_close >= p.n && !quote_after_space &&
                   (block || (f & F_APPCLOSE) ||
                    (sb && (st->s[st->tok[st->ntok - 1].pos] != '#' ||
                            st->tok[st->ntok - 1].len == 1)))) {
            why = VG_SQLI_R_COMMENT;
        }
    } else if (valid) { /* as-is */
        bool num_start = t0 == VG_SQLI_T_NUMBER ||
                         (t0 == VG_SQLI_T_OPERATOR && vg_type_at(&p, 1) == VG_SQLI_T_NUMBER);
        bool code = (f & (F_LOGIC | F_CMP | F_FUNC | F_APPCLOSE | F_ARITH_LIT)) != 0 ||
                    (t0 == VG_SQLI_T_VARIABLE && st->tok[0].len > 1);
        if ((f & F_CMP_CONST) && ((f & (F_LOGIC | F_APPCLOSE | F_CLAUSE)) || cend ||
                                  st->exec_comment || p.implied))
            why = VG_SQLI_R_TAUTOLOGY;
        else if ((f & F_CLAUSE) && (!p.weak_start || (f & (F_CMP_CONST | F_LOGIC_CONST))))
            why = VG_SQLI_R_CLAUSE;
        else if ((cend || st->exec_comment) && code)
            why = VG_SQLI_R_COMMENT;
        else if (cend && num_start && p.n == (t0 == VG_SQLI_T_NUMBER ? 1u : 2u) &&
                 st->s[st->tok[st->ntok - 1].pos] != '#')
            why = VG_SQLI_R_COMMENT;
        else if (cend && sb && t0 == VG_SQLI_T_LPAREN)
            why = VG_SQLI_R_COMMENT;
        else if ((f & F_LOGIC_CONST) && (f & F_APPCLOSE))
            why = VG_SQLI_R_BOOLEAN;
    }
    if (why == VG_SQLI_R_NONE)
        return false;
    r->is_sqli = true;
    r->ctx = ctx;
    r->reason = why;
    unsigned from = lit_end < p.n ? p.idx[lit_end] : st->ntok ? st->ntok - 1 : 0;
    if (ctx == VG_SQLI_CTX_NONE && why == VG_SQLI_R_STATEMENT)
        from = 0;
    r->start = from < st->ntok ? st->tok[from].pos : st->n;
    r->end = st->n;
    vg_sqli_fingerprint(st, from, r->fingerprint, sizeof r->fingerprint);
    return true;
}

/* ---- public entry points ----------------------------------------------------------------- */

/* Precheck byte classes: PRE_HIT alone makes an injection possible (a quote, an operator, a
   parenthesis ...); PRE_SPACE separates words; PRE_DASH may start "--"; PRE_KW may start one
   of the keywords of vg_sqli_precheck. */
#define PRE_HIT 1u
#define PRE_SPACE 2u
#define PRE_DASH 4u
#define PRE_KW 8u
#define PRE_HIT_ROW(c) ((c) == '\'' || (c) == '"' || (c) == '`' || (c) == '(' || (c) == ')' ||  \
                        (c) == ';' || (c) == '=' || (c) == '<' || (c) == '>' || (c) == '#' ||   \
                        (c) == '|' || (c) == '&' || (c) == '@' || (c) == '*' || (c) == '!' ||   \
                        (c) == '^' || (c) == '~' || (c) == '\\')
#define PRE_KW_ROW(c) ((c) == 'u' || (c) == 's' || (c) == 'o' || (c) == 'g' || (c) == 'h' ||     \
                       (c) == 'l' || (c) == 'p' || (c) == 'w' || (c) == 'e' || (c) == 'c' ||     \
                       (c) == 'b' || (c) == 'r' || (c) == 'd')
#define PRE_CLASS(c)                                                                          \
    (uint8_t)((PRE_HIT_ROW(c) ? PRE_HIT : 0u) |                                               \
              (((c) <= 0x20 || (c) == 0xa0) ? PRE_SPACE : 0u) | ((c) == '-' ? PRE_DASH : 0u) | \
              ((PRE_KW_ROW(c) || PRE_KW_ROW((c) + 32)) ? PRE_KW : 0u))
#define PRE_ROW4(c) PRE_CLASS(c), PRE_CLASS((c) + 1), PRE_CLASS((c) + 2), PRE_CLASS((c) + 3)
#define PRE_ROW16(c) PRE_ROW4(c), PRE_ROW4((c) + 4), PRE_ROW4((c) + 8), PRE_ROW4((c) + 12)
static const uint8_t vg_pre_class[256] = {
    PRE_ROW16(0x00), PRE_ROW16(0x10), PRE_ROW16(0x20), PRE_ROW16(0x30),
    PRE_ROW16(0x40), PRE_ROW16(0x50), PRE_ROW16(0x60), PRE_ROW16(0x70),
    PRE_ROW16(0x80), PRE_ROW16(0x90), PRE_ROW16(0xa0), PRE_ROW16(0xb0),
    PRE_ROW16(0xc0), PRE_ROW16(0xd0), PRE_ROW16(0xe0), PRE_ROW16(0xf0),
};

/* True when s[i, n) starts with the lower-case word w (case-insensitively). */
static bool vg_pre_word(const uint8_t *s, size_t n, size_t i, const char *w)
{
    size_t m = strlen(w);
    if (i + m > n)
        return false;
    for (size_t k = 0; k < m; k++) {
        uint8_t c = s[i + k];
        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (uint8_t)w[k])
            return false;
    }
    return true;
}

/*
 * True when s[0, n) could carry an injection. It must contain a quote, an operator or comment
 * character, a parenthesis, "--", or, between words, one of the few keywords that inject
 * without any of those (1 UNION SELECT 1, 1 ORDER BY 3, 1 GROUP BY 1 HAVING 1 LIMIT 1).
 * Values of letters, digits and '.', '_', ':', '-', ',', '/', '%' alone cannot leave any
 * context. Performance note: one pass; most benign values stop here.
 */
bool vg_sqli_precheck(const uint8_t *s, size_t n)
{
    if (n < 2)
        return false;
    unsigned acc = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = vg_pre_class[s[i]];
        if (c & PRE_HIT)
            return true;
        if ((c & PRE_DASH) && i + 1 < n && s[i + 1] == '-')
            return true;
        acc |= c;
    }
    if ((acc & (PRE_SPACE | PRE_KW)) != (PRE_SPACE | PRE_KW))
        return false;
    /* keywords that make SQL out of words and numbers alone; UNION and SELECT also glued to
       a number (1UNION, .1UNION) */
    static const char *const kw[] = {"union", "select", "order", "group", "having", "limit",
                                     "procedure", "waitfor", "exec", "case", "between", "like",
                                     "regexp", "rlike", "div"};
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i] | 0x20;
        if (c != 'u' && c != 's' && c != 'o' && c != 'g' && c != 'h' && c != 'l' && c != 'p' &&
            c != 'w' && c != 'e' && c != 'c' && c != 'b' && c != 'r' && c != 'd')
            continue;
        bool glued = i > 0 && vg_is_word(s[i - 1]);
        for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++)
            if ((!glued || k < 2) && vg_pre_word(s, n, i, kw[k]))
                return true;
    }
    return false;
}

/*
 * Judges the value in each context (as-is; single quote and double quote when it has one) and
 * reports the first that shows an injection. *out is fully written; st is scratch. See
 * detect_sqli.h.
 */
bool vg_sqli_detect(struct vg_sqli_state *st, const uint8_t *s, size_t n,
                    struct vg_sqli_result *out)
{
    memset(out, 0, sizeof(*out));
    out->start = out->end = n;
    if (!s || n == 0)
        return false;
    st->s = s;
    st->n = n;
    if (vg_judge(st, VG_SQLI_CTX_NONE, out))
        return true;
    st->s = s;
    st->n = n;
    if (memchr(s, '\'', n) && vg_judge(st, VG_SQLI_CTX_SQUOTE, out))
        return true;
    st->s = s;
    st->n = n;
    if (memchr(s, '"', n) && vg_judge(st, VG_SQLI_CTX_DQUOTE, out))
        return true;
    memset(out, 0, sizeof(*out));
    out->start = out->end = n;
    return false;
}

/* Token classes of st->tok[from..] into fp (at most cap - 1 of them, NUL-terminated). */
void vg_sqli_fingerprint(const struct vg_sqli_state *st, unsigned from, char *fp, size_t cap)
{
    size_t k = 0;
    if (cap == 0)
        return;
    for (unsigned i = from; i < st->ntok && k + 1 < cap; i++)
        fp[k++] = (char)st->tok[i].type;
    fp[k] = 0;
}

/* Static name of a reason ("union" ...); NULL when out of range. */
const char *vg_sqli_reason_name(enum vg_sqli_reason r)
{
    static const char *const names[VG_SQLI_R_COUNT] = {
        [VG_SQLI_R_NONE] = "none",         [VG_SQLI_R_UNION] = "union",
        [VG_SQLI_R_STACKED] = "stacked",   [VG_SQLI_R_SUBQUERY] = "subquery",
        [VG_SQLI_R_FUNCTION] = "function", [VG_SQLI_R_TAUTOLOGY] = "tautology",
        [VG_SQLI_R_BOOLEAN] = "boolean",   [VG_SQLI_R_COMMENT] = "comment",
        [VG_SQLI_R_CLAUSE] = "clause",     [VG_SQLI_R_STATEMENT] = "statement",
    };
    return (unsigned)r < VG_SQLI_R_COUNT ? names[r] : NULL;
}

/* Static name of a context ("as-is" ...); NULL when out of range. */
const char *vg_sqli_ctx_name(enum vg_sqli_ctx c)
{
    static const char *const names[VG_SQLI_CTX_COUNT] = {
        [VG_SQLI_CTX_NONE] = "as-is",
        [VG_SQLI_CTX_SQUOTE] = "single-quote",
        [VG_SQLI_CTX_DQUOTE] = "double-quote",
    };
    return (unsigned)c < VG_SQLI_CTX_COUNT ? names[c] : NULL;
}
