/*
 * Test.CSDKCheck calls every part of the C SDK once and reports what it
 * got as lines "name=value" in its String output "report";
 * guests/c/c_test.go checks them against values computed from the image.
 * Calls that must fail report their error message instead.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../xf/xf.h"

typedef struct report {
	xf_json_buf text;
} report;

static void add(report *r, const char *name, const char *format, ...) __attribute__((format(printf, 3, 4)));

static void add(report *r, const char *name, const char *format, ...) {
	char value[512];
	va_list ap;
	va_start(ap, format);
	vsnprintf(value, sizeof value, format, ap);
	va_end(ap);
	if (r->text.n > 0)
		xf_json_append_raw(&r->text, "\n", 1);
	xf_json_append_raw(&r->text, name, strlen(name));
	xf_json_append_raw(&r->text, "=", 1);
	xf_json_append_raw(&r->text, value, strlen(value));
}

/* add_float reports a double as JSON writes it. */
static void add_float(report *r, const char *name, double v) {
	char text[XF_JSON_FLOAT_MAX];
	xf_json_format_float(v, text);
	add(r, name, "%s", text);
}

/* add_error reports the message of a call that had to fail. */
static void add_error(report *r, xf_job *job, const char *name, bool ok) {
	add(r, name, "%s", ok ? "unexpected success" : xf_error(job));
}

static void add_image(report *r, const char *name, const xf_image *im) {
	const xf_image_info *in = xf_image_info_of(im);
	add(r, name, "%s %ux%ux%u", in->data_type, (unsigned)in->size[0], (unsigned)in->size[1], (unsigned)in->size[2]);
}

#define TRY(call)                                                                                                      \
	do {                                                                                                           \
		if (!(call))                                                                                           \
			return false;                                                                                  \
	} while (0)

static bool check_inputs(xf_job *job, report *r) {
	int64_t i;
	double f, d = 0;
	const char *s;
	bool b, present = true;
	TRY(xf_input_int(job, "i", &i));
	TRY(xf_input_float(job, "f", &f));
	TRY(xf_input_string(job, "s", &s));
	TRY(xf_input_bool(job, "b", &b));
	TRY(xf_input_optional_float(job, "nul", &d, &present));
	add(r, "i", "%lld", (long long)i);
	add_float(r, "f", f);
	add(r, "s", "%s", s);
	add(r, "b", "%s", b ? "true" : "false");
	add(r, "nul", "%s %d", present ? "present" : "absent", xf_input_is_null(job, "nul"));
	add_error(r, job, "err_null", xf_input_float(job, "nul", &d));
	add_error(r, job, "err_missing", xf_input_int(job, "zz", &i));
	add_error(r, job, "err_string_as_float", xf_input_float(job, "s", &d));
	add_error(r, job, "err_fraction_as_int", xf_input_int(job, "f", &i));
	add_error(r, job, "err_number_as_string", xf_input_string(job, "i", &s));
	add_error(r, job, "err_number_as_bool", xf_input_optional_bool(job, "f", &b, &present));
	xf_json raw;
	TRY(xf_input_raw(job, "image", &raw));
	add(r, "image_kind", "%s", xf_json_kind_name(xf_json_kind_of(raw)));
	const xf_job_info *info = xf_info(job);
	add(r, "task_type", "%s %s", info->task_type_name, info->task_type_version);
	add(r, "abi", "%s", info->abi_version);
	char buf[24];
	add(r, "status_text", "%s %s", xf_status_text(XF_STATUS_DENIED, buf), xf_status_text((xf_status)99, buf));
	return true;
}

