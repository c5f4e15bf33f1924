/*
 * xf.h: the C guest SDK of xfhost. It lets a XamFlow task type written in
 * C (clang --target=wasm32-wasi, wasi-libc) read its inputs, process images
 * with the host's native kernels and store its outputs, through the xfhost
 * ABI (abi/ABI.md). It mirrors the Go SDK (guests/go/xf): the same calls in
 * the same order, the same output encoding and the same error messages, so
 * a port behaves exactly like its Go original.
 *
 * A task type is a function that returns true on success; on failure it
 * returns false after a call failed (which recorded the message) or after
 * setting a message with xf_errorf:
 *
 *	static bool task(xf_job *job) {
 *		xf_image *image;
 *		double lo, hi;
 *		if (!xf_open_image(job, "image", &image) || !xf_minmax(image, NULL, &lo, &hi))
 *			return false;
 *		return xf_set_output_float(job, "min", lo) && xf_set_output_float(job, "max", hi);
 *	}
 *
 *	int main(void) { xf_run(task); }
 *
 * Build a module from the task's sources plus xf.c and xfjson.c; xf.c
 * defines the ABI version marker export. Only the imports the module
 * calls are linked in. Strings passed in are NUL-terminated UTF-8; strings
 * handed out stay valid until the job ends unless a function says the
 * caller frees them.
 */
#ifndef XF_H
#define XF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xf_abi.h"
#include "xfjson.h"

#if defined(__GNUC__) || defined(__clang__)
#define XF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define XF_PRINTF(fmt, args)
#endif

/* The running job. There is one per guest instance, made by xf_run. */
typedef struct xf_job xf_job;

/* A host-side image: its voxels stay on the host unless read. */
typedef struct xf_image xf_image;

/* A task type: returns true on success, false when the job must fail with
 * the message of xf_error. */
typedef bool (*xf_task)(xf_job *job);

/*
 * xf_run starts the job (reading its inputs and information), runs task and
 * ends the job: failed with xf_error's message if task returned false,
 * otherwise finished unless task already finished it. It does not return.
 */
_Noreturn void xf_run(xf_task task);

/* --- Errors ------------------------------------------------------------ */

/*
 * Every function below that can fail returns false (or NULL) and records
 * why in the job, in the Go SDK's words: a failed host call reads
 * `xf.output_set "min": TYPE_MISMATCH` (the import, what it was called on,
 * the status), a bad input `input "n": json: cannot unmarshal string into
 * Go value of type int64`.
 */

/* xf_error returns the message of the last failure, or "" if none. */
const char *xf_error(const xf_job *job);

/* xf_error_status returns the status of the last failure if a host call
 * failed, else XF_STATUS_OK. */
xf_status xf_error_status(const xf_job *job);

/* xf_errorf records a failure message and returns false, for task code:
 * `return xf_errorf(job, "bins must be positive, got %d", bins);`. */
bool xf_errorf(xf_job *job, const char *format, ...) XF_PRINTF(2, 3);

/* xf_status_text returns a status's name, "STATUS_<code>" for codes this
 * ABI version does not define. buf must hold 24 bytes. */
const char *xf_status_text(xf_status s, char buf[24]);

/* --- Inputs ------------------------------------------------------------ */

/* xf_input_is_null reports whether an input is null (given in mode none)
 * or does not exist. */
bool xf_input_is_null(xf_job *job, const char *key);

/* xf_input_raw returns an input's JSON value, for composite inputs. */
bool xf_input_raw(xf_job *job, const char *key, xf_json *value);

/*
 * Typed getters. The optional ones set *present to false and leave *value
 * alone when the input is null or missing; the others fail then (Go's SDK
 * has no such getters). Strings are owned by the job.
 */
bool xf_input_optional_float(xf_job *job, const char *key, double *value, bool *present);
bool xf_input_optional_int(xf_job *job, const char *key, int64_t *value, bool *present);
bool xf_input_optional_string(xf_job *job, const char *key, const char **value, bool *present);
bool xf_input_optional_bool(xf_job *job, const char *key, bool *value, bool *present);
bool xf_input_float(xf_job *job, const char *key, double *value);
bool xf_input_int(xf_job *job, const char *key, int64_t *value);
bool xf_input_string(xf_job *job, const char *key, const char **value);
bool xf_input_bool(xf_job *job, const char *key, bool *value);

