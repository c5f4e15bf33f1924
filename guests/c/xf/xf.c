/*
 * xf.c: the C guest SDK of xfhost (see xf.h). Each function maps one
 * import of abi/ABI.md and follows the Go SDK (guests/go/xf) call for call,
 * down to the wording of its error messages, so that C ports of a task
 * type fail exactly like the Go original.
 */
#include "xf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one ABI version marker of a module that links this SDK. */
XF_ABI_DEFINE_MARKER()

struct xf_job {
	char *inputs_text; /* owns the document inputs points into */
	xf_json inputs;    /* an object; empty when the host sent null */
	xf_job_info info;
	char *error;  /* the last failure's message, malloc'd */
	bool failed;  /* a failure was recorded (error may be NULL: no memory) */
	xf_status error_status;
};

struct xf_image {
	xf_job *job;
	xf_handle handle;
	xf_image_info info;
	xf_calibration *calibrations;
};

static const char out_of_memory[] = "out of memory";

/* --- Errors ------------------------------------------------------------ */

static char *vformat(const char *format, va_list ap) {
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, format, ap);
	char *s = n < 0 ? NULL : malloc((size_t)n + 1);
	if (s != NULL)
		vsnprintf(s, (size_t)n + 1, format, again);
	va_end(again);
	return s;
}

/* take_error records the text built in b (consumed) as the job's error. */
static bool take_error(xf_job *job, xf_status st, xf_json_buf *b) {
	xf_json_append_raw(b, "", 1);
	free(job->error);
	job->error = NULL;
	if (!b->failed) {
		job->error = b->p;
		*b = (xf_json_buf){0};
	}
	xf_json_buf_free(b);
	job->failed = true;
	job->error_status = st;
	return false;
}

static bool set_error(xf_job *job, xf_status st, const char *message) {
	xf_json_buf b = {0};
	xf_json_append_raw(&b, message, strlen(message));
	return take_error(job, st, &b);
}

bool xf_errorf(xf_job *job, const char *format, ...) {
	va_list ap;
	va_start(ap, format);
	char *s = vformat(format, ap);
	va_end(ap);
	free(job->error);
	job->error = s;
	job->failed = true;
	job->error_status = XF_STATUS_OK;
	return false;
}

const char *xf_error(const xf_job *job) {
	if (!job->failed)
		return "";
	return job->error != NULL ? job->error : out_of_memory;
}

xf_status xf_error_status(const xf_job *job) { return job->failed ? job->error_status : XF_STATUS_OK; }

const char *xf_status_text(xf_status s, char buf[24]) {
	const char *name = xf_status_name(s);
	if (name != NULL)
		return name;
	snprintf(buf, 24, "STATUS_%u", (unsigned)s);
	return buf;
}

static void append_str(xf_json_buf *b, const char *s) { xf_json_append_raw(b, s, strlen(s)); }

/* append_quoted appends s quoted as Go's %q verb does for ASCII text;
 * other bytes are copied. */
static void append_quoted(xf_json_buf *b, const char *s) {
	static const char hex[] = "0123456789abcdef";
	xf_json_append_raw(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = NULL;
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\a':
			esc = "\\a";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\v':
			esc = "\\v";
			break;
		}
		if (esc != NULL) {
			append_str(b, esc);
		} else if (c < 0x20 || c == 0x7f) {
			char x[4] = {'\\', 'x', hex[c >> 4], hex[c & 0xF]};
			xf_json_append_raw(b, x, 4);
		} else {
			xf_json_append_raw(b, (const char *)&c, 1);
		}
	}
	xf_json_append_raw(b, "\"", 1);
}

/* call_failed records a failed host call as Go's CallError prints it:
 * `op "arg": STATUS`, or `op: STATUS` without an argument. */
static bool call_failed(xf_job *job, const char *op, const char *arg, xf_status st) {
	char buf[24];
	xf_json_buf b = {0};
	append_str(&b, op);
	if (arg != NULL && *arg != '\0') {
		xf_json_append_raw(&b, " ", 1);
		append_quoted(&b, arg);
	}
	xf_json_append_raw(&b, ": ", 2);
	append_str(&b, xf_status_text(st, buf));
	return take_error(job, st, &b);
}

static bool check(xf_job *job, const char *op, const char *arg, xf_status st) {
	return st == XF_STATUS_OK || call_failed(job, op, arg, st);
}

/* --- Caller-buffer calls ----------------------------------------------- */

/* The arguments of a caller-buffer call besides the buffer itself. */
typedef struct call_args {
	const char *s1, *s2;
	xf_handle handle;
	const xf_histogram_options *hist;
	xf_image *mask;
} call_args;

typedef xf_status (*buffer_call)(const call_args *a, void *buf, uint32_t cap, uint32_t *len_out);

static uint32_t len32(const char *s) { return (uint32_t)strlen(s); }

static xf_status call_inputs_get(const call_args *a, void *buf, uint32_t cap, uint32_t *len) {
	(void)a;
	return xf_abi_xf_inputs_get(buf, cap, len);
}

static xf_status call_job_info_get(const call_args *a, void *buf, uint32_t cap, uint32_t *len) {
	(void)a;
	return xf_abi_xf_job_info_get(buf, cap, len);
}

