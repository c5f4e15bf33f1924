//go:build wasip1

package xf

import (
	"encoding/json"
	"fmt"
	"os"
	"unsafe"
)

// Job is the running job. There is one per guest instance.
type Job struct {
	inputs Inputs
	info   JobInfo
}

func ptr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

func strPtr(s string) (unsafe.Pointer, uint32) {
	return unsafe.Pointer(unsafe.StringData(s)), uint32(len(s))
}

func check(op, arg string, st Status) error {
	if st == StatusOK {
		return nil
	}
	return &CallError{Op: op, Arg: arg, Status: st}
}

// fetch runs a caller-buffer call, growing the buffer until it fits.
func fetch(op, arg string, call func(buf unsafe.Pointer, bufCap uint32, lenOut unsafe.Pointer) Status) ([]byte, error) {
	buf := make([]byte, 256)
	for {
		var n uint32
		st := call(ptr(buf), uint32(len(buf)), unsafe.Pointer(&n))
		switch st {
		case StatusOK:
			return buf[:n], nil
		case StatusBufferTooSmall:
			buf = make([]byte, n)
		default:
			return nil, &CallError{Op: op, Arg: arg, Status: st}
		}
	}
}

// Start reads the job's inputs and information.
func Start() (*Job, error) {
	raw, err := fetch("xf.inputs_get", "", xfInputsGet)
	if err != nil {
		return nil, err
	}
	j := &Job{}
	if err := json.Unmarshal(raw, &j.inputs); err != nil {
		return nil, fmt.Errorf("decode inputs: %w", err)
	}
	raw, err = fetch("xf.job_info_get", "", xfJobInfoGet)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &j.info); err != nil {
		return nil, fmt.Errorf("decode job info: %w", err)
	}
	return j, nil
}

// Run starts the job and runs fn. If fn returns an error the job fails
// with its message; otherwise Run finishes the job unless fn already did.
// It does not return.
func Run(fn func(job *Job) error) {
	j, err := Start()
	if err != nil {
		fail(err.Error())
	}
	if err := fn(j); err != nil {
		j.Fail(err.Error())
	}
	if err := j.Finish(); err != nil && !isStatus(err, StatusInvalidState) {
		j.Fail(err.Error())
	}
	os.Exit(0)
}

func isStatus(err error, st Status) bool {
	ce, ok := err.(*CallError)
	return ok && ce.Status == st
}

// Inputs returns the job's inputs.
func (j *Job) Inputs() Inputs { return j.inputs }

// Info returns the job's information.
func (j *Job) Info() JobInfo { return j.info }

// SetOutput sets one output to v, encoded as JSON.
func (j *Job) SetOutput(key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("output %q: %w", key, err)
	}
	k, kn := strPtr(key)
	return check("xf.output_set", key, xfOutputSet(k, kn, ptr(data), uint32(len(data))))
}

// SetOutputUnits sets the units of outputs.
func (j *Job) SetOutputUnits(units map[string]string) error {
	data, _ := json.Marshal(units)
	return check("xf.output_units_set", "", xfOutputUnitsSet(ptr(data), uint32(len(data))))
}

// Finish ends the job successfully; every output must have been set.
func (j *Job) Finish() error { return check("xf.finish", "", xfFinish()) }

// Fail ends the job as failed with the message. It does not return.
func (j *Job) Fail(message string) { fail(message) }

// Failf is Fail with formatting.
func (j *Job) Failf(format string, args ...any) { fail(fmt.Sprintf(format, args...)) }

func fail(message string) {
	m, n := strPtr(message)
	xfFail(m, n)
	os.Exit(1) // reached only if the job had already ended
}

// SetErrorMessage records an error message without ending the job.
func (j *Job) SetErrorMessage(message string) error {
	m, n := strPtr(message)
	return check("xf.error_set", "", xfErrorSet(m, n))
}

// ClearErrorMessage clears the error message.
func (j *Job) ClearErrorMessage() error { return check("xf.error_clear", "", xfErrorClear()) }

// Progress reports progress in percent.
func (j *Job) Progress(percent float64) error {
	return check("xf.progress_set", "", xfProgressSet(percent))
}

// SetEstimatedDuration sets the estimated total duration in seconds.
func (j *Job) SetEstimatedDuration(seconds float64) error {
	return check("xf.estimated_duration_set", "", xfEstimatedDurationSet(seconds))
}

// Log appends a line to the job log.
func (j *Job) Log(level Level, message string) error {
	m, n := strPtr(message)
	return check("xf.log", "", xfLog(int32(level), m, n))
}

// Logf is Log with formatting.
func (j *Job) Logf(level Level, format string, args ...any) error {
	return j.Log(level, fmt.Sprintf(format, args...))
}

// ActivityLog adds a message to the workflow's activity log.
func (j *Job) ActivityLog(level Level, title string) error {
	m, n := strPtr(title)
	return check("xf.activity_log", "", xfActivityLog(int32(level), m, n))
}

