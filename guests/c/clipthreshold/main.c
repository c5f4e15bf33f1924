/*
 * Lucid.CLIP.Threshold: a segmentation of the voxels within inclusive raw
 * bounds, either of which may be null. A port of guests/go/clipthreshold
 * with the same metadata, interface, outputs and failure messages.
 */
#include "../xf/xf.h"

static bool clip_threshold(xf_job *job) {
	double lower, upper;
	bool has_lower, has_upper;
	if (!xf_input_optional_float(job, "threshold_lower0", &lower, &has_lower) ||
	    !xf_input_optional_float(job, "threshold_upper0", &upper, &has_upper))
		return false;
	xf_image *image, *segments;
	if (!xf_open_image(job, "image", &image))
		return false;
	if (!xf_threshold(image, has_lower ? &lower : NULL, has_upper ? &upper : NULL, &segments))
		return false;
	return xf_set_output_image(job, "segments", segments);
}

int main(void) { xf_run(clip_threshold); }
