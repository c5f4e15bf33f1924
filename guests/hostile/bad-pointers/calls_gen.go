// Code generated from abi/abi.json by TestBadPointerCallsUpToDate in ../generate_test.go; DO NOT EDIT.

//go:build wasip1

package main

import "math"

//go:wasmimport xf inputs_get
func xfInputsGet(buf uint32, bufCap uint32, lenOut uint32) uint32

//go:wasmimport xf job_info_get
func xfJobInfoGet(buf uint32, bufCap uint32, lenOut uint32) uint32

//go:wasmimport xf output_set
func xfOutputSet(key uint32, keyLen uint32, value uint32, valueLen uint32) uint32

//go:wasmimport xf output_units_set
func xfOutputUnitsSet(units uint32, unitsLen uint32) uint32

//go:wasmimport xf finish
func xfFinish() uint32

//go:wasmimport xf fail
func xfFail(message uint32, messageLen uint32) uint32

//go:wasmimport xf error_set
func xfErrorSet(message uint32, messageLen uint32) uint32

//go:wasmimport xf error_clear
func xfErrorClear() uint32

//go:wasmimport xf progress_set
func xfProgressSet(percent float64) uint32

//go:wasmimport xf estimated_duration_set
func xfEstimatedDurationSet(seconds float64) uint32

//go:wasmimport xf log
func xfLog(level uint32, message uint32, messageLen uint32) uint32

//go:wasmimport xf activity_log
func xfActivityLog(level uint32, title uint32, titleLen uint32) uint32

//go:wasmimport xf temp_path_create
func xfTempPathCreate(name uint32, nameLen uint32, buf uint32, bufCap uint32, lenOut uint32) uint32

//go:wasmimport xf related_path_create
func xfRelatedPathCreate(path uint32, pathLen uint32, postfix uint32, postfixLen uint32, buf uint32, bufCap uint32, lenOut uint32) uint32

//go:wasmimport xf input_file_fetch
func xfInputFileFetch(key uint32, keyLen uint32, buf uint32, bufCap uint32, lenOut uint32) uint32

//go:wasmimport xf output_file_upload
func xfOutputFileUpload(path uint32, pathLen uint32, buf uint32, bufCap uint32, lenOut uint32) uint32

//go:wasmimport xf image_open
func xfImageOpen(key uint32, keyLen uint32, handleOut uint32) uint32

//go:wasmimport xf image_info_get
func xfImageInfoGet(image uint32, buf uint32, bufCap uint32, lenOut uint32) uint32

//go:wasmimport xf image_read
func xfImageRead(image uint32, x uint32, y uint32, z uint32, sizeX uint32, sizeY uint32, sizeZ uint32, buf uint32, bufLen uint32) uint32

//go:wasmimport xf image_write
func xfImageWrite(image uint32, x uint32, y uint32, z uint32, sizeX uint32, sizeY uint32, sizeZ uint32, buf uint32, bufLen uint32) uint32

//go:wasmimport xf image_create
func xfImageCreate(spec uint32, specLen uint32, handleOut uint32) uint32

//go:wasmimport xf output_image_set
func xfOutputImageSet(key uint32, keyLen uint32, image uint32) uint32

//go:wasmimport xf image_close
func xfImageClose(image uint32) uint32

//go:wasmimport clip minmax
func clipMinmax(image uint32, mask uint32, minOut uint32, maxOut uint32) uint32

//go:wasmimport clip threshold
func clipThreshold(image uint32, lower float64, upper float64, flags uint32, handleOut uint32) uint32

//go:wasmimport clip stats
func clipStats(image uint32, mask uint32, out uint32) uint32

//go:wasmimport clip histogram
func clipHistogram(image uint32, mask uint32, bins uint32, lower float64, upper float64, flags uint32, buf uint32, bufCap uint32, lenOut uint32) uint32

//go:wasmimport clip threshold_multi
func clipThresholdMulti(image uint32, levels uint32, levelsCount uint32, handleOut uint32) uint32

//go:wasmimport clip mask
func clipMask(image uint32, mask uint32, handleOut uint32) uint32

//go:wasmimport clip convert
func clipConvert(image uint32, dataType uint32, handleOut uint32) uint32

//go:wasmimport clip arith_scalar
func clipArithScalar(image uint32, op uint32, value float64, handleOut uint32) uint32