/* --- Job information --------------------------------------------------- */

/* What xf.job_info_get tells about the running job. */
typedef struct xf_job_info {
	const char *job_id;
	int64_t job_serial;
	const char *abi_version;
	const char *task_type_name;
	const char *task_type_version;
} xf_job_info;

const xf_job_info *xf_info(const xf_job *job);

/* --- Outputs and the job's end ----------------------------------------- */

/* Outputs are type-checked by the host against the task interface. A float
 * is written as Go's encoding/json writes a float64; NaN and infinities
 * fail as they do in Go (`output "min": json: unsupported value: NaN`). */
bool xf_set_output_float(xf_job *job, const char *key, double value);
bool xf_set_output_int(xf_job *job, const char *key, int64_t value);
bool xf_set_output_string(xf_job *job, const char *key, const char *value);
bool xf_set_output_bool(xf_job *job, const char *key, bool value);

/* xf_set_output_json sets an output to a JSON value, e.g. a composite. */
bool xf_set_output_json(xf_job *job, const char *key, const char *json, size_t len);

/* xf_set_output_image stores the image on the file store as the Image
 * output key. */
bool xf_set_output_image(xf_job *job, const char *key, xf_image *image);

/* xf_set_output_units sets the units of n outputs: keys[i] gets units[i]. */
bool xf_set_output_units(xf_job *job, const char *const *keys, const char *const *units, size_t n);

/* xf_finish ends the job successfully; every output must have been set. */
bool xf_finish(xf_job *job);

/* xf_fail ends the job as failed with the message. It does not return. */
_Noreturn void xf_fail(xf_job *job, const char *message);

/* xf_failf is xf_fail with formatting. */
_Noreturn void xf_failf(xf_job *job, const char *format, ...) XF_PRINTF(2, 3);

/* xf_set_error_message records an error message in the job's metadata
 * without ending the job; xf_clear_error_message clears it. */
bool xf_set_error_message(xf_job *job, const char *message);
bool xf_clear_error_message(xf_job *job);

/* xf_progress reports progress in percent (0 to 100). */
bool xf_progress(xf_job *job, double percent);

/* xf_set_estimated_duration sets the estimated total duration in seconds. */
bool xf_set_estimated_duration(xf_job *job, double seconds);

/* --- Logs ---------------------------------------------------------------- */

typedef enum xf_level {
	XF_DEBUG = 0,
	XF_INFO = 1,
	XF_WARNING = 2,
	XF_ERROR = 3,
} xf_level;

/* xf_log appends a line to the job log; xf_logf formats it. */
bool xf_log(xf_job *job, xf_level level, const char *message);
bool xf_logf(xf_job *job, xf_level level, const char *format, ...) XF_PRINTF(3, 4);

/* xf_activity_log adds a message to the workflow's activity log. */
bool xf_activity_log(xf_job *job, xf_level level, const char *title);

/* --- Files --------------------------------------------------------------- */

/*
 * These return a path or file reference in *out, allocated with malloc;
 * the caller frees it.
 */

/* xf_temp_path returns a unique path in the scratch directory ending in
 * name (a plain file name). */
bool xf_temp_path(xf_job *job, const char *name, char **out);

/* xf_related_path returns a unique scratch path named after path with its
 * extension replaced by postfix (scan.omni, "_seg.omni": scan_seg.omni). */
bool xf_related_path(xf_job *job, const char *path, const char *postfix, char **out);

/* xf_download_input_file makes a composite input's files readable under
 * /inputs and returns the path of its main file. */
bool xf_download_input_file(xf_job *job, const char *key, char **out);

/* xf_upload_file uploads a scratch file and returns its file reference,
 * for a composite output such as {"type":"CSV","filename":ref}. */
bool xf_upload_file(xf_job *job, const char *path, char **out);

/* --- Images -------------------------------------------------------------- */

/* A calibration converts raw voxel values to calibrated units:
 * calibrated = slope * raw + intercept. */
