/* SPDX-License-Identifier: Apache-2.0 */
/*
 * detect_names.c: the names of detection classes, request fields and transformation views, as
 * they appear in rule files, events and reports. Static tables only (no mutable state).
 *
 * Invariant: the tables are indexed by the enums of detect.h and have exactly *_COUNT entries;
 * a name is lower-case ASCII and unique within its table.
 */
#include "detect/detect.h"

static const char *const vg_class_names[VG_CLASS_COUNT] = {
    [VG_CLASS_SQLI] = "sqli",   [VG_CLASS_XSS] = "xss",     [VG_CLASS_TRAVERSAL] = "traversal",
    [VG_CLASS_RFI] = "rfi",     [VG_CLASS_CMDI] = "cmdi",   [VG_CLASS_CODE] = "code",
    [VG_CLASS_SSTI] = "ssti",   [VG_CLASS_PROBE] = "probe", [VG_CLASS_TOOL] = "tool",
    [VG_CLASS_SCAN] = "scan",   [VG_CLASS_BRUTEFORCE] = "bruteforce", [VG_CLASS_FLOOD] = "flood",
    [VG_CLASS_PROTOCOL] = "protocol", [VG_CLASS_SESSION] = "session",
};

static const char *const vg_field_names[VG_F_COUNT] = {
    [VG_F_METHOD] = "method",         [VG_F_PATH] = "path",
    [VG_F_QUERY] = "query",           [VG_F_ARGS] = "args",
    [VG_F_ARGS_NAMES] = "args_names", [VG_F_USER_AGENT] = "user_agent",
    [VG_F_REFERER] = "referer",       [VG_F_HOST] = "host",
    [VG_F_COOKIE] = "cookie",         [VG_F_BODY] = "body",
    [VG_F_PROTOCOL] = "protocol",     [VG_F_REQUEST_LINE] = "request_line",
    [VG_F_BASENAME] = "basename",     [VG_F_TARGET] = "target",
    [VG_F_COOKIE_NAMES] = "cookie_names", [VG_F_CONTENT_TYPE] = "content_type",
    [VG_F_HEADER] = "header",         [VG_F_HEADERS] = "headers",
    [VG_F_HEADER_NAMES] = "header_names", [VG_F_LINE] = "line",
    [VG_F_STATUS] = "status",
};

static const char *const vg_transform_names[VG_T_COUNT] = {
    [VG_T_DECODED] = "decoded",
    [VG_T_RAW] = "raw",
    [VG_T_CHAIN] = "transforms",
};

/* Looks name up in a table of n names; returns its index or -1. */
static int vg_name_lookup(const char *const *table, int n, const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(table[i], name) == 0)
            return i;
    return -1;
}

/* "sqli", "xss", ...; NULL when c is out of range. */
const char *vg_class_name(enum vg_class c)
{
    if ((unsigned)c >= VG_CLASS_COUNT)
        return NULL;
    return vg_class_names[c];
}

/* Parses a class name (exact, lower case); false when unknown. *out untouched on failure. */
bool vg_class_parse(const char *name, enum vg_class *out)
{
    int i = vg_name_lookup(vg_class_names, VG_CLASS_COUNT, name);
    if (i < 0)
        return false;
    *out = (enum vg_class)i;
    return true;
}

/* "path", "args", ...; NULL when f is out of range. */
const char *vg_field_name(enum vg_field f)
{
    if ((unsigned)f >= VG_F_COUNT)
        return NULL;
    return vg_field_names[f];
}

/* Parses a field name (exact, lower case); false when unknown. *out untouched on failure. */
bool vg_field_parse(const char *name, enum vg_field *out)
{
    int i = vg_name_lookup(vg_field_names, VG_F_COUNT, name);
    if (i < 0)
        return false;
    *out = (enum vg_field)i;
    return true;
}

/* "decoded" or "raw"; NULL when t is out of range. */
const char *vg_transform_name(enum vg_transform t)
{
    if ((unsigned)t >= VG_T_COUNT)
        return NULL;
    return vg_transform_names[t];
}

static const char *const vg_rule_op_names[VG_OP_COUNT] = {
    [VG_OP_REGEX] = "regex",
    [VG_OP_SQLI] = "sqli",
    [VG_OP_XSS] = "xss",
    [VG_OP_PHRASES] = "phrases",
    [VG_OP_CONTAINS] = "contains",
    [VG_OP_BEGINS] = "begins",
    [VG_OP_ENDS] = "ends",
    [VG_OP_EQUALS] = "equals",
    [VG_OP_WITHIN] = "within",
    [VG_OP_EQ] = "eq",
    [VG_OP_NE] = "ne",
    [VG_OP_GT] = "gt",
    [VG_OP_GE] = "ge",
    [VG_OP_LT] = "lt",
    [VG_OP_LE] = "le",
};

/* "regex", "sqli", "xss", "phrases" ...; NULL when op is out of range. */
const char *vg_rule_op_name(enum vg_rule_op op)
{
    return (unsigned)op < VG_OP_COUNT ? vg_rule_op_names[op] : NULL;
}