//go:wasmimport clip arith
func clipArith(a uint32, b uint32, op uint32, handleOut uint32) uint32

//go:wasmimport clip gaussian
func clipGaussian(image uint32, sigmaMm float64, handleOut uint32) uint32

//go:wasmimport clip median
func clipMedian(image uint32, radius uint32, handleOut uint32) uint32

//go:wasmimport clip morphology
func clipMorphology(image uint32, op uint32, connectivity uint32, radius uint32, handleOut uint32) uint32

//go:wasmimport clip label
func clipLabel(image uint32, connectivity uint32, handleOut uint32, countOut uint32) uint32

//go:wasmimport clip component_sizes
func clipComponentSizes(labels uint32, buf uint32, bufCap uint32, lenOut uint32) uint32

//go:wasmimport clip keep_largest
func clipKeepLargest(image uint32, connectivity uint32, n uint32, handleOut uint32) uint32

//go:wasmimport clip remove_small
func clipRemoveSmall(image uint32, connectivity uint32, minSize uint64, handleOut uint32) uint32

//go:wasmimport clip distance_transform
func clipDistanceTransform(image uint32, handleOut uint32) uint32

//go:wasmimport clip bvtv
func clipBvtv(segmentation uint32, mask uint32, out uint32) uint32

//go:wasmimport clip crop
func clipCrop(image uint32, x uint32, y uint32, z uint32, sizeX uint32, sizeY uint32, sizeZ uint32, handleOut uint32) uint32

//go:wasmimport clip bounding_box
func clipBoundingBox(image uint32, out uint32) uint32

//go:wasmimport clip resample
func clipResample(image uint32, factorX float64, factorY float64, factorZ float64, interpolation uint32, handleOut uint32) uint32

