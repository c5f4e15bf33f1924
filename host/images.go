package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/omni"
)

// openImageInput fetches an Image input's metadata and pixel files from the
// store and maps the pixels.
func (j *job) openImageInput(ctx context.Context, key string) (*jobImage, abi.Status) {
	typ, value, st := j.compositeInput(key)
	if st != abi.OK {
		return nil, st
	}
	if typ != "Image" {
		return nil, abi.TypeMismatch
	}
	var ref struct {
		Filename string `json:"filename"`
	}
	if err := json.Unmarshal(value, &ref); err != nil || ref.Filename == "" {
		return nil, abi.TypeMismatch
	}
	mf, err := j.h.store.Fetch(ctx, ref.Filename)
	if err != nil {
		j.addLog(Error, "host", "open image "+key+": "+err.Error())
		return nil, abi.IOError
	}
	meta, err := io.ReadAll(io.LimitReader(mf, 1<<20))
	mf.Close()
	if err != nil {
		j.addLog(Error, "host", "open image "+key+": "+err.Error())
		return nil, abi.IOError
	}
	h, err := omni.ParseHeader(meta)
	if err != nil {
		j.addLog(Error, "host", "open image "+key+": "+err.Error())
		return nil, abi.BadArgument
	}
	pf, err := j.h.store.Fetch(ctx, path.Join(path.Dir(ref.Filename), h.PixelFiles[0]))
	if err != nil {
		j.addLog(Error, "host", "open image "+key+": "+err.Error())
		return nil, abi.IOError
	}
	img, err := omni.Map(h, pf)
	if err != nil {
		pf.Close()
		j.addLog(Error, "host", "open image "+key+": "+err.Error())
		return nil, abi.BadArgument
	}
	return &jobImage{img: img, source: pf}, abi.OK
}

func (j *job) addImage(c engine.Memory, im *jobImage, out uint32) abi.Status {
	j.mu.Lock()
	h, ok := j.images.add(im)
	j.mu.Unlock()
	if !ok {
		j.releaseImage(im)
		return abi.LimitExceeded
	}
	if !writeU32(c, out, h) {
		j.mu.Lock()
		j.images.remove(h)
		j.mu.Unlock()
		j.releaseImage(im)
		return abi.InvalidMemoryAccess
	}
	return abi.OK
}

// reserveImageBytes counts n bytes against the job's image quota.
func (j *job) reserveImageBytes(n int64) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.imageBytes+n > j.limits.ImageBytes {
		return false
	}
	j.imageBytes += n
	return true
}

func (j *job) releaseImage(im *jobImage) {
	im.close()
	j.mu.Lock()
	j.imageBytes -= im.bytes
	j.mu.Unlock()
}

func (j *job) image(h uint32) (*jobImage, abi.Status) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.images.image(h)
}

func xfImageOpen(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	key, ok := readString(c, u32(a[0]), u32(a[1]))
	if !ok {
		return abi.InvalidMemoryAccess
	}
	if _, ok := c.Read(u32(a[2]), 4); !ok {
		return abi.InvalidMemoryAccess
	}
	im, st := j.openImageInput(ctx, key)
	if st != abi.OK {
		return st
	}
	return j.addImage(c, im, u32(a[2]))
}

// imageInfo is the JSON image_info_get returns.
type imageInfo struct {
	Size            [3]int            `json:"size"`
	DataType        string            `json:"data_type"`
	Spacing         [3]float64        `json:"spacing_mm"`
	Origin          [3]float64        `json:"origin_mm"`
	Calibrations    []calibrationJSON `json:"calibrations"`
	DefaultUnitType string            `json:"default_unit_type,omitempty"`
}

// calibrationJSON is a calibration as guests see it: always direct, so a
// guest never needs to resolve an indirect calibration itself.
type calibrationJSON struct {
	Type      string  `json:"type"`
	UnitType  string  `json:"unit_type"`
	UnitName  string  `json:"unit_name,omitempty"`
	Slope     float64 `json:"slope"`
	Intercept float64 `json:"intercept"`
}