static xf_status call_temp_path_create(const call_args *a, void *buf, uint32_t cap, uint32_t *len) {
	return xf_abi_xf_temp_path_create(a->s1, len32(a->s1), buf, cap, len);
}

static xf_status call_related_path_create(const call_args *a, void *buf, uint32_t cap, uint32_t *len) {
	return xf_abi_xf_related_path_create(a->s1, len32(a->s1), a->s2, len32(a->s2), buf, cap, len);
}

static xf_status call_input_file_fetch(const call_args *a, void *buf, uint32_t cap, uint32_t *len) {
	return xf_abi_xf_input_file_fetch(a->s1, len32(a->s1), buf, cap, len);
}

static xf_status call_output_file_upload(const call_args *a, void *buf, uint32_t cap, uint32_t *len) {
	return xf_abi_xf_output_file_upload(a->s1, len32(a->s1), buf, cap, len);
}

static xf_status call_image_info_get(const call_args *a, void *buf, uint32_t cap, uint32_t *len) {
	return xf_abi_xf_image_info_get(a->handle, buf, cap, len);
}

static xf_handle handle_of(const xf_image *im) { return im == NULL ? 0 : im->handle; }

static xf_status call_histogram(const call_args *a, void *buf, uint32_t cap, uint32_t *len) {
	const xf_histogram_options *o = a->hist;
	uint32_t flags = (o->has_range ? 1u : 0u) | (o->integer_bins ? 2u : 0u);
	return xf_abi_clip_histogram(a->handle, handle_of(a->mask), o->bins, o->lower, o->upper, flags, buf, cap, len);
}

static xf_status call_component_sizes(const call_args *a, void *buf, uint32_t cap, uint32_t *len) {
	return xf_abi_clip_component_sizes(a->handle, buf, cap, len);
}

/*
 * fetch runs a caller-buffer call, growing the buffer until the result
 * fits, and returns it in *out (malloc'd, with a NUL after the *n bytes).
 */
static bool fetch(xf_job *job, const char *op, const char *arg, buffer_call call, const call_args *a, char **out,
		  size_t *n) {
	uint32_t cap = 256;
	char *buf = malloc(cap + 1);
	/* A host whose answer keeps growing is broken; do not chase it forever. */
	for (int attempt = 0; buf != NULL && attempt < 16; attempt++) {
		uint32_t len = 0;
		xf_status st = call(a, buf, cap, &len);
		if (st == XF_STATUS_OK) {
			buf[len] = '\0';
			*out = buf;
			if (n != NULL)
				*n = len;
			return true;
		}
		if (st != XF_STATUS_BUFFER_TOO_SMALL || len == UINT32_MAX) {
			free(buf);
			return call_failed(job, op, arg, st);
		}
		free(buf);
		cap = len;
		buf = malloc((size_t)cap + 1);
	}
	if (buf == NULL)
		return set_error(job, XF_STATUS_OK, out_of_memory);
	free(buf);
	return call_failed(job, op, arg, XF_STATUS_BUFFER_TOO_SMALL);
}

/* --- JSON decoding in the Go SDK's words -------------------------------- */

/* type_error records the error of Go's json.Unmarshal of v into a Go
 * value of go_type, with prefix ("input \"k\": ") before it. */
static bool type_error(xf_job *job, xf_json_buf *prefix, xf_json v, const char *go_type, bool with_literal) {
	append_str(prefix, "json: cannot unmarshal ");
	xf_json_kind k = xf_json_kind_of(v);
	append_str(prefix, xf_json_kind_name(k));
	if (k == XF_JSON_NUMBER && with_literal) {
		xf_json_append_raw(prefix, " ", 1);
		xf_json_append_raw(prefix, v.p, v.n);
	}
	append_str(prefix, " into Go value of type ");
	append_str(prefix, go_type);
	return take_error(job, XF_STATUS_OK, prefix);
}

static void input_prefix(xf_json_buf *b, const char *key) {
	append_str(b, "input ");
	append_quoted(b, key);
	xf_json_append_raw(b, ": ", 2);
}

/* decode_string returns a JSON string as a C string; one holding a NUL
 * cannot be one, and is an error (what, the caller says). */
static const char *decode_string(xf_json v, char **out) {
	size_t n;
	const char *err = xf_json_decode_string(v, out, &n);
	if (err == NULL && strlen(*out) != n) {
		free(*out);
		*out = NULL;
		err = "string contains a NUL character";
	}
	return err;
}

/* --- Start and end ----------------------------------------------------- */

/* string_field reads an optional string member: "" when missing or null. */
static const char *string_field(xf_json obj, const char *name, char **out) {
	xf_json v;
	bool found;
	const char *err = xf_json_object_get(obj, name, &v, &found);
	if (err != NULL)
		return err;
	if (!found || xf_json_kind_of(v) == XF_JSON_NULL) {
		*out = calloc(1, 1);
		return *out == NULL ? out_of_memory : NULL;
	}
	if (xf_json_kind_of(v) != XF_JSON_STRING)
		return "a field is not a string";
	return decode_string(v, out);
}