// imports lists every import of the ABI with its parameters.
var imports = []importFunc{
	{"xf.inputs_get", []param{{"buf", "ptr"}, {"buf_cap", "len"}, {"len_out", "ptr"}}, func(a []uint64) uint32 { return xfInputsGet(uint32(a[0]), uint32(a[1]), uint32(a[2])) }},
	{"xf.job_info_get", []param{{"buf", "ptr"}, {"buf_cap", "len"}, {"len_out", "ptr"}}, func(a []uint64) uint32 { return xfJobInfoGet(uint32(a[0]), uint32(a[1]), uint32(a[2])) }},
	{"xf.output_set", []param{{"key", "ptr"}, {"key_len", "len"}, {"value", "ptr"}, {"value_len", "len"}}, func(a []uint64) uint32 { return xfOutputSet(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3])) }},
	{"xf.output_units_set", []param{{"units", "ptr"}, {"units_len", "len"}}, func(a []uint64) uint32 { return xfOutputUnitsSet(uint32(a[0]), uint32(a[1])) }},
	{"xf.finish", []param{}, func(a []uint64) uint32 { return xfFinish() }},
	{"xf.fail", []param{{"message", "ptr"}, {"message_len", "len"}}, func(a []uint64) uint32 { return xfFail(uint32(a[0]), uint32(a[1])) }},
	{"xf.error_set", []param{{"message", "ptr"}, {"message_len", "len"}}, func(a []uint64) uint32 { return xfErrorSet(uint32(a[0]), uint32(a[1])) }},
	{"xf.error_clear", []param{}, func(a []uint64) uint32 { return xfErrorClear() }},
	{"xf.progress_set", []param{{"percent", "f64"}}, func(a []uint64) uint32 { return xfProgressSet(math.Float64frombits(a[0])) }},
	{"xf.estimated_duration_set", []param{{"seconds", "f64"}}, func(a []uint64) uint32 { return xfEstimatedDurationSet(math.Float64frombits(a[0])) }},
	{"xf.log", []param{{"level", "i32"}, {"message", "ptr"}, {"message_len", "len"}}, func(a []uint64) uint32 { return xfLog(uint32(a[0]), uint32(a[1]), uint32(a[2])) }},
	{"xf.activity_log", []param{{"level", "i32"}, {"title", "ptr"}, {"title_len", "len"}}, func(a []uint64) uint32 { return xfActivityLog(uint32(a[0]), uint32(a[1]), uint32(a[2])) }},
	{"xf.temp_path_create", []param{{"name", "ptr"}, {"name_len", "len"}, {"buf", "ptr"}, {"buf_cap", "len"}, {"len_out", "ptr"}}, func(a []uint64) uint32 {
		return xfTempPathCreate(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3]), uint32(a[4]))
	}},
	{"xf.related_path_create", []param{{"path", "ptr"}, {"path_len", "len"}, {"postfix", "ptr"}, {"postfix_len", "len"}, {"buf", "ptr"}, {"buf_cap", "len"}, {"len_out", "ptr"}}, func(a []uint64) uint32 {
		return xfRelatedPathCreate(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3]), uint32(a[4]), uint32(a[5]), uint32(a[6]))
	}},
	{"xf.input_file_fetch", []param{{"key", "ptr"}, {"key_len", "len"}, {"buf", "ptr"}, {"buf_cap", "len"}, {"len_out", "ptr"}}, func(a []uint64) uint32 {
		return xfInputFileFetch(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3]), uint32(a[4]))
	}},
	{"xf.output_file_upload", []param{{"path", "ptr"}, {"path_len", "len"}, {"buf", "ptr"}, {"buf_cap", "len"}, {"len_out", "ptr"}}, func(a []uint64) uint32 {
		return xfOutputFileUpload(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3]), uint32(a[4]))
	}},
	{"xf.image_open", []param{{"key", "ptr"}, {"key_len", "len"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 { return xfImageOpen(uint32(a[0]), uint32(a[1]), uint32(a[2])) }},
	{"xf.image_info_get", []param{{"image", "handle"}, {"buf", "ptr"}, {"buf_cap", "len"}, {"len_out", "ptr"}}, func(a []uint64) uint32 { return xfImageInfoGet(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3])) }},
	{"xf.image_read", []param{{"image", "handle"}, {"x", "u32"}, {"y", "u32"}, {"z", "u32"}, {"size_x", "u32"}, {"size_y", "u32"}, {"size_z", "u32"}, {"buf", "ptr"}, {"buf_len", "len"}}, func(a []uint64) uint32 {
		return xfImageRead(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3]), uint32(a[4]), uint32(a[5]), uint32(a[6]), uint32(a[7]), uint32(a[8]))
	}},
	{"xf.image_write", []param{{"image", "handle"}, {"x", "u32"}, {"y", "u32"}, {"z", "u32"}, {"size_x", "u32"}, {"size_y", "u32"}, {"size_z", "u32"}, {"buf", "ptr"}, {"buf_len", "len"}}, func(a []uint64) uint32 {
		return xfImageWrite(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3]), uint32(a[4]), uint32(a[5]), uint32(a[6]), uint32(a[7]), uint32(a[8]))
	}},
	{"xf.image_create", []param{{"spec", "ptr"}, {"spec_len", "len"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 { return xfImageCreate(uint32(a[0]), uint32(a[1]), uint32(a[2])) }},
	{"xf.output_image_set", []param{{"key", "ptr"}, {"key_len", "len"}, {"image", "handle"}}, func(a []uint64) uint32 { return xfOutputImageSet(uint32(a[0]), uint32(a[1]), uint32(a[2])) }},
	{"xf.image_close", []param{{"image", "handle"}}, func(a []uint64) uint32 { return xfImageClose(uint32(a[0])) }},
	{"clip.minmax", []param{{"image", "handle"}, {"mask", "handle"}, {"min_out", "ptr"}, {"max_out", "ptr"}}, func(a []uint64) uint32 { return clipMinmax(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3])) }},
	{"clip.threshold", []param{{"image", "handle"}, {"lower", "f64"}, {"upper", "f64"}, {"flags", "u32"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 {
		return clipThreshold(uint32(a[0]), math.Float64frombits(a[1]), math.Float64frombits(a[2]), uint32(a[3]), uint32(a[4]))
	}},
	{"clip.stats", []param{{"image", "handle"}, {"mask", "handle"}, {"out", "ptr"}}, func(a []uint64) uint32 { return clipStats(uint32(a[0]), uint32(a[1]), uint32(a[2])) }},
	{"clip.histogram", []param{{"image", "handle"}, {"mask", "handle"}, {"bins", "u32"}, {"lower", "f64"}, {"upper", "f64"}, {"flags", "u32"}, {"buf", "ptr"}, {"buf_cap", "len"}, {"len_out", "ptr"}}, func(a []uint64) uint32 {
		return clipHistogram(uint32(a[0]), uint32(a[1]), uint32(a[2]), math.Float64frombits(a[3]), math.Float64frombits(a[4]), uint32(a[5]), uint32(a[6]), uint32(a[7]), uint32(a[8]))
	}},
	{"clip.threshold_multi", []param{{"image", "handle"}, {"levels", "ptr"}, {"levels_count", "u32"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 {
		return clipThresholdMulti(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3]))
	}},
	{"clip.mask", []param{{"image", "handle"}, {"mask", "handle"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 { return clipMask(uint32(a[0]), uint32(a[1]), uint32(a[2])) }},
	{"clip.convert", []param{{"image", "handle"}, {"data_type", "u32"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 { return clipConvert(uint32(a[0]), uint32(a[1]), uint32(a[2])) }},
	{"clip.arith_scalar", []param{{"image", "handle"}, {"op", "u32"}, {"value", "f64"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 {
		return clipArithScalar(uint32(a[0]), uint32(a[1]), math.Float64frombits(a[2]), uint32(a[3]))
	}},
	{"clip.arith", []param{{"a", "handle"}, {"b", "handle"}, {"op", "u32"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 { return clipArith(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3])) }},
	{"clip.gaussian", []param{{"image", "handle"}, {"sigma_mm", "f64"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 { return clipGaussian(uint32(a[0]), math.Float64frombits(a[1]), uint32(a[2])) }},
	{"clip.median", []param{{"image", "handle"}, {"radius", "u32"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 { return clipMedian(uint32(a[0]), uint32(a[1]), uint32(a[2])) }},
	{"clip.morphology", []param{{"image", "handle"}, {"op", "u32"}, {"connectivity", "u32"}, {"radius", "u32"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 {
		return clipMorphology(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3]), uint32(a[4]))
	}},
	{"clip.label", []param{{"image", "handle"}, {"connectivity", "u32"}, {"handle_out", "ptr"}, {"count_out", "ptr"}}, func(a []uint64) uint32 { return clipLabel(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3])) }},
	{"clip.component_sizes", []param{{"labels", "handle"}, {"buf", "ptr"}, {"buf_cap", "len"}, {"len_out", "ptr"}}, func(a []uint64) uint32 {
		return clipComponentSizes(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3]))
	}},
	{"clip.keep_largest", []param{{"image", "handle"}, {"connectivity", "u32"}, {"n", "u32"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 {
		return clipKeepLargest(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3]))
	}},
	{"clip.remove_small", []param{{"image", "handle"}, {"connectivity", "u32"}, {"min_size", "u64"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 { return clipRemoveSmall(uint32(a[0]), uint32(a[1]), a[2], uint32(a[3])) }},
	{"clip.distance_transform", []param{{"image", "handle"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 { return clipDistanceTransform(uint32(a[0]), uint32(a[1])) }},
	{"clip.bvtv", []param{{"segmentation", "handle"}, {"mask", "handle"}, {"out", "ptr"}}, func(a []uint64) uint32 { return clipBvtv(uint32(a[0]), uint32(a[1]), uint32(a[2])) }},
	{"clip.crop", []param{{"image", "handle"}, {"x", "u32"}, {"y", "u32"}, {"z", "u32"}, {"size_x", "u32"}, {"size_y", "u32"}, {"size_z", "u32"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 {
		return clipCrop(uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3]), uint32(a[4]), uint32(a[5]), uint32(a[6]), uint32(a[7]))
	}},
	{"clip.bounding_box", []param{{"image", "handle"}, {"out", "ptr"}}, func(a []uint64) uint32 { return clipBoundingBox(uint32(a[0]), uint32(a[1])) }},
	{"clip.resample", []param{{"image", "handle"}, {"factor_x", "f64"}, {"factor_y", "f64"}, {"factor_z", "f64"}, {"interpolation", "u32"}, {"handle_out", "ptr"}}, func(a []uint64) uint32 {
		return clipResample(uint32(a[0]), math.Float64frombits(a[1]), math.Float64frombits(a[2]), math.Float64frombits(a[3]), uint32(a[4]), uint32(a[5]))
	}},
}