static bool check_kernels(xf_job *job, report *r) {
	xf_image *im, *seg, *out, *labels;
	TRY(xf_open_image(job, "image", &im));
	const xf_image_info *in = xf_image_info_of(im);
	add_image(r, "image", im);
	add(r, "calibrations", "%zu %s %s", in->n_calibrations, in->calibrations[0].unit_type,
	    xf_find_calibration(in, "hu") != NULL ? "hu" : "-");
	add_float(r, "dens_of_1000", xf_raw_to_calibrated(xf_find_calibration(in, "dens"), 1000));
	add_float(r, "raw_of_0_dens", xf_calibrated_to_raw(xf_find_calibration(in, "dens"), 0));

	xf_stats st;
	TRY(xf_statistics(im, NULL, &st));
	add(r, "stats", "%.17g %.17g %.17g %llu", st.min, st.max, st.sum, (unsigned long long)st.count);
	double lo, hi;
	TRY(xf_minmax(im, NULL, &lo, &hi));
	double mid = (lo + hi) / 2;

	xf_histogram_options opt = {.bins = 4, .lower = lo, .upper = hi, .has_range = true};
	xf_bin *bins;
	size_t nbins;
	TRY(xf_histogram(im, NULL, &opt, &bins, &nbins));
	uint64_t total = 0;
	for (size_t k = 0; k < nbins; k++)
		total += bins[k].count;
	add(r, "histogram", "%zu %llu %.17g", nbins, (unsigned long long)total, bins[nbins - 1].cdf);
	free(bins);

	TRY(xf_threshold(im, &mid, NULL, &seg));
	add_image(r, "threshold", seg);
	double bvtv;
	TRY(xf_bvtv(seg, NULL, &bvtv));
	add_float(r, "bvtv", bvtv);
	xf_box bb;
	TRY(xf_bounding_box(seg, &bb));
	add(r, "bounding_box", "%u %u %u %u %u %u", (unsigned)bb.pos[0], (unsigned)bb.pos[1], (unsigned)bb.pos[2],
	    (unsigned)bb.size[0], (unsigned)bb.size[1], (unsigned)bb.size[2]);
	uint32_t count;
	TRY(xf_label(seg, 6, &labels, &count));
	add_image(r, "label", labels);
	uint64_t *sizes;
	size_t nsizes;
	TRY(xf_component_sizes(labels, &sizes, &nsizes));
	uint64_t sum = 0, largest = 0;
	for (size_t k = 0; k < nsizes; k++) {
		sum += sizes[k];
		largest = sizes[k] > largest ? sizes[k] : largest;
	}
	free(sizes);
	add(r, "components", "%u %zu %llu", (unsigned)count, nsizes, (unsigned long long)sum);
	add_error(r, job, "err_component_sizes", xf_component_sizes(seg, &sizes, &nsizes));
	TRY(xf_keep_largest(seg, 6, 1, &out));
	TRY(xf_statistics(out, NULL, &st));
	add(r, "keep_largest", "%llu %.17g", (unsigned long long)largest, st.sum);
	TRY(xf_image_close(out));
	TRY(xf_remove_small(seg, 6, largest, &out));
	TRY(xf_statistics(out, NULL, &st));
	add(r, "remove_small", "%.17g", st.sum);
	TRY(xf_image_close(out));
	TRY(xf_image_close(labels));

	TRY(xf_mask(im, seg, &out));
	TRY(xf_minmax(out, seg, &lo, &hi));
	add(r, "mask", "%.17g %.17g", lo, hi);
	TRY(xf_image_close(out));
	double levels[2] = {mid, hi};
	TRY(xf_threshold_multi(im, levels, 2, &out));
	add_image(r, "threshold_multi", out);
	TRY(xf_image_close(out));
	TRY(xf_convert(im, XF_FLOAT32, &out));
	add_image(r, "convert", out);
	TRY(xf_image_close(out));
	TRY(xf_arith_scalar(im, XF_ADD, 1, &out));
	TRY(xf_minmax(out, NULL, &lo, &hi));
	add(r, "arith_scalar", "%.17g", hi);
	TRY(xf_image_close(out));
	TRY(xf_arith(im, im, XF_MAXIMUM, &out));
	TRY(xf_minmax(out, NULL, &lo, &hi));
	add(r, "arith", "%.17g", hi);
	TRY(xf_image_close(out));
	TRY(xf_gaussian(im, 0.05, &out));
	add_image(r, "gaussian", out);
	TRY(xf_image_close(out));
	TRY(xf_median(im, 1, &out));
	add_image(r, "median", out);
	TRY(xf_image_close(out));
	TRY(xf_morphology(seg, XF_DILATE, 6, 1, &out));
	add_image(r, "morphology", out);
	TRY(xf_image_close(out));
	TRY(xf_distance_transform(seg, &out));
	add_image(r, "distance_transform", out);
	TRY(xf_image_close(out));
	xf_box box = {{1, 2, 3}, {4, 5, 6}};
	TRY(xf_crop(im, &box, &out));
	add_image(r, "crop", out);
	TRY(xf_image_close(out));
	const double factor[3] = {1, 1, 2};
	TRY(xf_resample(im, factor, XF_LINEAR, &out));
	add_image(r, "resample", out);
	TRY(xf_image_close(out));
	TRY(xf_image_close(seg));
	TRY(xf_image_close(im));
	return true;
}