func guestCalibrations(h *omni.Header) []calibrationJSON {
	out := []calibrationJSON{}
	for _, c := range h.Calibrations {
		if r, err := h.ResolveCalibration(c); err == nil {
			c = r
		}
		out = append(out, calibrationJSON{Type: omni.KindSlopeIntercept, UnitType: c.UnitType, UnitName: c.UnitName, Slope: c.Slope, Intercept: c.Intercept})
	}
	return out
}

func xfImageInfoGet(_ context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	h := im.img.Header()
	info := imageInfo{Size: h.Size, DataType: h.DataType.String(), Spacing: h.Spacing, Origin: h.Origin,
		Calibrations: guestCalibrations(h), DefaultUnitType: h.DefaultUnitType}
	data, err := json.Marshal(info)
	if err != nil {
		return abi.Internal
	}
	return writeResult(c, data, u32(a[1]), u32(a[2]), u32(a[3]))
}

// box checks a box against an image and returns its byte size.
func box(h *omni.Header, a []uint64) (x, y, z, sx, sy, sz uint64, n uint64, ok bool) {
	x, y, z = uint64(u32(a[1])), uint64(u32(a[2])), uint64(u32(a[3]))
	sx, sy, sz = uint64(u32(a[4])), uint64(u32(a[5])), uint64(u32(a[6]))
	if x+sx > uint64(h.Size[0]) || y+sy > uint64(h.Size[1]) || z+sz > uint64(h.Size[2]) {
		return 0, 0, 0, 0, 0, 0, 0, false
	}
	return x, y, z, sx, sy, sz, sx * sy * sz * uint64(h.DataType.Size()), true
}

// copyBox moves a box between image pixels and guest memory, one row at a
// time; toGuest selects the direction.
func copyBox(c engine.Memory, im *jobImage, a []uint64, toGuest bool) abi.Status {
	h := im.img.Header()
	x, y, z, sx, sy, sz, n, ok := box(h, a)
	if !ok {
		return abi.BadArgument
	}
	buf, bufLen := u32(a[7]), uint64(u32(a[8]))
	if _, ok := c.Read(buf, uint32(bufLen)); !ok {
		return abi.InvalidMemoryAccess
	}
	if bufLen < n {
		return abi.BufferTooSmall
	}
	if n == 0 {
		return abi.OK
	}
	dst, _ := c.Read(buf, uint32(n))
	es := uint64(h.DataType.Size())
	row := sx * es
	pix := im.img.Pixels()
	X, Y := uint64(h.Size[0]), uint64(h.Size[1])
	var off uint64
	for zz := z; zz < z+sz; zz++ {
		for yy := y; yy < y+sy; yy++ {
			src := ((zz*Y+yy)*X + x) * es
			if toGuest {
				copy(dst[off:off+row], pix[src:src+row])
			} else {
				copy(pix[src:src+row], dst[off:off+row])
			}
			off += row
		}
	}
	return abi.OK
}

func xfImageRead(_ context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	return copyBox(c, im, a, true)
}

func xfImageWrite(_ context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	im, st := j.image(u32(a[0]))
	if st != abi.OK {
		return st
	}
	if !im.writable {
		return abi.Denied
	}
	return copyBox(c, im, a, false)
}

// imageSpec is the JSON image_create accepts.
type imageSpec struct {
	Size         *[3]int           `json:"size"`
	DataType     string            `json:"data_type"`
	Spacing      *[3]float64       `json:"spacing_mm"`
	Origin       *[3]float64       `json:"origin_mm"`
	Calibrations []calibrationJSON `json:"calibrations"`
	Like         uint32            `json:"like"`
}

