/*
 * xfjson.c: the JSON reader and writer of the xfhost C SDK (see xfjson.h).
 *
 * The reader never builds a tree: a value is a slice of the document, and
 * the scanner that validates a document is the same one that skips over
 * values when walking it, so walking re-checks bounds as it goes.
 */
#include "xfjson.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char err_eof[] = "unexpected end of JSON input";

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static void skip_space(const char *p, size_t n, size_t *pos) {
	while (*pos < n && is_space(p[*pos]))
		(*pos)++;
}

static int hex_value(char c) {
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* hex4 reads four hex digits, or returns -1. */
static long hex4(const char *p) {
	long v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hex_value(p[i]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* skip_string moves *pos past the string starting at *pos (a quote). */
static const char *skip_string(const char *p, size_t n, size_t *pos) {
	size_t i = *pos + 1;
	while (i < n) {
		unsigned char c = (unsigned char)p[i];
		if (c == '"') {
			*pos = i + 1;
			return NULL;
		}
		if (c < 0x20) {
			*pos = i;
			return "invalid control character in string";
		}
		if (c != '\\') {
			i++;
			continue;
		}
		if (i + 1 >= n)
			break;
		switch (p[i + 1]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			i += 2;
			break;
		case 'u':
			if (n - i < 6) {
				*pos = n;
				return err_eof;
			}
			if (hex4(p + i + 2) < 0) {
				*pos = i;
				return "invalid \\u escape in string";
			}
			i += 6;
			break;
		default:
			*pos = i;
			return "invalid escape in string";
		}
	}
	*pos = n;
	return err_eof;
}

/* skip_number moves *pos past the number starting at *pos. */
static const char *skip_number(const char *p, size_t n, size_t *pos) {
	size_t i = *pos;
	if (i < n && p[i] == '-')
		i++;
	if (i >= n || !is_digit(p[i])) {
		*pos = i;
		return i >= n ? err_eof : "invalid character in number";
	}
	if (p[i] == '0') {
		i++;
	} else {
		while (i < n && is_digit(p[i]))
			i++;
	}
	if (i < n && p[i] == '.') {
		i++;
		if (i >= n || !is_digit(p[i])) {
			*pos = i;
			return i >= n ? err_eof : "invalid character after decimal point in number";
		}
		while (i < n && is_digit(p[i]))
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i >= n || !is_digit(p[i])) {
			*pos = i;
			return i >= n ? err_eof : "invalid character in exponent of number";
		}
		while (i < n && is_digit(p[i]))
			i++;
	}
	*pos = i;
	return NULL;
}

static const char *skip_literal(const char *p, size_t n, size_t *pos, const char *word) {
	size_t len = strlen(word);
	if (n - *pos < len) {
		*pos = n;
		return err_eof;
	}
	if (memcmp(p + *pos, word, len) != 0)
		return "invalid character in literal";
	*pos += len;
	return NULL;
}

static const char *skip_value(const char *p, size_t n, size_t *pos, int depth);

/* skip_container moves *pos past the array or object starting at *pos. */
static const char *skip_container(const char *p, size_t n, size_t *pos, int depth) {
	const bool object = p[*pos] == '{';
	const char closer = object ? '}' : ']';
	if (depth >= XF_JSON_MAX_DEPTH)
		return "JSON nested too deeply";
	(*pos)++;
	skip_space(p, n, pos);
	if (*pos < n && p[*pos] == closer) {
		(*pos)++;
		return NULL;
	}
	for (;;) {
		const char *err;
		if (object) {
			if (*pos >= n)
				return err_eof;
			if (p[*pos] != '"')
				return "expected a string for an object key";
			if ((err = skip_string(p, n, pos)) != NULL)
				return err;
			skip_space(p, n, pos);
			if (*pos >= n)
				return err_eof;
			if (p[*pos] != ':')
				return "expected : after object key";
			(*pos)++;
		}
		if ((err = skip_value(p, n, pos, depth + 1)) != NULL)
			return err;
		skip_space(p, n, pos);
		if (*pos >= n)
			return err_eof;
		if (p[*pos] == closer) {
			(*pos)++;
			return NULL;
		}
		if (p[*pos] != ',')
			return object ? "expected , or } after object member" : "expected , or ] after array element";
		(*pos)++;
		skip_space(p, n, pos);
	}
}

/* skip_value moves *pos past the value at *pos (after any whitespace). */
static const char *skip_value(const char *p, size_t n, size_t *pos, int depth) {
	skip_space(p, n, pos);
	if (*pos >= n)
		return err_eof;
	switch (p[*pos]) {
	case '{':
	case '[':
		return skip_container(p, n, pos, depth);
	case '"':
		return skip_string(p, n, pos);
	case 't':
		return skip_literal(p, n, pos, "true");
	case 'f':
		return skip_literal(p, n, pos, "false");
	case 'n':
		return skip_literal(p, n, pos, "null");
	default:
		if (p[*pos] == '-' || is_digit(p[*pos]))
			return skip_number(p, n, pos);
		return "invalid character looking for beginning of value";
	}
}

const char *xf_json_parse(const char *p, size_t n, xf_json *out, size_t *err_offset) {
	size_t pos = 0;
	if (p == NULL)
		n = 0;
	skip_space(p, n, &pos);
	size_t start = pos;
	const char *err = skip_value(p, n, &pos, 0);
	size_t end = pos;
	if (err == NULL) {
		skip_space(p, n, &pos);
		if (pos != n)
			err = "invalid character after top-level value";
	}
	if (err != NULL) {
		if (err_offset != NULL)
			*err_offset = pos;
		return err;
	}
	out->p = p + start;
	out->n = end - start;
	return NULL;
}

xf_json_kind xf_json_kind_of(xf_json v) {
	if (v.n == 0 || v.p == NULL)
		return XF_JSON_INVALID;
	switch (v.p[0]) {
	case 'n':
		return XF_JSON_NULL;
	case 't':
	case 'f':
		return XF_JSON_BOOL;
	case '"':
		return XF_JSON_STRING;
	case '[':
		return XF_JSON_ARRAY;
	case '{':
		return XF_JSON_OBJECT;
	default:
		return v.p[0] == '-' || is_digit(v.p[0]) ? XF_JSON_NUMBER : XF_JSON_INVALID;
	}
}

const char *xf_json_kind_name(xf_json_kind k) {
	switch (k) {
	case XF_JSON_NULL:
		return "null";
	case XF_JSON_BOOL:
		return "bool";
	case XF_JSON_NUMBER:
		return "number";
	case XF_JSON_STRING:
		return "string";
	case XF_JSON_ARRAY:
		return "array";
	case XF_JSON_OBJECT:
		return "object";
	case XF_JSON_INVALID:
		break;
	}
	return "invalid";
}

/* whole checks that v is exactly one value of the kind its first byte
 * says, with nothing around it. */
static const char *whole(xf_json v) {
	size_t pos = 0;
	if (v.p == NULL || v.n == 0)
		return err_eof;
	if (is_space(v.p[0]))
		return "invalid character looking for beginning of value";
	const char *err = skip_value(v.p, v.n, &pos, 0);
	if (err == NULL && pos != v.n)
		err = "invalid character after value";
	return err;
}

xf_json_iter xf_json_iterate(xf_json container) {
	xf_json_iter it = {container, 0, NULL};
	xf_json_kind k = xf_json_kind_of(container);
	if (k != XF_JSON_ARRAY && k != XF_JSON_OBJECT)
		it.err = "not an array or object";
	return it;
}

bool xf_json_next(xf_json_iter *it, xf_json *key, xf_json *value) {
	const char *p = it->v.p;
	const size_t n = it->v.n;
	if (it->err != NULL || it->pos >= n)
		return false;
	const bool object = p[0] == '{';
	const char closer = object ? '}' : ']';
	size_t pos = it->pos;
	if (pos == 0) {
		pos = 1;
		skip_space(p, n, &pos);
		if (pos < n && p[pos] == closer) {
			it->pos = n;
			return false;
		}
	} else {
		skip_space(p, n, &pos);
		if (pos < n && p[pos] == closer) {
			it->pos = n;
			return false;
		}
		if (pos >= n || p[pos] != ',') {
			it->err = pos >= n ? err_eof : object ? "expected , or } after object member" : "expected , or ] after array element";
			return false;
		}
		pos++;
		skip_space(p, n, &pos);
	}
	xf_json k = {p + pos, 0};
	if (object) {
		if (pos >= n || p[pos] != '"') {
			it->err = pos >= n ? err_eof : "expected a string for an object key";
			return false;
		}
		if ((it->err = skip_string(p, n, &pos)) != NULL)
			return false;
		k.n = (size_t)(p + pos - k.p);
		skip_space(p, n, &pos);
		if (pos >= n || p[pos] != ':') {
			it->err = pos >= n ? err_eof : "expected : after object key";
			return false;
		}
		pos++;
	}
	skip_space(p, n, &pos);
	xf_json v = {p + pos, 0};
	if ((it->err = skip_value(p, n, &pos, 1)) != NULL)
		return false;
	v.n = (size_t)(p + pos - v.p);
	it->pos = pos;
	if (key != NULL)
		*key = k;
	if (value != NULL)
		*value = v;
	return true;
}

const char *xf_json_object_get(xf_json obj, const char *key, xf_json *value, bool *found) {
	*found = false;
	if (xf_json_kind_of(obj) != XF_JSON_OBJECT)
		return "not an object";
	xf_json_iter it = xf_json_iterate(obj);
	xf_json k, v;
	size_t len = strlen(key);
	while (xf_json_next(&it, &k, &v)) {
		if (xf_json_string_equals(k, key, len)) {
			*value = v;
			*found = true;
		}
	}
	return it.err;
}

/*
 * utf8_len returns the length of the valid UTF-8 sequence at p (at most n
 * bytes), or 0 if there is none: the rules of Go's utf8.DecodeRune (no
 * overlong forms, no surrogates, nothing above U+10FFFF).
 */
static size_t utf8_len(const unsigned char *p, size_t n) {
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	}
	return len;
}

static size_t put_utf8(unsigned long r, char out[4]) {
	if (r < 0x80) {
		out[0] = (char)r;
		return 1;
	}
	if (r < 0x800) {
		out[0] = (char)(0xC0 | r >> 6);
		out[1] = (char)(0x80 | (r & 0x3F));
		return 2;
	}
	if (r < 0x10000) {
		out[0] = (char)(0xE0 | r >> 12);
		out[1] = (char)(0x80 | (r >> 6 & 0x3F));
		out[2] = (char)(0x80 | (r & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | r >> 18);
	out[1] = (char)(0x80 | (r >> 12 & 0x3F));
	out[2] = (char)(0x80 | (r >> 6 & 0x3F));
	out[3] = (char)(0x80 | (r & 0x3F));
	return 4;
}

/*
 * next_decoded decodes the piece of a checked string literal at *i (before
 * end, the closing quote) into out and returns its length: one escape, one
 * byte, or one UTF-8 sequence. Its handling of surrogates and invalid
 * UTF-8 is that of Go's encoding/json.
 */
static size_t next_decoded(const char *p, size_t *i, size_t end, char out[4]) {
	unsigned char c = (unsigned char)p[*i];
	if (c != '\\') {
		if (c < 0x80) {
			out[0] = (char)c;
			(*i)++;
			return 1;
		}
		size_t len = utf8_len((const unsigned char *)p + *i, end - *i);
		if (len == 0) {
			(*i)++;
			return put_utf8(0xFFFD, out);
		}
		memcpy(out, p + *i, len);
		*i += len;
		return len;
	}
	char e = p[*i + 1];
	*i += 2;
	switch (e) {
	case 'b':
		out[0] = '\b';
		return 1;
	case 'f':
		out[0] = '\f';
		return 1;
	case 'n':
		out[0] = '\n';
		return 1;
	case 'r':
		out[0] = '\r';
		return 1;
	case 't':
		out[0] = '\t';
		return 1;
	case 'u':
		break;
	default: /* " \ / */
		out[0] = e;
		return 1;
	}
	unsigned long r = (unsigned long)hex4(p + *i);
	*i += 4;
	if (r >= 0xD800 && r < 0xE000) {
		unsigned long r2 = 0;
		if (r < 0xDC00 && end - *i >= 6 && p[*i] == '\\' && p[*i + 1] == 'u')
			r2 = (unsigned long)hex4(p + *i + 2);
		if (r2 >= 0xDC00 && r2 < 0xE000) {
			r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
			*i += 6;
		} else {
			r = 0xFFFD;
		}
	}
	return put_utf8(r, out);
}

static const char *check_string(xf_json s) {
	if (xf_json_kind_of(s) != XF_JSON_STRING)
		return "not a string";
	return whole(s);
}

bool xf_json_string_equals(xf_json s, const char *text, size_t len) {
	if (check_string(s) != NULL)
		return false;
	size_t i = 1, end = s.n - 1, at = 0;
	char piece[4];
	while (i < end) {
		size_t k = next_decoded(s.p, &i, end, piece);
		if (len - at < k || memcmp(text + at, piece, k) != 0)
			return false;
		at += k;
	}
	return at == len;
}

const char *xf_json_decode_string(xf_json s, char **out, size_t *len) {
	const char *err = check_string(s);
	if (err != NULL)
		return err;
	/* Decoding at most triples a string's length: an invalid byte
	 * becomes U+FFFD (3 bytes); escapes only get shorter. */
	size_t end = s.n - 1, cap = 3 * (end - 1) + 1, i = 1, n = 0;
	char *buf = malloc(cap);
	if (buf == NULL)
		return "out of memory";
	while (i < end)
		n += next_decoded(s.p, &i, end, buf + n);
	buf[n] = '\0';
	*out = buf;
	if (len != NULL)
		*len = n;
	return NULL;
}

static const char *check_number(xf_json v) {
	if (xf_json_kind_of(v) != XF_JSON_NUMBER)
		return "not a number";
	return whole(v);
}

const char *xf_json_decode_float(xf_json v, double *out) {
	const char *err = check_number(v);
	if (err != NULL)
		return err;
	char small[64];
	char *lit = v.n < sizeof small ? small : malloc(v.n + 1);
	if (lit == NULL)
		return "out of memory";
	memcpy(lit, v.p, v.n);
	lit[v.n] = '\0';
	double d = strtod(lit, NULL);
	if (lit != small)
		free(lit);
	if (isinf(d))
		return "number out of float64 range";
	*out = d;
	return NULL;
}

const char *xf_json_decode_int(xf_json v, int64_t *out) {
	const char *err = check_number(v);
	if (err != NULL)
		return err;
	size_t i = 0;
	bool neg = v.p[0] == '-';
	if (neg)
		i++;
	uint64_t u = 0;
	const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < v.n; i++) {
		if (!is_digit(v.p[i]))
			return "number is not an integer";
		unsigned d = (unsigned)(v.p[i] - '0');
		if (u > (limit - d) / 10)
			return "number out of int64 range";
		u = u * 10 + d;
	}
	*out = neg ? (int64_t)(0 - u) : (int64_t)u;
	return NULL;
}

const char *xf_json_decode_bool(xf_json v, bool *out) {
	if (v.n == 4 && memcmp(v.p, "true", 4) == 0) {
		*out = true;
		return NULL;
	}
	if (v.n == 5 && memcmp(v.p, "false", 5) == 0) {
		*out = false;
		return NULL;
	}
	return "not a bool";
}

void xf_json_buf_free(xf_json_buf *b) {
	free(b->p);
	*b = (xf_json_buf){0};
}

void xf_json_append_raw(xf_json_buf *b, const char *p, size_t n) {
	if (b->failed || n == 0)
		return;
	if (b->cap - b->n < n) {
		size_t cap = b->cap < 64 ? 64 : b->cap;
		while (cap - b->n < n) {
			if (cap > SIZE_MAX / 2) {
				b->failed = true;
				return;
			}
			cap *= 2;
		}
		char *np = realloc(b->p, cap);
		if (np == NULL) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

void xf_json_append_string(xf_json_buf *b, const char *s, size_t n) {
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	xf_json_append_raw(b, "\"", 1);
	size_t start = 0, i = 0;
	while (i < n) {
		unsigned char c = u[i];
		if (c < 0x80) {
			if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
				i++;
				continue;
			}
			xf_json_append_raw(b, s + start, i - start);
			char esc[6] = {'\\', 0, '0', '0', 0, 0};
			size_t len = 2;
			switch (c) {
			case '"':
			case '\\':
				esc[1] = (char)c;
				break;
			case '\b':
				esc[1] = 'b';
				break;
			case '\f':
				esc[1] = 'f';
				break;
			case '\n':
				esc[1] = 'n';
				break;
			case '\r':
				esc[1] = 'r';
				break;
			case '\t':
				esc[1] = 't';
				break;
			default: /* other control characters and < > & */
				esc[1] = 'u';
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xF];
				len = 6;
			}
			xf_json_append_raw(b, esc, len);
			start = ++i;
			continue;
		}
		size_t len = utf8_len(u + i, n - i);
		if (len == 0) {
			xf_json_append_raw(b, s + start, i - start);
			xf_json_append_raw(b, "\\ufffd", 6);
			start = ++i;
			continue;
		}
		/* U+2028 and U+2029 (E2 80 A8, E2 80 A9) break JavaScript. */
		if (len == 3 && c == 0xE2 && u[i + 1] == 0x80 && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)) {
			xf_json_append_raw(b, s + start, i - start);
			xf_json_append_raw(b, u[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
			start = i += 3;
			continue;
		}
		i += len;
	}
	xf_json_append_raw(b, s + start, n - start);
	xf_json_append_raw(b, "\"", 1);
}

void xf_json_append_int(xf_json_buf *b, int64_t v) {
	char buf[24];
	size_t i = sizeof buf;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		buf[--i] = '-';
	xf_json_append_raw(b, buf + i, sizeof buf - i);
}

bool xf_json_append_float(xf_json_buf *b, double v) {
	char buf[XF_JSON_FLOAT_MAX];
	size_t n = xf_json_format_float(v, buf);
	if (n == 0)
		return false;
	xf_json_append_raw(b, buf, n);
	return true;
}

/*
 * A decimal: the significant digits d1 d2 ... dn (no trailing zeros) and
 * the exponent e of d1.d2...dn × 10^e.
 */
typedef struct decimal {
	char digits[20];
	int n;
	int exp;
} decimal;

/* read_scientific reads printf's %.Ne output "d.ddde±x" into d. */
static void read_scientific(const char *s, decimal *d) {
	d->n = 0;
	for (; *s != 'e'; s++) {
		if (is_digit(*s) && d->n < (int)sizeof d->digits)
			d->digits[d->n++] = *s;
	}
	d->exp = (int)strtol(s + 1, NULL, 10);
	while (d->n > 1 && d->digits[d->n - 1] == '0')
		d->n--;
}

static void write_scientific(const decimal *d, char *out, size_t cap) {
	char digits[24];
	digits[0] = d->digits[0];
	size_t k = 1;
	if (d->n > 1) {
		digits[k++] = '.';
		memcpy(digits + k, d->digits + 1, (size_t)d->n - 1);
		k += (size_t)d->n - 1;
	}
	digits[k] = '\0';
	snprintf(out, cap, "%se%d", digits, d->exp);
}

/*
 * step moves the prec-digit decimal in s (printf %.Ne output) one unit in
 * its last digit up (dir > 0) or down, into d.
 */
static void step(const char *s, int prec, int dir, decimal *d) {
	d->n = 0;
	for (; *s != 'e'; s++) {
		if (is_digit(*s))
			d->digits[d->n++] = *s;
	}
	d->exp = (int)strtol(s + 1, NULL, 10);
	int i = prec - 1;
	if (dir > 0) {
		while (i >= 0 && d->digits[i] == '9')
			d->digits[i--] = '0';
		if (i >= 0) {
			d->digits[i]++;
		} else { /* 9.99 -> 10.0: one digit and a higher exponent */
			d->digits[0] = '1';
			d->exp++;
		}
	} else {
		bool power_of_ten = d->digits[0] == '1';
		for (int k = 1; k < prec; k++)
			power_of_ten = power_of_ten && d->digits[k] == '0';
		if (power_of_ten) { /* 1.00 -> 0.999: all nines, lower exponent */
			memset(d->digits, '9', (size_t)prec);
			d->exp--;
		} else {
			while (d->digits[i] == '0')
				d->digits[i--] = '9';
			d->digits[i]--;
		}
	}
	while (d->n > 1 && d->digits[d->n - 1] == '0')
		d->n--;
}

/*
 * shortest finds the fewest significant digits that read back as v (finite
 * and positive), the nearest to v among those, as Go's strconv does. For
 * each length it tries the correctly rounded decimal and, if that misses,
 * the neighbour on v's other side, which can still be inside v's rounding
 * interval when the interval is lopsided (at powers of two).
 */
static void shortest(double v, decimal *d) {
	char s[40], t[40];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(s, sizeof s, "%.*e", prec - 1, v);
		double r = strtod(s, NULL);
		if (r == v) {
			read_scientific(s, d);
			return;
		}
		step(s, prec, r < v ? 1 : -1, d);
		write_scientific(d, t, sizeof t);
		if (strtod(t, NULL) == v)
			return;
	}
	snprintf(s, sizeof s, "%.16e", v); /* 17 digits always read back */
	read_scientific(s, d);
}

size_t xf_json_format_float(double v, char out[XF_JSON_FLOAT_MAX]) {
	if (isnan(v)) {
		memcpy(out, "NaN", 4);
		return 0;
	}
	if (isinf(v)) {
		memcpy(out, v > 0 ? "+Inf" : "-Inf", 5);
		return 0;
	}
	size_t k = 0;
	if (signbit(v))
		out[k++] = '-';
	double a = fabs(v);
	if (a == 0) {
		out[k++] = '0';
		out[k] = '\0';
		return k;
	}
	decimal d;
	shortest(a, &d);
	if (a < 1e-6 || a >= 1e21) {
		/* Go: strconv 'e' format, then e-07 shortened to e-7. */
		out[k++] = d.digits[0];
		if (d.n > 1) {
			out[k++] = '.';
			memcpy(out + k, d.digits + 1, (size_t)d.n - 1);
			k += (size_t)d.n - 1;
		}
		int n = snprintf(out + k, XF_JSON_FLOAT_MAX - k, d.exp < 0 ? "e-%d" : "e+%02d", d.exp < 0 ? -d.exp : d.exp);
		return k + (size_t)n;
	}
	if (d.exp < 0) { /* 0.000ddd */
		out[k++] = '0';
		out[k++] = '.';
		for (int z = -1; z > d.exp; z--)
			out[k++] = '0';
		memcpy(out + k, d.digits, (size_t)d.n);
		k += (size_t)d.n;
	} else { /* ddd[000][.ddd] */
		for (int i = 0; i <= d.exp; i++)
			out[k++] = i < d.n ? d.digits[i] : '0';
		if (d.n > d.exp + 1) {
			out[k++] = '.';
			memcpy(out + k, d.digits + d.exp + 1, (size_t)(d.n - d.exp - 1));
			k += (size_t)(d.n - d.exp - 1);
		}
	}
	out[k] = '\0';
	return k;
}