static const char *read_job_info(xf_json doc, xf_job_info *info) {
	char *s[4] = {0};
	xf_json task = {"{}", 2}, v;
	bool found;
	const char *err = string_field(doc, "job_id", &s[0]);
	if (err == NULL)
		err = string_field(doc, "abi_version", &s[1]);
	if (err == NULL && (err = xf_json_object_get(doc, "task_type", &v, &found)) == NULL && found &&
	    xf_json_kind_of(v) == XF_JSON_OBJECT)
		task = v;
	if (err == NULL)
		err = string_field(task, "name", &s[2]);
	if (err == NULL)
		err = string_field(task, "version", &s[3]);
	if (err == NULL && (err = xf_json_object_get(doc, "job_serial", &v, &found)) == NULL && found &&
	    xf_json_kind_of(v) != XF_JSON_NULL)
		err = xf_json_decode_int(v, &info->job_serial);
	if (err != NULL) {
		for (int i = 0; i < 4; i++)
			free(s[i]);
		return err;
	}
	info->job_id = s[0];
	info->abi_version = s[1];
	info->task_type_name = s[2];
	info->task_type_version = s[3];
	return NULL;
}

/* start reads the job's inputs and information, as Go's xf.Start. */
static bool start(xf_job *job) {
	static const char empty[] = "{}";
	char *text;
	size_t n;
	xf_json doc;
	if (!fetch(job, "xf.inputs_get", "", call_inputs_get, &(call_args){0}, &text, &n))
		return false;
	const char *err = xf_json_parse(text, n, &doc, NULL);
	if (err == NULL && xf_json_kind_of(doc) == XF_JSON_NULL)
		doc = (xf_json){empty, 2};
	if (err == NULL && xf_json_kind_of(doc) != XF_JSON_OBJECT) {
		xf_json_buf b = {0};
		append_str(&b, "decode inputs: ");
		type_error(job, &b, doc, "xf.Inputs", false);
		free(text);
		return false;
	}
	if (err != NULL) {
		free(text);
		return xf_errorf(job, "decode inputs: %s", err);
	}
	job->inputs_text = text;
	job->inputs = doc;
	if (!fetch(job, "xf.job_info_get", "", call_job_info_get, &(call_args){0}, &text, &n))
		return false;
	err = xf_json_parse(text, n, &doc, NULL);
	if (err == NULL && xf_json_kind_of(doc) != XF_JSON_OBJECT)
		err = "not an object";
	if (err == NULL)
		err = read_job_info(doc, &job->info);
	free(text);
	if (err != NULL)
		return xf_errorf(job, "decode job info: %s", err);
	return true;
}

static _Noreturn void fail_message(const char *message) {
	xf_abi_xf_fail(message, len32(message));
	exit(1); /* reached only if the job had already ended */
}

_Noreturn void xf_run(xf_task task) {
	xf_job job = {0};
	if (!start(&job))
		fail_message(xf_error(&job));
	if (!task(&job)) {
		const char *msg = xf_error(&job);
		xf_fail(&job, *msg != '\0' ? msg : "task failed without an error message");
	}
	if (!xf_finish(&job) && xf_error_status(&job) != XF_STATUS_INVALID_STATE)
		xf_fail(&job, xf_error(&job));
	exit(0);
}

bool xf_finish(xf_job *job) { return check(job, "xf.finish", "", xf_abi_xf_finish()); }

_Noreturn void xf_fail(xf_job *job, const char *message) {
	(void)job;
	fail_message(message);
}

_Noreturn void xf_failf(xf_job *job, const char *format, ...) {
	va_list ap;
	va_start(ap, format);
	char *s = vformat(format, ap);
	va_end(ap);
	xf_fail(job, s != NULL ? s : out_of_memory);
}

const xf_job_info *xf_info(const xf_job *job) { return &job->info; }

/* --- Inputs ------------------------------------------------------------ */

static bool lookup(xf_job *job, const char *key, xf_json *v) {
	bool found;
	return xf_json_object_get(job->inputs, key, v, &found) == NULL && found;
}

bool xf_input_is_null(xf_job *job, const char *key) {
	xf_json v;
	return !lookup(job, key, &v) || xf_json_kind_of(v) == XF_JSON_NULL;
}

bool xf_input_raw(xf_job *job, const char *key, xf_json *value) {
	if (lookup(job, key, value))
		return true;
	xf_json_buf b = {0};
	append_str(&b, "input ");
	append_quoted(&b, key);
	append_str(&b, " does not exist");
	return take_error(job, XF_STATUS_OK, &b);
}

/*
 * input_value finds a typed input: *present false for null or missing if
 * optional, an error for them otherwise.
 */
static bool input_value(xf_job *job, const char *key, bool optional, xf_json *v, bool *present) {
	*present = false;
	if (optional && xf_input_is_null(job, key))
		return true;
	if (!xf_input_raw(job, key, v))
		return false;
	if (xf_json_kind_of(*v) == XF_JSON_NULL) {
		xf_json_buf b = {0};
		append_str(&b, "input ");
		append_quoted(&b, key);
		append_str(&b, " is null");
		return take_error(job, XF_STATUS_OK, &b);
	}
	*present = true;
	return true;
}

static bool input_float(xf_job *job, const char *key, bool optional, double *value, bool *present) {
	xf_json v;
	if (!input_value(job, key, optional, &v, present))
		return false;
	if (!*present)
		return true;
	if (xf_json_kind_of(v) == XF_JSON_NUMBER && xf_json_decode_float(v, value) == NULL)
		return true;
	xf_json_buf b = {0};
	input_prefix(&b, key);
	return type_error(job, &b, v, "float64", true);
}

