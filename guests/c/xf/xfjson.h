/*
 * xfjson.h: the small JSON reader and writer of the xfhost C SDK.
 *
 * The reader is for documents the host hands a guest (job inputs, image
 * information): it validates a whole document strictly (RFC 8259) once and
 * then works on slices of it, without building a tree. Every function
 * checks its bounds and reports malformed input as an error, never by
 * reading past a value.
 *
 * The writer encodes numbers and strings exactly as Go's encoding/json
 * does, so a C port of a task type produces byte-identical outputs to the
 * Go original: floats in the shortest form that reads back to the same
 * double, HTML-sensitive characters and U+2028/U+2029 escaped, invalid
 * UTF-8 replaced by U+FFFD.
 *
 * This file uses only the C standard library; it is tested natively and
 * for wasm32-wasi against Go's encoding/json (guests/c/xfjson_test.go).
 */
#ifndef XFJSON_H
#define XFJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Documents nested deeper than this are rejected rather than recursed into. */
#define XF_JSON_MAX_DEPTH 128

/*
 * xf_json is one JSON value: a slice of a document that the caller keeps
 * alive. Values come from xf_json_parse and the accessors below, which
 * never return a slice of an invalid document.
 */
typedef struct xf_json {
	const char *p;
	size_t n;
} xf_json;

/* The kinds of JSON value, told apart by their first byte. */
typedef enum xf_json_kind {
	XF_JSON_INVALID,
	XF_JSON_NULL,
	XF_JSON_BOOL,
	XF_JSON_NUMBER,
	XF_JSON_STRING,
	XF_JSON_ARRAY,
	XF_JSON_OBJECT,
} xf_json_kind;

/*
 * The reader's functions return NULL on success and otherwise a constant
 * message saying what is wrong, e.g. "invalid escape in string".
 */

/*
 * xf_json_parse checks that p[0:n] is exactly one JSON value, with optional
 * whitespace around it, and sets *out to the value without the whitespace.
 * On error, *err_offset (if not NULL) is the byte offset where it was found.
 */
const char *xf_json_parse(const char *p, size_t n, xf_json *out, size_t *err_offset);

/* xf_json_kind_of returns the kind of a value. */
xf_json_kind xf_json_kind_of(xf_json v);

/* xf_json_kind_name returns "null", "bool", "number", "string", "array",
 * "object" or "invalid". */
const char *xf_json_kind_name(xf_json_kind k);

/*
 * xf_json_iter walks the elements of an array or the members of an object:
 *
 *	xf_json_iter it = xf_json_iterate(obj);
 *	xf_json key, value;
 *	while (xf_json_next(&it, &key, &value)) { ... }
 *	if (it.err) { ... }
 */
typedef struct xf_json_iter {
	xf_json v;
	size_t pos;
	const char *err; /* set when the container is malformed */
} xf_json_iter;

/* xf_json_iterate starts walking an array or object; for any other value
 * the first xf_json_next returns false with err set. */
xf_json_iter xf_json_iterate(xf_json container);

/*
 * xf_json_next moves to the next element or member and returns true, or
 * returns false at the end or on error (it->err). For an object *key is the
 * member's name as a JSON string (compare it with xf_json_string_equals);
 * for an array it is set to an empty value. Either pointer may be NULL.
 */
bool xf_json_next(xf_json_iter *it, xf_json *key, xf_json *value);

/*
 * xf_json_object_get finds the member named key in an object. When the
 * name occurs more than once the last one counts, as in Go. *found tells
 * whether it exists; *value is set only then.
 */
const char *xf_json_object_get(xf_json obj, const char *key, xf_json *value, bool *found);

/* xf_json_string_equals reports whether a JSON string decodes to the
 * len bytes of text. */
bool xf_json_string_equals(xf_json s, const char *text, size_t len);

/*
 * xf_json_decode_string decodes a JSON string into a NUL-terminated copy
 * allocated with malloc, which the caller frees; *len (if not NULL) is its
 * length, which counts any NUL characters the string contains. Invalid
 * UTF-8 and unpaired surrogates become U+FFFD, as in Go.
 */
const char *xf_json_decode_string(xf_json s, char **out, size_t *len);

/* xf_json_decode_float reads a number as the nearest double. Numbers too
 * large for a double are an error; tiny ones become zero, as in Go. */
const char *xf_json_decode_float(xf_json v, double *out);

/* xf_json_decode_int reads a number written as a plain integer (no fraction
 * or exponent) within the int64 range, as Go decodes into an int64. */
const char *xf_json_decode_int(xf_json v, int64_t *out);

/* xf_json_decode_bool reads true or false. */
const char *xf_json_decode_bool(xf_json v, bool *out);

/*
 * xf_json_buf is a growable byte buffer that JSON text is appended to. It
 * starts zeroed ({0}); after a failed allocation it keeps its contents,
 * ignores further appends and has failed set. Free it with
 * xf_json_buf_free.
 */
typedef struct xf_json_buf {
	char *p;
	size_t n, cap;
	bool failed;
} xf_json_buf;

void xf_json_buf_free(xf_json_buf *b);

/* xf_json_append_raw appends n bytes as they are. */
void xf_json_append_raw(xf_json_buf *b, const char *p, size_t n);

/* xf_json_append_string appends the n bytes of s as a JSON string, escaped
 * exactly as Go's json.Marshal does. */
void xf_json_append_string(xf_json_buf *b, const char *s, size_t n);

/* xf_json_append_int appends an integer. */
void xf_json_append_int(xf_json_buf *b, int64_t v);

/* xf_json_append_float appends a double as Go's json.Marshal does. JSON
 * has no NaN or infinity: for those it appends nothing and returns false. */
bool xf_json_append_float(xf_json_buf *b, double v);

/* The longest text xf_json_format_float writes, with its NUL. */
#define XF_JSON_FLOAT_MAX 32

/*
 * xf_json_format_float writes v as Go's json.Marshal(float64) does into
 * out and returns the length, or returns 0 (writing "NaN", "+Inf" or
 * "-Inf", as Go's error names them) when v is not finite. Plain decimal
 * notation is used for 1e-6 <= |v| < 1e21, else exponent notation such as
 * 1e+21 or 1.5e-7; the digits are the fewest that read back as v.
 */
size_t xf_json_format_float(double v, char out[XF_JSON_FLOAT_MAX]);

#endif /* XFJSON_H */
