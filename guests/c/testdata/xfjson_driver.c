/*
 * xfjson_driver runs the JSON reader and writer of the C SDK on requests
 * from xfjson_test.go, natively and as wasm32-wasi, so that their answers
 * can be compared with Go's encoding/json.
 *
 * Each request on stdin is "<command> <length>\n<payload>\n"; each answer is
 * one line on stdout:
 *   F  payload: 16 hex digits of a double's bits; answer: its JSON text, or
 *      "unsupported <NaN|+Inf|-Inf>".
 *   P  payload: a document; answer: "ok <dump>" or "error".
 *   G  payload: a key, a NUL byte, a document; answer: "found <dump>",
 *      "absent" or "error".
 *   S  payload: bytes; answer: them encoded as a JSON string.
 * A dump writes null, true and false as they are, a number as
 * n(<float>|<int>) with "range" and "-" for numbers that do not decode as a
 * double or an int64, a string as s<its JSON encoding>, and arrays and
 * objects with their elements and members in document order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../xf/xfjson.h"

static void dump(xf_json_buf *b, xf_json v);

static void dump_string(xf_json_buf *b, xf_json v) {
	char *s;
	size_t n;
	if (xf_json_decode_string(v, &s, &n) != NULL) {
		xf_json_append_raw(b, "s?", 2);
		return;
	}
	xf_json_append_raw(b, "s", 1);
	xf_json_append_string(b, s, n);
	free(s);
}

static void dump(xf_json_buf *b, xf_json v) {
	switch (xf_json_kind_of(v)) {
	case XF_JSON_NULL:
	case XF_JSON_BOOL:
		xf_json_append_raw(b, v.p, v.n);
		return;
	case XF_JSON_NUMBER: {
		double f;
		int64_t i;
		xf_json_append_raw(b, "n(", 2);
		if (xf_json_decode_float(v, &f) == NULL)
			xf_json_append_float(b, f);
		else
			xf_json_append_raw(b, "range", 5);
		xf_json_append_raw(b, "|", 1);
		if (xf_json_decode_int(v, &i) == NULL)
			xf_json_append_int(b, i);
		else
			xf_json_append_raw(b, "-", 1);
		xf_json_append_raw(b, ")", 1);
		return;
	}
	case XF_JSON_STRING:
		dump_string(b, v);
		return;
	case XF_JSON_ARRAY:
	case XF_JSON_OBJECT: {
		const int object = xf_json_kind_of(v) == XF_JSON_OBJECT;
		xf_json_iter it = xf_json_iterate(v);
		xf_json key, value;
		int first = 1;
		xf_json_append_raw(b, object ? "{" : "[", 1);
		while (xf_json_next(&it, &key, &value)) {
			if (!first)
				xf_json_append_raw(b, ",", 1);
			first = 0;
			if (object) {
				dump_string(b, key);
				xf_json_append_raw(b, ":", 1);
			}
			dump(b, value);
		}
		if (it.err != NULL)
			xf_json_append_raw(b, "!", 1);
		xf_json_append_raw(b, object ? "}" : "]", 1);
		return;
	}
	case XF_JSON_INVALID:
		break;
	}
	xf_json_append_raw(b, "?", 1);
}

static void answer(xf_json_buf *b) {
	fwrite(b->p, 1, b->n, stdout);
	fputc('\n', stdout);
	xf_json_buf_free(b);
}

int main(void) {
	size_t cap = 1 << 16, n = 0;
	char *in = malloc(cap);
	size_t got;
	while (in != NULL && (got = fread(in + n, 1, cap - n, stdin)) > 0) {
		n += got;
		if (n == cap)
			in = realloc(in, cap *= 2);
	}
	if (in == NULL) {
		fputs("out of memory\n", stderr);
		return 2;
	}
	size_t pos = 0;
	while (pos < n) {
		char cmd = in[pos];
		char *end;
		size_t len = (size_t)strtoull(in + pos + 2, &end, 10);
		const char *payload = end + 1;
		if (*end != '\n' || len > n - (size_t)(payload - in)) {
			fputs("malformed request\n", stderr);
			return 2;
		}
		pos = (size_t)(payload - in) + len + 1;
		xf_json_buf b = {0};
		xf_json doc;
		switch (cmd) {
		case 'F': {
			uint64_t bits = strtoull(payload, NULL, 16);
			double v;
			char out[XF_JSON_FLOAT_MAX];
			memcpy(&v, &bits, sizeof v);
			size_t k = xf_json_format_float(v, out);
			if (k == 0)
				printf("unsupported %s\n", out);
			else
				printf("%s\n", out);
			break;
		}
		case 'P':
			if (xf_json_parse(payload, len, &doc, NULL) != NULL) {
				puts("error");
				break;
			}
			xf_json_append_raw(&b, "ok ", 3);
			dump(&b, doc);
			answer(&b);
			break;
		case 'G': {
			const char *nul = memchr(payload, '\0', len);
			size_t klen = nul == NULL ? len : (size_t)(nul - payload);
			xf_json value;
			bool found;
			if (nul == NULL || xf_json_parse(nul + 1, len - klen - 1, &doc, NULL) != NULL ||
			    xf_json_object_get(doc, payload, &value, &found) != NULL) {
				puts("error");
				break;
			}
			if (!found) {
				puts("absent");
				break;
			}
			xf_json_append_raw(&b, "found ", 6);
			dump(&b, value);
			answer(&b);
			break;
		}
		case 'S':
			xf_json_append_string(&b, payload, len);
			answer(&b);
			break;
		default:
			fprintf(stderr, "unknown command %c\n", cmd);
			return 2;
		}
	}
	free(in);
	return 0;
}