static bool input_int(xf_job *job, const char *key, bool optional, int64_t *value, bool *present) {
	xf_json v;
	if (!input_value(job, key, optional, &v, present))
		return false;
	if (!*present)
		return true;
	if (xf_json_kind_of(v) == XF_JSON_NUMBER && xf_json_decode_int(v, value) == NULL)
		return true;
	xf_json_buf b = {0};
	input_prefix(&b, key);
	return type_error(job, &b, v, "int64", true);
}

static bool input_string(xf_job *job, const char *key, bool optional, const char **value, bool *present) {
	xf_json v;
	if (!input_value(job, key, optional, &v, present))
		return false;
	if (!*present)
		return true;
	xf_json_buf b = {0};
	input_prefix(&b, key);
	if (xf_json_kind_of(v) != XF_JSON_STRING)
		return type_error(job, &b, v, "string", false);
	char *s;
	const char *err = decode_string(v, &s);
	if (err != NULL) {
		append_str(&b, err);
		return take_error(job, XF_STATUS_OK, &b);
	}
	xf_json_buf_free(&b);
	*value = s; /* owned by the job until it ends */
	return true;
}

static bool input_bool(xf_job *job, const char *key, bool optional, bool *value, bool *present) {
	xf_json v;
	if (!input_value(job, key, optional, &v, present))
		return false;
	if (!*present)
		return true;
	if (xf_json_decode_bool(v, value) == NULL)
		return true;
	xf_json_buf b = {0};
	input_prefix(&b, key);
	return type_error(job, &b, v, "bool", false);
}

bool xf_input_optional_float(xf_job *job, const char *key, double *value, bool *present) {
	return input_float(job, key, true, value, present);
}

bool xf_input_optional_int(xf_job *job, const char *key, int64_t *value, bool *present) {
	return input_int(job, key, true, value, present);
}

bool xf_input_optional_string(xf_job *job, const char *key, const char **value, bool *present) {
	return input_string(job, key, true, value, present);
}

bool xf_input_optional_bool(xf_job *job, const char *key, bool *value, bool *present) {
	return input_bool(job, key, true, value, present);
}

bool xf_input_float(xf_job *job, const char *key, double *value) {
	bool present;
	return input_float(job, key, false, value, &present);
}

bool xf_input_int(xf_job *job, const char *key, int64_t *value) {
	bool present;
	return input_int(job, key, false, value, &present);
}

bool xf_input_string(xf_job *job, const char *key, const char **value) {
	bool present;
	return input_string(job, key, false, value, &present);
}

bool xf_input_bool(xf_job *job, const char *key, bool *value) {
	bool present;
	return input_bool(job, key, false, value, &present);
}

/* --- Outputs ------------------------------------------------------------ */

/* set_output sends the JSON text in b (consumed) as output key. */
static bool set_output(xf_job *job, const char *key, xf_json_buf *b) {
	if (b->failed) {
		xf_json_buf_free(b);
		return set_error(job, XF_STATUS_OK, out_of_memory);
	}
	xf_status st = xf_abi_xf_output_set(key, len32(key), b->p, (uint32_t)b->n);
	xf_json_buf_free(b);
	return check(job, "xf.output_set", key, st);
}

bool xf_set_output_float(xf_job *job, const char *key, double value) {
	char text[XF_JSON_FLOAT_MAX];
	size_t n = xf_json_format_float(value, text);
	xf_json_buf b = {0};
	if (n == 0) { /* text names the value as Go's UnsupportedValueError */
		append_str(&b, "output ");
		append_quoted(&b, key);
		append_str(&b, ": json: unsupported value: ");
		append_str(&b, text);
		return take_error(job, XF_STATUS_OK, &b);
	}
	xf_json_append_raw(&b, text, n);
	return set_output(job, key, &b);
}

bool xf_set_output_int(xf_job *job, const char *key, int64_t value) {
	xf_json_buf b = {0};
	xf_json_append_int(&b, value);
	return set_output(job, key, &b);
}

bool xf_set_output_string(xf_job *job, const char *key, const char *value) {
	xf_json_buf b = {0};
	xf_json_append_string(&b, value, strlen(value));
	return set_output(job, key, &b);
}

bool xf_set_output_bool(xf_job *job, const char *key, bool value) {
	xf_json_buf b = {0};
	append_str(&b, value ? "true" : "false");
	return set_output(job, key, &b);
}

bool xf_set_output_json(xf_job *job, const char *key, const char *json, size_t len) {
	return check(job, "xf.output_set", key, xf_abi_xf_output_set(key, len32(key), json, (uint32_t)len));
}

bool xf_set_output_image(xf_job *job, const char *key, xf_image *image) {
	return check(job, "xf.output_image_set", key, xf_abi_xf_output_image_set(key, len32(key), handle_of(image)));
}