typedef struct xf_calibration {
	const char *type;
	const char *unit_type;
	const char *unit_name; /* "" when not given */
	double slope;
	double intercept;
} xf_calibration;

double xf_raw_to_calibrated(const xf_calibration *c, double raw);
double xf_calibrated_to_raw(const xf_calibration *c, double value);

/* An image's metadata, as xf.image_info_get describes it. */
typedef struct xf_image_info {
	uint32_t size[3];
	const char *data_type; /* "uint8", "int8", "uint16", ..., "float64" */
	double spacing_mm[3];
	double origin_mm[3];
	size_t n_calibrations;
	const xf_calibration *calibrations;
	const char *default_unit_type; /* "" when not given */
} xf_image_info;

/* xf_find_calibration returns the first calibration of a unit type, or
 * NULL: Go's CalibrationsOfUnitType(unitType)[0]. */
const xf_calibration *xf_find_calibration(const xf_image_info *info, const char *unit_type);

/* A block of voxels: pos is its first corner, size its extent. */
typedef struct xf_box {
	uint32_t pos[3];
	uint32_t size[3];
} xf_box;

/* Data types of images (the codes of clip.convert). */
typedef enum xf_data_type {
	XF_UINT8 = 1,
	XF_INT8 = 2,
	XF_UINT16 = 3,
	XF_INT16 = 4,
	XF_UINT32 = 5,
	XF_INT32 = 6,
	XF_FLOAT32 = 7,
	XF_FLOAT64 = 8,
} xf_data_type;

/* xf_data_type_of returns the code of a data type name, 0 if unknown. */
xf_data_type xf_data_type_of(const char *name);

/* xf_data_type_name returns the name of a data type code, NULL if unknown. */
const char *xf_data_type_name(xf_data_type t);

/* xf_open_image opens an Image input. */
bool xf_open_image(xf_job *job, const char *key, xf_image **out);

/*
 * A new image. Fields left zero (size, data_type, or has_spacing /
 * has_origin false) are inherited from like when it is set. Calibrations
 * are not inherited; use the JSON form for them.
 */
typedef struct xf_image_spec {
	uint32_t size[3];
	xf_data_type data_type;
	bool has_spacing, has_origin;
	double spacing_mm[3];
	double origin_mm[3];
	xf_image *like;
} xf_image_spec;

/* xf_create_image creates a zero-filled writable image. */
bool xf_create_image(xf_job *job, const xf_image_spec *spec, xf_image **out);

/* xf_create_image_json creates one from an xf.image_create JSON spec. */
bool xf_create_image_json(xf_job *job, const char *spec, size_t len, xf_image **out);

/* xf_image_info_of returns an image's metadata. */
const xf_image_info *xf_image_info_of(const xf_image *image);

/* xf_image_read copies a box of voxels (x fastest, little-endian) into buf
 * of len bytes; xf_image_write copies them into an image the job created. */
bool xf_image_read(xf_image *image, const xf_box *box, void *buf, size_t len);
bool xf_image_write(xf_image *image, const xf_box *box, const void *buf, size_t len);

/* xf_image_close releases the image and frees *image, also on failure. */
bool xf_image_close(xf_image *image);

/* --- Kernels (the clip module) ----------------------------------------- */

/*
 * Kernels run natively on the host over images that stay there. A mask
 * argument may be NULL (no mask). Kernels that make an image return it in
 * *out; their inputs stay open. Semantics: abi/ABI.md and clip/KERNELS.md.
 */

/* xf_minmax: the smallest and largest raw voxel values (under mask). */
bool xf_minmax(xf_image *image, xf_image *mask, double *lo, double *hi);

/* xf_threshold: a uint8 segmentation, 1 where lower <= v <= upper; a NULL
 * bound is unbounded. */
bool xf_threshold(xf_image *image, const double *lower, const double *upper, xf_image **out);

/* Statistics of raw voxel values; std is the population standard deviation. */
typedef struct xf_stats {
	double min, max, sum, mean, std;
	uint64_t count;
} xf_stats;

bool xf_statistics(xf_image *image, xf_image *mask, xf_stats *out);

