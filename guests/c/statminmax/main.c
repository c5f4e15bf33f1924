/*
 * Lucid.CLIP.StatMinMax: the minimum and maximum voxel value of an image,
 * optionally converted to a calibrated unit. A port of guests/go/statminmax
 * with the same metadata, interface, outputs and failure messages.
 */
#include "../xf/xf.h"

static bool stat_min_max(xf_job *job) {
	const char *calibration;
	bool calibrated;
	if (!xf_input_optional_string(job, "calibration", &calibration, &calibrated))
		return false;
	xf_image *image;
	if (!xf_open_image(job, "image", &image)) /* a host-side handle: no voxels copied */
		return false;
	double lo, hi;
	if (!xf_minmax(image, NULL, &lo, &hi)) /* a native kernel on the host */
		return false;
	if (calibrated) {
		const xf_calibration *cal = xf_find_calibration(xf_image_info_of(image), calibration);
		if (cal == NULL)
			xf_failf(job, "Image is missing calibration metadata of type %s", calibration);
		lo = xf_raw_to_calibrated(cal, lo);
		hi = xf_raw_to_calibrated(cal, hi);
	}
	return xf_set_output_float(job, "min", lo) && xf_set_output_float(job, "max", hi);
}

int main(void) { xf_run(stat_min_max); }