bool xf_set_output_units(xf_job *job, const char *const *keys, const char *const *units, size_t n) {
	xf_json_buf b = {0};
	xf_json_append_raw(&b, "{", 1);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			xf_json_append_raw(&b, ",", 1);
		xf_json_append_string(&b, keys[i], strlen(keys[i]));
		xf_json_append_raw(&b, ":", 1);
		xf_json_append_string(&b, units[i], strlen(units[i]));
	}
	xf_json_append_raw(&b, "}", 1);
	if (b.failed) {
		xf_json_buf_free(&b);
		return set_error(job, XF_STATUS_OK, out_of_memory);
	}
	xf_status st = xf_abi_xf_output_units_set(b.p, (uint32_t)b.n);
	xf_json_buf_free(&b);
	return check(job, "xf.output_units_set", "", st);
}

bool xf_set_error_message(xf_job *job, const char *message) {
	return check(job, "xf.error_set", "", xf_abi_xf_error_set(message, len32(message)));
}

bool xf_clear_error_message(xf_job *job) { return check(job, "xf.error_clear", "", xf_abi_xf_error_clear()); }

bool xf_progress(xf_job *job, double percent) {
	return check(job, "xf.progress_set", "", xf_abi_xf_progress_set(percent));
}

bool xf_set_estimated_duration(xf_job *job, double seconds) {
	return check(job, "xf.estimated_duration_set", "", xf_abi_xf_estimated_duration_set(seconds));
}

/* --- Logs ---------------------------------------------------------------- */

bool xf_log(xf_job *job, xf_level level, const char *message) {
	return check(job, "xf.log", "", xf_abi_xf_log((int32_t)level, message, len32(message)));
}

bool xf_logf(xf_job *job, xf_level level, const char *format, ...) {
	va_list ap;
	va_start(ap, format);
	char *s = vformat(format, ap);
	va_end(ap);
	if (s == NULL)
		return set_error(job, XF_STATUS_OK, out_of_memory);
	bool ok = xf_log(job, level, s);
	free(s);
	return ok;
}

bool xf_activity_log(xf_job *job, xf_level level, const char *title) {
	return check(job, "xf.activity_log", "", xf_abi_xf_activity_log((int32_t)level, title, len32(title)));
}

/* --- Files --------------------------------------------------------------- */

bool xf_temp_path(xf_job *job, const char *name, char **out) {
	return fetch(job, "xf.temp_path_create", name, call_temp_path_create, &(call_args){.s1 = name}, out, NULL);
}

bool xf_related_path(xf_job *job, const char *path, const char *postfix, char **out) {
	return fetch(job, "xf.related_path_create", path, call_related_path_create,
		     &(call_args){.s1 = path, .s2 = postfix}, out, NULL);
}

bool xf_download_input_file(xf_job *job, const char *key, char **out) {
	return fetch(job, "xf.input_file_fetch", key, call_input_file_fetch, &(call_args){.s1 = key}, out, NULL);
}

bool xf_upload_file(xf_job *job, const char *path, char **out) {
	return fetch(job, "xf.output_file_upload", path, call_output_file_upload, &(call_args){.s1 = path}, out, NULL);
}

/* --- Images -------------------------------------------------------------- */

double xf_raw_to_calibrated(const xf_calibration *c, double raw) { return c->slope * raw + c->intercept; }

double xf_calibrated_to_raw(const xf_calibration *c, double value) { return (value - c->intercept) / c->slope; }

const xf_calibration *xf_find_calibration(const xf_image_info *info, const char *unit_type) {
	for (size_t i = 0; i < info->n_calibrations; i++) {
		if (strcmp(info->calibrations[i].unit_type, unit_type) == 0)
			return &info->calibrations[i];
	}
	return NULL;
}

static const char *const data_type_names[] = {NULL,    "uint8",  "int8",    "uint16",
					      "int16", "uint32", "int32", "float32", "float64"};

xf_data_type xf_data_type_of(const char *name) {
	for (int t = XF_UINT8; t <= XF_FLOAT64; t++) {
		if (strcmp(data_type_names[t], name) == 0)
			return (xf_data_type)t;
	}
	return (xf_data_type)0;
}

const char *xf_data_type_name(xf_data_type t) {
	return t >= XF_UINT8 && t <= XF_FLOAT64 ? data_type_names[t] : NULL;
}

/* read_triple reads an array of three numbers. */
static const char *read_triple(xf_json obj, const char *name, double out[3]) {
	xf_json v, e;
	bool found;
	const char *err = xf_json_object_get(obj, name, &v, &found);
	if (err != NULL || !found)
		return err != NULL ? err : "a field is missing";
	xf_json_iter it = xf_json_iterate(v);
	int i = 0;
	while (xf_json_next(&it, NULL, &e)) {
		if (i == 3 || (err = xf_json_decode_float(e, &out[i])) != NULL)
			return i == 3 ? "a field does not have 3 elements" : err;
		i++;
	}
	if (it.err != NULL)
		return it.err;
	return i == 3 ? NULL : "a field does not have 3 elements";
}

static void free_info(xf_image *im) {
	for (size_t i = 0; im->calibrations != NULL && i < im->info.n_calibrations; i++) {
		free((char *)im->calibrations[i].type);
		free((char *)im->calibrations[i].unit_type);
		free((char *)im->calibrations[i].unit_name);
	}
	free(im->calibrations);
	free((char *)im->info.data_type);
	free((char *)im->info.default_unit_type);
	im->calibrations = NULL;
	im->info = (xf_image_info){0};
}