func xfImageCreate(_ context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	data, ok := readBytes(c, u32(a[0]), u32(a[1]))
	if !ok {
		return abi.InvalidMemoryAccess
	}
	if _, ok := c.Read(u32(a[2]), 4); !ok {
		return abi.InvalidMemoryAccess
	}
	if !json.Valid(data) {
		return abi.InvalidJSON
	}
	var s imageSpec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return abi.BadArgument
	}
	h := omni.Header{FormatVersion: omni.CurrentFormatVersion, Axes: "XYZ", ByteOrder: omni.NativeByteOrder(), Spacing: [3]float64{1, 1, 1}}
	if s.Like != 0 {
		like, st := j.image(s.Like)
		if st != abi.OK {
			return st
		}
		lh := like.img.Header()
		h.Size, h.Spacing, h.Origin, h.DataType = lh.Size, lh.Spacing, lh.Origin, lh.DataType
		h.Calibrations, h.DefaultUnitType = lh.Calibrations, lh.DefaultUnitType
	}
	if s.Size != nil {
		h.Size = *s.Size
	}
	if s.DataType != "" {
		dt, err := omni.ParseDataType(s.DataType)
		if err != nil {
			return abi.BadArgument
		}
		h.DataType = dt
	}
	if s.Spacing != nil {
		h.Spacing = *s.Spacing
	}
	if s.Origin != nil {
		h.Origin = *s.Origin
	}
	if s.Calibrations != nil {
		h.Calibrations = nil
		for _, c := range s.Calibrations {
			h.Calibrations = append(h.Calibrations, omni.Calibration{Kind: omni.KindSlopeIntercept, UnitType: c.UnitType, UnitName: c.UnitName, Slope: c.Slope, Intercept: c.Intercept})
		}
		h.DefaultUnitType = ""
	}
	h.PixelFiles = []string{"pixels.raw"}
	if err := h.Validate(); err != nil {
		return abi.BadArgument
	}
	h.PixelFiles = nil
	n := h.PixelBytes()
	if j.hasEnded() {
		return abi.InvalidState
	}
	if !j.reserveImageBytes(n) {
		return abi.LimitExceeded
	}
	img, err := omni.New(&h)
	if err != nil {
		j.reserveImageBytes(-n)
		return abi.BadArgument
	}
	return j.addImage(c, &jobImage{img: img, writable: true, bytes: n}, u32(a[2]))
}

func xfImageClose(_ context.Context, j *job, _ engine.Memory, a []uint64) abi.Status {
	j.mu.Lock()
	im, st := j.images.remove(u32(a[0]))
	j.mu.Unlock()
	if st != abi.OK {
		return st
	}
	j.releaseImage(im)
	return abi.OK
}

func xfOutputImageSet(ctx context.Context, j *job, c engine.Memory, a []uint64) abi.Status {
	key, ok := readString(c, u32(a[0]), u32(a[1]))
	if !ok {
		return abi.InvalidMemoryAccess
	}
	out, ok := j.task.Module.Interface.Output(key)
	if !ok {
		return abi.NotFound
	}
	im, st := j.image(u32(a[2]))
	if st != abi.OK {
		return st
	}
	if out.Type != "Image" {
		return abi.TypeMismatch
	}
	if j.hasEnded() {
		return abi.InvalidState
	}
	h := *im.img.Header()
	rawRef, omniRef := j.outputRef(key+".raw"), j.outputRef(key+".omni")
	h.PixelFiles = []string{path.Base(rawRef)}
	meta, err := h.Encode()
	if err != nil {
		return abi.Internal
	}
	for _, f := range []struct {
		ref  string
		data []byte
	}{{rawRef, im.img.Pixels()}, {omniRef, meta}} {
		if err := j.upload(ctx, f.ref, bytes.NewReader(f.data), int64(len(f.data))); errors.Is(err, errUploadLimit) {
			return abi.LimitExceeded
		} else if err != nil {
			j.addLog(Error, "host", "store image "+key+": "+err.Error())
			return abi.IOError
		}
	}
	value, _ := json.Marshal(map[string]any{"type": "Image", "filename": omniRef, "size": h.Size, "filenames": []string{rawRef}})
	if st := j.checkOutput(key, value); st != abi.OK {
		return st
	}
	return j.setOutput(key, value)
}