static bool check_created_image(xf_job *job, report *r) {
	xf_image_spec spec = {.size = {4, 3, 2}, .data_type = XF_UINT16, .has_spacing = true, .spacing_mm = {0.5, 0.5, 1.25}};
	xf_image *im;
	TRY(xf_create_image(job, &spec, &im));
	add_image(r, "created", im);
	add_float(r, "created_spacing_z", xf_image_info_of(im)->spacing_mm[2]);
	uint16_t v[24], back[24];
	for (int k = 0; k < 24; k++)
		v[k] = (uint16_t)(k * 1000);
	xf_box all = {{0, 0, 0}, {4, 3, 2}};
	TRY(xf_image_write(im, &all, v, sizeof v));
	TRY(xf_image_read(im, &all, back, sizeof back));
	xf_stats st;
	TRY(xf_statistics(im, NULL, &st));
	add(r, "roundtrip", "%s %.17g", memcmp(v, back, sizeof v) == 0 ? "same" : "different", st.sum);
	add_error(r, job, "err_short_buffer", xf_image_read(im, &all, back, sizeof back - 1));
	xf_image *like;
	xf_image_spec like_spec = {.like = im, .data_type = XF_UINT8};
	TRY(xf_create_image(job, &like_spec, &like));
	add_image(r, "created_like", like);
	TRY(xf_image_close(like));
	xf_image *opened;
	TRY(xf_open_image(job, "image", &opened));
	add_error(r, job, "err_write_input", xf_image_write(opened, &all, v, sizeof v));
	TRY(xf_image_close(opened));
	add_error(r, job, "err_create_json", xf_create_image_json(job, "{", 1, &like));
	TRY(xf_image_close(im));
	return true;
}

static bool check_files_and_logs(xf_job *job, report *r) {
	char *path, *related, *ref;
	TRY(xf_temp_path(job, "notes.txt", &path));
	TRY(xf_related_path(job, "scan.omni", "_seg.omni", &related));
	add(r, "temp_path", "%.9s %s", path, strstr(path, "notes.txt") != NULL ? "named" : "unnamed");
	add(r, "related_path", "%s", strstr(related, "scan_seg.omni") != NULL ? "named" : related);
	FILE *file = fopen(path, "w");
	if (file == NULL)
		return xf_errorf(job, "open %s failed", path);
	fputs("hello\n", file);
	fclose(file);
	TRY(xf_upload_file(job, path, &ref));
	add(r, "upload", "%s", *ref != '\0' ? "ref" : "empty");
	add_error(r, job, "err_upload", xf_upload_file(job, "/etc/passwd", &ref));
	free(path);
	free(related);
	TRY(xf_log(job, XF_INFO, "plain line"));
	TRY(xf_logf(job, XF_WARNING, "formatted %d", 42));
	TRY(xf_activity_log(job, XF_INFO, "activity"));
	TRY(xf_progress(job, 50));
	TRY(xf_set_estimated_duration(job, 2.5));
	TRY(xf_set_error_message(job, "transient"));
	TRY(xf_clear_error_message(job));
	add_error(r, job, "err_progress", xf_progress(job, 101));
	return true;
}

static bool sdk_check(xf_job *job) {
	report r = {{0}};
	TRY(check_inputs(job, &r));
	TRY(check_kernels(job, &r));
	TRY(check_created_image(job, &r));
	TRY(check_files_and_logs(job, &r));
	add_error(&r, job, "err_output_nan", xf_set_output_float(job, "report", NAN));
	add_error(&r, job, "err_output_missing", xf_set_output_int(job, "nope", 1));
	const char *keys[] = {"report"}, *units[] = {"lines"};
	TRY(xf_set_output_units(job, keys, units, 1));
	xf_json_append_raw(&r.text, "", 1);
	if (r.text.failed)
		return xf_errorf(job, "report: out of memory");
	bool ok = xf_set_output_string(job, "report", r.text.p);
	xf_json_buf_free(&r.text);
	return ok && xf_finish(job);
}

int main(void) { xf_run(sdk_check); }