static const char *read_calibration(xf_json c, xf_calibration *out) {
	char *type = NULL, *unit_type = NULL, *unit_name = NULL;
	xf_json v;
	bool found;
	const char *err = xf_json_kind_of(c) == XF_JSON_OBJECT ? NULL : "a calibration is not an object";
	if (err == NULL)
		err = string_field(c, "type", &type);
	if (err == NULL)
		err = string_field(c, "unit_type", &unit_type);
	if (err == NULL)
		err = string_field(c, "unit_name", &unit_name);
	if (err == NULL && (err = xf_json_object_get(c, "slope", &v, &found)) == NULL && found)
		err = xf_json_decode_float(v, &out->slope);
	if (err == NULL && (err = xf_json_object_get(c, "intercept", &v, &found)) == NULL && found)
		err = xf_json_decode_float(v, &out->intercept);
	out->type = type;
	out->unit_type = unit_type;
	out->unit_name = unit_name;
	return err;
}

/* read_info decodes xf.image_info_get's JSON into im's info. */
static const char *read_info(xf_image *im, const char *text, size_t n) {
	xf_json doc, v, e;
	bool found;
	double size[3];
	const char *err = xf_json_parse(text, n, &doc, NULL);
	if (err == NULL && xf_json_kind_of(doc) != XF_JSON_OBJECT)
		err = "not an object";
	if (err == NULL)
		err = read_triple(doc, "size", size);
	for (int i = 0; err == NULL && i < 3; i++) {
		if (!(size[i] >= 0 && size[i] <= UINT32_MAX) || size[i] != (double)(uint32_t)size[i])
			err = "size is not three unsigned 32-bit integers";
		else
			im->info.size[i] = (uint32_t)size[i];
	}
	if (err == NULL)
		err = read_triple(doc, "spacing_mm", im->info.spacing_mm);
	if (err == NULL)
		err = read_triple(doc, "origin_mm", im->info.origin_mm);
	char *data_type = NULL, *default_unit_type = NULL;
	if (err == NULL)
		err = string_field(doc, "data_type", &data_type);
	if (err == NULL)
		err = string_field(doc, "default_unit_type", &default_unit_type);
	im->info.data_type = data_type;
	im->info.default_unit_type = default_unit_type;
	if (err == NULL && (err = xf_json_object_get(doc, "calibrations", &v, &found)) == NULL && found &&
	    xf_json_kind_of(v) != XF_JSON_NULL) {
		size_t count = 0;
		xf_json_iter it = xf_json_iterate(v);
		while (xf_json_next(&it, NULL, NULL))
			count++;
		err = it.err;
		if (err == NULL && count > 0 && (im->calibrations = calloc(count, sizeof *im->calibrations)) == NULL)
			err = out_of_memory;
		it = xf_json_iterate(v);
		for (size_t i = 0; err == NULL && i < count && xf_json_next(&it, NULL, &e); i++) {
			im->info.n_calibrations = i + 1;
			err = read_calibration(e, &im->calibrations[i]);
		}
		im->info.calibrations = im->calibrations;
	}
	return err;
}

/*
 * new_image wraps a handle the host issued and reads its information, as
 * Go's newImage; arg names it in errors. On failure the handle is closed.
 */
static bool new_image(xf_job *job, const char *arg, xf_handle h, xf_image **out) {
	char *text;
	size_t n;
	if (!fetch(job, "xf.image_info_get", arg, call_image_info_get, &(call_args){.handle = h}, &text, &n)) {
		xf_abi_xf_image_close(h);
		return false;
	}
	xf_image *im = calloc(1, sizeof *im);
	const char *err = im == NULL ? out_of_memory : read_info(im, text, n);
	free(text);
	if (err != NULL) {
		if (im != NULL)
			free_info(im);
		free(im);
		xf_abi_xf_image_close(h);
		return xf_errorf(job, "%s: decode image info: %s", arg, err);
	}
	im->job = job;
	im->handle = h;
	*out = im;
	return true;
}

bool xf_open_image(xf_job *job, const char *key, xf_image **out) {
	xf_handle h = 0;
	if (!check(job, "xf.image_open", key, xf_abi_xf_image_open(key, len32(key), &h)))
		return false;
	return new_image(job, key, h, out);
}

/* member starts an object member: a comma unless it is the first. */
static void member(xf_json_buf *b, bool *first, const char *name) {
	if (!*first)
		xf_json_append_raw(b, ",", 1);
	*first = false;
	xf_json_append_string(b, name, strlen(name));
	xf_json_append_raw(b, ":", 1);
}

static void append_triple(xf_json_buf *b, const double v[3]) {
	xf_json_append_raw(b, "[", 1);
	for (int i = 0; i < 3; i++) {
		if (i > 0)
			xf_json_append_raw(b, ",", 1);
		if (!xf_json_append_float(b, v[i]))
			b->failed = true; /* JSON has no NaN or infinity: refuse the spec */
	}
	xf_json_append_raw(b, "]", 1);
}