// TempPath returns a unique path in the scratch directory ending in name.
func (j *Job) TempPath(name string) (string, error) {
	s, n := strPtr(name)
	b, err := fetch("xf.temp_path_create", name, func(buf unsafe.Pointer, c uint32, l unsafe.Pointer) Status {
		return xfTempPathCreate(s, n, buf, c, l)
	})
	return string(b), err
}

// RelatedPath returns a unique scratch path named after path with its
// extension replaced by postfix (scan.omni, "_seg.omni" → scan_seg.omni).
func (j *Job) RelatedPath(path, postfix string) (string, error) {
	p, pn := strPtr(path)
	s, sn := strPtr(postfix)
	b, err := fetch("xf.related_path_create", path, func(buf unsafe.Pointer, c uint32, l unsafe.Pointer) Status {
		return xfRelatedPathCreate(p, pn, s, sn, buf, c, l)
	})
	return string(b), err
}

// DownloadInputFile makes a composite input's files readable under /inputs
// and returns the path of its main file.
func (j *Job) DownloadInputFile(key string) (string, error) {
	k, kn := strPtr(key)
	b, err := fetch("xf.input_file_fetch", key, func(buf unsafe.Pointer, c uint32, l unsafe.Pointer) Status {
		return xfInputFileFetch(k, kn, buf, c, l)
	})
	return string(b), err
}

// UploadFile uploads a scratch file and returns its file reference, for
// use in a composite output such as CSV(ref).
func (j *Job) UploadFile(path string) (string, error) {
	p, pn := strPtr(path)
	b, err := fetch("xf.output_file_upload", path, func(buf unsafe.Pointer, c uint32, l unsafe.Pointer) Status {
		return xfOutputFileUpload(p, pn, buf, c, l)
	})
	return string(b), err
}

// ImageSpec describes an image to create. Zero fields are inherited from
// Like when it is set.
type ImageSpec struct {
	Size         *[3]int       `json:"size,omitempty"`
	DataType     string        `json:"data_type,omitempty"`
	Spacing      *[3]float64   `json:"spacing_mm,omitempty"`
	Origin       *[3]float64   `json:"origin_mm,omitempty"`
	Calibrations []Calibration `json:"calibrations,omitempty"`
	Like         *Image        `json:"-"`
}

// Image is a host-side image. Its voxels stay on the host unless read.
type Image struct {
	handle uint32
	info   ImageInfo
}

func newImage(op string, h uint32) (*Image, error) {
	b, err := fetch("xf.image_info_get", op, func(buf unsafe.Pointer, c uint32, l unsafe.Pointer) Status {
		return xfImageInfoGet(h, buf, c, l)
	})
	if err != nil {
		xfImageClose(h)
		return nil, err
	}
	im := &Image{handle: h}
	if err := json.Unmarshal(b, &im.info); err != nil {
		xfImageClose(h)
		return nil, fmt.Errorf("%s: decode image info: %w", op, err)
	}
	return im, nil
}

// OpenImage opens an Image input.
func (j *Job) OpenImage(key string) (*Image, error) {
	k, kn := strPtr(key)
	var h uint32
	if err := check("xf.image_open", key, xfImageOpen(k, kn, unsafe.Pointer(&h))); err != nil {
		return nil, err
	}
	return newImage(key, h)
}

// CreateImage creates a zero-filled writable image.
func (j *Job) CreateImage(spec ImageSpec) (*Image, error) {
	type wire struct {
		ImageSpec
		Like uint32 `json:"like,omitempty"`
	}
	w := wire{ImageSpec: spec}
	if spec.Like != nil {
		w.Like = spec.Like.handle
	}
	data, _ := json.Marshal(w)
	var h uint32
	if err := check("xf.image_create", "", xfImageCreate(ptr(data), uint32(len(data)), unsafe.Pointer(&h))); err != nil {
		return nil, err
	}
	return newImage("created image", h)
}

// SetOutputImage stores the image on the file store as the Image output key.
func (j *Job) SetOutputImage(key string, im *Image) error {
	k, kn := strPtr(key)
	return check("xf.output_image_set", key, xfOutputImageSet(k, kn, im.handle))
}

// Info returns the image's metadata.
func (im *Image) Info() ImageInfo { return im.info }

// Read copies a box of voxels (x fastest, little-endian) into buf.
func (im *Image) Read(b Box, buf []byte) error {
	return check("xf.image_read", "", xfImageRead(im.handle, uint32(b.Pos[0]), uint32(b.Pos[1]), uint32(b.Pos[2]),
		uint32(b.Size[0]), uint32(b.Size[1]), uint32(b.Size[2]), ptr(buf), uint32(len(buf))))
}

// Write copies a box of voxels from buf into an image the job created.
func (im *Image) Write(b Box, buf []byte) error {
	return check("xf.image_write", "", xfImageWrite(im.handle, uint32(b.Pos[0]), uint32(b.Pos[1]), uint32(b.Pos[2]),
		uint32(b.Size[0]), uint32(b.Size[1]), uint32(b.Size[2]), ptr(buf), uint32(len(buf))))
}

// Close releases the image.
func (im *Image) Close() error { return check("xf.image_close", "", xfImageClose(im.handle)) }