/* One histogram bin: XamFlow HistogramPlot's x0, pdf, distr and count. */
typedef struct xf_bin {
	double centre, pdf, cdf;
	uint64_t count;
} xf_bin;

/* Histogram options: bins equal bins over [lower, upper] if has_range, else
 * over the data's range; or one bin per integer value. */
typedef struct xf_histogram_options {
	uint32_t bins;
	double lower, upper;
	bool has_range;
	bool integer_bins;
} xf_histogram_options;

/* xf_histogram returns *n bins in *bins, allocated with malloc; the caller
 * frees them. */
bool xf_histogram(xf_image *image, xf_image *mask, const xf_histogram_options *opt, xf_bin **bins, size_t *n);

/* xf_threshold_multi: a label image, the number of levels (ascending) not
 * above each voxel's value. */
bool xf_threshold_multi(xf_image *image, const double *levels, size_t n, xf_image **out);

/* xf_mask: a copy of image that is 0 where mask is 0. */
bool xf_mask(xf_image *image, xf_image *mask, xf_image **out);

/* xf_convert: a copy in another data type, rounding half to even and
 * saturating. */
bool xf_convert(xf_image *image, xf_data_type type, xf_image **out);

typedef enum xf_arith_op {
	XF_ADD = 0,
	XF_SUBTRACT = 1,
	XF_MULTIPLY = 2,
	XF_MINIMUM = 3,
	XF_MAXIMUM = 4,
} xf_arith_op;

/* xf_arith_scalar: image op value, saturating for integer images. */
bool xf_arith_scalar(xf_image *image, xf_arith_op op, double value, xf_image **out);

/* xf_arith: a op b for images of one size and data type. */
bool xf_arith(xf_image *a, xf_image *b, xf_arith_op op, xf_image **out);

/* xf_gaussian: a Gaussian-filtered float image; sigma in mm. */
bool xf_gaussian(xf_image *image, double sigma_mm, xf_image **out);

/* xf_median: a median-filtered image over a (2 radius + 1)^3 box. */
bool xf_median(xf_image *image, uint32_t radius, xf_image **out);

typedef enum xf_morph_op {
	XF_ERODE = 0,
	XF_DILATE = 1,
	XF_OPEN = 2,
	XF_CLOSE = 3,
} xf_morph_op;

/* xf_morphology: binary op with the 6-, 18- or 26-neighbourhood applied
 * radius times. */
bool xf_morphology(xf_image *image, xf_morph_op op, uint32_t connectivity, uint32_t radius, xf_image **out);

/* xf_label: the uint32 label image of the connected components of the
 * non-zero voxels and their number. */
bool xf_label(xf_image *image, uint32_t connectivity, xf_image **out, uint32_t *count);

/* xf_component_sizes: the voxel count of labels 1..n of a label image, in
 * *sizes allocated with malloc; the caller frees it. */
bool xf_component_sizes(xf_image *labels, uint64_t **sizes, size_t *n);

/* xf_keep_largest keeps the n largest connected components. */
bool xf_keep_largest(xf_image *image, uint32_t connectivity, uint32_t n, xf_image **out);

/* xf_remove_small removes the components of fewer than min_size voxels. */
bool xf_remove_small(xf_image *image, uint32_t connectivity, uint64_t min_size, xf_image **out);

/* xf_distance_transform: each non-zero voxel's distance in mm to the
 * nearest zero voxel. */
bool xf_distance_transform(xf_image *image, xf_image **out);

/* xf_bvtv: the bone volume fraction of a segmentation within mask (the
 * whole image if mask is NULL). */
bool xf_bvtv(xf_image *segmentation, xf_image *mask, double *out);

/* xf_crop: a box of the image as a new image. */
bool xf_crop(xf_image *image, const xf_box *box, xf_image **out);

/* xf_bounding_box: the box of the non-zero voxels. */
bool xf_bounding_box(xf_image *image, xf_box *out);

typedef enum xf_interpolation {
	XF_NEAREST = 0, /* for labels and segmentations */
	XF_LINEAR = 1,
} xf_interpolation;

/* xf_resample: the image resampled by a factor per axis. */
bool xf_resample(xf_image *image, const double factor[3], xf_interpolation interp, xf_image **out);

#endif /* XF_H */