bool xf_create_image(xf_job *job, const xf_image_spec *spec, xf_image **out) {
	xf_json_buf b = {0};
	bool first = true;
	/* The members in the order of Go's ImageSpec, zero ones left out. */
	xf_json_append_raw(&b, "{", 1);
	if (spec->size[0] != 0 || spec->size[1] != 0 || spec->size[2] != 0) {
		member(&b, &first, "size");
		for (int i = 0; i < 3; i++) {
			xf_json_append_raw(&b, i == 0 ? "[" : ",", 1);
			xf_json_append_int(&b, spec->size[i]);
		}
		xf_json_append_raw(&b, "]", 1);
	}
	if (spec->data_type != 0) {
		const char *name = xf_data_type_name(spec->data_type);
		if (name == NULL)
			name = "";
		member(&b, &first, "data_type");
		xf_json_append_string(&b, name, strlen(name));
	}
	if (spec->has_spacing) {
		member(&b, &first, "spacing_mm");
		append_triple(&b, spec->spacing_mm);
	}
	if (spec->has_origin) {
		member(&b, &first, "origin_mm");
		append_triple(&b, spec->origin_mm);
	}
	if (spec->like != NULL) {
		member(&b, &first, "like");
		xf_json_append_int(&b, spec->like->handle);
	}
	xf_json_append_raw(&b, "}", 1);
	if (b.failed) {
		xf_json_buf_free(&b);
		return xf_errorf(job, "xf.image_create: spacing or origin is not finite, or out of memory");
	}
	bool ok = xf_create_image_json(job, b.p, b.n, out);
	xf_json_buf_free(&b);
	return ok;
}

bool xf_create_image_json(xf_job *job, const char *spec, size_t len, xf_image **out) {
	xf_handle h = 0;
	if (!check(job, "xf.image_create", "", xf_abi_xf_image_create(spec, (uint32_t)len, &h)))
		return false;
	return new_image(job, "created image", h, out);
}

const xf_image_info *xf_image_info_of(const xf_image *image) { return &image->info; }

bool xf_image_read(xf_image *im, const xf_box *box, void *buf, size_t len) {
	return check(im->job, "xf.image_read", "",
		     xf_abi_xf_image_read(im->handle, box->pos[0], box->pos[1], box->pos[2], box->size[0], box->size[1],
					  box->size[2], buf, (uint32_t)len));
}

bool xf_image_write(xf_image *im, const xf_box *box, const void *buf, size_t len) {
	return check(im->job, "xf.image_write", "",
		     xf_abi_xf_image_write(im->handle, box->pos[0], box->pos[1], box->pos[2], box->size[0],
					   box->size[1], box->size[2], (void *)buf, (uint32_t)len));
}

bool xf_image_close(xf_image *im) {
	if (im == NULL)
		return true;
	xf_job *job = im->job;
	xf_status st = xf_abi_xf_image_close(im->handle);
	free_info(im);
	free(im);
	return check(job, "xf.image_close", "", st);
}

/* --- Kernels --------------------------------------------------------------- */

/* created turns the handle of a kernel's new image into an image. */
static bool created(xf_job *job, const char *op, xf_status st, xf_handle h, xf_image **out) {
	return check(job, op, "", st) && new_image(job, op, h, out);
}

bool xf_minmax(xf_image *im, xf_image *mask, double *lo, double *hi) {
	return check(im->job, "clip.minmax", "", xf_abi_clip_minmax(im->handle, handle_of(mask), lo, hi));
}

bool xf_threshold(xf_image *im, const double *lower, const double *upper, xf_image **out) {
	double lo = 0, hi = 0;
	uint32_t flags = 0;
	if (lower != NULL) {
		lo = *lower;
		flags |= 1;
	}
	if (upper != NULL) {
		hi = *upper;
		flags |= 2;
	}
	xf_handle h = 0;
	xf_status st = xf_abi_clip_threshold(im->handle, lo, hi, flags, &h);
	return created(im->job, "clip.threshold", st, h, out);
}

bool xf_statistics(xf_image *im, xf_image *mask, xf_stats *out) {
	unsigned char b[48];
	if (!check(im->job, "clip.stats", "", xf_abi_clip_stats(im->handle, handle_of(mask), b)))
		return false;
	/* Wasm is little-endian, the byte order of the ABI. */
	memcpy(&out->min, b, 8);
	memcpy(&out->max, b + 8, 8);
	memcpy(&out->sum, b + 16, 8);
	memcpy(&out->mean, b + 24, 8);
	memcpy(&out->std, b + 32, 8);
	memcpy(&out->count, b + 40, 8);
	return true;
}

bool xf_histogram(xf_image *im, xf_image *mask, const xf_histogram_options *opt, xf_bin **bins, size_t *n) {
	char *raw;
	size_t len;
	call_args a = {.handle = im->handle, .hist = opt, .mask = mask};
	if (!fetch(im->job, "clip.histogram", "", call_histogram, &a, &raw, &len))
		return false;
	size_t count = len / 32;
	xf_bin *out = malloc(count > 0 ? count * sizeof *out : 1);
	if (out == NULL) {
		free(raw);
		return set_error(im->job, XF_STATUS_OK, out_of_memory);
	}
	for (size_t i = 0; i < count; i++) {
		const char *r = raw + 32 * i;
		memcpy(&out[i].centre, r, 8);
		memcpy(&out[i].pdf, r + 8, 8);
		memcpy(&out[i].cdf, r + 16, 8);
		memcpy(&out[i].count, r + 24, 8);
	}
	free(raw);
	*bins = out;
	*n = count;
	return true;
}

bool xf_threshold_multi(xf_image *im, const double *levels, size_t n, xf_image **out) {
	xf_handle h = 0;
	xf_status st = xf_abi_clip_threshold_multi(im->handle, levels, (uint32_t)n, &h);
	return created(im->job, "clip.threshold_multi", st, h, out);
}

bool xf_mask(xf_image *im, xf_image *mask, xf_image **out) {
	xf_handle h = 0;
	return created(im->job, "clip.mask", xf_abi_clip_mask(im->handle, handle_of(mask), &h), h, out);
}

bool xf_convert(xf_image *im, xf_data_type type, xf_image **out) {
	xf_handle h = 0;
	return created(im->job, "clip.convert", xf_abi_clip_convert(im->handle, (uint32_t)type, &h), h, out);
}

bool xf_arith_scalar(xf_image *im, xf_arith_op op, double value, xf_image **out) {
	xf_handle h = 0;
	xf_status st = xf_abi_clip_arith_scalar(im->handle, (uint32_t)op, value, &h);
	return created(im->job, "clip.arith_scalar", st, h, out);
}

bool xf_arith(xf_image *a, xf_image *b, xf_arith_op op, xf_image **out) {
	xf_handle h = 0;
	xf_status st = xf_abi_clip_arith(a->handle, handle_of(b), (uint32_t)op, &h);
	return created(a->job, "clip.arith", st, h, out);
}

bool xf_gaussian(xf_image *im, double sigma_mm, xf_image **out) {
	xf_handle h = 0;
	return created(im->job, "clip.gaussian", xf_abi_clip_gaussian(im->handle, sigma_mm, &h), h, out);
}

bool xf_median(xf_image *im, uint32_t radius, xf_image **out) {
	xf_handle h = 0;
	return created(im->job, "clip.median", xf_abi_clip_median(im->handle, radius, &h), h, out);
}

bool xf_morphology(xf_image *im, xf_morph_op op, uint32_t connectivity, uint32_t radius, xf_image **out) {
	xf_handle h = 0;
	xf_status st = xf_abi_clip_morphology(im->handle, (uint32_t)op, connectivity, radius, &h);
	return created(im->job, "clip.morphology", st, h, out);
}

bool xf_label(xf_image *im, uint32_t connectivity, xf_image **out, uint32_t *count) {
	xf_handle h = 0;
	uint32_t n = 0;
	xf_status st = xf_abi_clip_label(im->handle, connectivity, &h, &n);
	*count = n;
	return created(im->job, "clip.label", st, h, out);
}

bool xf_component_sizes(xf_image *labels, uint64_t **sizes, size_t *n) {
	char *raw;
	size_t len;
	call_args a = {.handle = labels->handle};
	if (!fetch(labels->job, "clip.component_sizes", "", call_component_sizes, &a, &raw, &len))
		return false;
	size_t count = len / 8;
	uint64_t *out = malloc(count > 0 ? count * sizeof *out : 1);
	if (out == NULL) {
		free(raw);
		return set_error(labels->job, XF_STATUS_OK, out_of_memory);
	}
	memcpy(out, raw, count * sizeof *out);
	free(raw);
	*sizes = out;
	*n = count;
	return true;
}

bool xf_keep_largest(xf_image *im, uint32_t connectivity, uint32_t n, xf_image **out) {
	xf_handle h = 0;
	xf_status st = xf_abi_clip_keep_largest(im->handle, connectivity, n, &h);
	return created(im->job, "clip.keep_largest", st, h, out);
}

bool xf_remove_small(xf_image *im, uint32_t connectivity, uint64_t min_size, xf_image **out) {
	xf_handle h = 0;
	xf_status st = xf_abi_clip_remove_small(im->handle, connectivity, min_size, &h);
	return created(im->job, "clip.remove_small", st, h, out);
}

bool xf_distance_transform(xf_image *im, xf_image **out) {
	xf_handle h = 0;
	return created(im->job, "clip.distance_transform", xf_abi_clip_distance_transform(im->handle, &h), h, out);
}

bool xf_bvtv(xf_image *seg, xf_image *mask, double *out) {
	return check(seg->job, "clip.bvtv", "", xf_abi_clip_bvtv(seg->handle, handle_of(mask), out));
}

bool xf_crop(xf_image *im, const xf_box *box, xf_image **out) {
	xf_handle h = 0;
	xf_status st = xf_abi_clip_crop(im->handle, box->pos[0], box->pos[1], box->pos[2], box->size[0], box->size[1],
					box->size[2], &h);
	return created(im->job, "clip.crop", st, h, out);
}

bool xf_bounding_box(xf_image *im, xf_box *out) {
	uint32_t v[6];
	if (!check(im->job, "clip.bounding_box", "", xf_abi_clip_bounding_box(im->handle, v)))
		return false;
	*out = (xf_box){{v[0], v[1], v[2]}, {v[3], v[4], v[5]}};
	return true;
}

bool xf_resample(xf_image *im, const double factor[3], xf_interpolation interp, xf_image **out) {
	xf_handle h = 0;
	xf_status st = xf_abi_clip_resample(im->handle, factor[0], factor[1], factor[2], (uint32_t)interp, &h);
	return created(im->job, "clip.resample", st, h, out);
}
