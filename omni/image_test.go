package omni

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func otherByteOrder() ByteOrder {
	if NativeByteOrder() == LittleEndian {
		return BigEndian
	}
	return LittleEndian
}

// writeImageFiles writes a header and pixel file by hand, independent of Write.
func writeImageFiles(t *testing.T, dir, name string, h *Header, pixels []byte) string {
	t.Helper()
	h = h.Clone()
	h.PixelFiles = []string{name + ".raw"}
	enc, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".raw"), pixels, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".omni")
	if err := os.WriteFile(path, enc, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMapWrongFileSize(t *testing.T) {
	h := validHeader() // 4x3x2 uint16 = 48 bytes
	for _, size := range []int{0, 47, 49, 96} {
		dir := t.TempDir()
		p := filepath.Join(dir, "scan.raw")
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := Map(h, f)
		f.Close()
		if err == nil {
			img.Close()
			t.Fatalf("size %d: Map succeeded", size)
		}
		for _, want := range []string{"omni: map", "scan.raw", "48", "has " + strconv.Itoa(size) + " bytes"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("size %d: error %q lacks %q", size, err, want)
			}
		}
	}
}

func TestMapRejectsInvalidHeaderAndDirectory(t *testing.T) {
	dir := t.TempDir()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	h := validHeader()
	if _, err := Map(h, d); err == nil || !strings.Contains(err.Error(), "regular file") {
		t.Errorf("Map of a directory: %v", err)
	}
	h.Size[0] = 0
	if _, err := Map(h, d); err == nil || !strings.Contains(err.Error(), "size[0]") {
		t.Errorf("Map with invalid header: %v", err)
	}
}

func TestMapNativeIsReadOnlyAndCloseIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	h := validHeader()
	h.ByteOrder = NativeByteOrder()
	pixels := make([]byte, h.PixelBytes())
	for i := range pixels {
		pixels[i] = byte(i * 7)
	}
	path := writeImageFiles(t, dir, "scan", h, pixels)
	img, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if img.Writable() {
		t.Error("opened image claims to be writable")
	}
	if !bytes.Equal(img.Pixels(), pixels) {
		t.Error("pixels differ from the file")
	}
	hdr := img.Header()
	hdr.Size[0] = 99
	if img.Header().Size[0] != 4 {
		t.Error("Header() returned an alias")
	}
	if err := img.Close(); err != nil {
		t.Fatal(err)
	}
	if err := img.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if img.Pixels() != nil {
		t.Error("Pixels after Close is not nil")
	}
	if _, err := img.WritePixels(&bytes.Buffer{}); err == nil {
		t.Error("WritePixels after Close succeeded")
	}
}

func TestMapSwapsForeignByteOrder(t *testing.T) {
	foreign := otherByteOrder()
	tests := []struct {
		dt     DataType
		values []float64
	}{
		{Uint16, []float64{0, 1, 258, 65535}},
		{Int16, []float64{-32768, -2, 0, 32767}},
		{Uint32, []float64{0, 1, 0x01020304, math.MaxUint32}},
		{Int32, []float64{math.MinInt32, -1, 7, math.MaxInt32}},
		{Float32, []float64{-1.5, 0, 3.25, 1e30}},
		{Float64, []float64{-1e300, 0.1, 2, math.Pi}},
		{Int8, []float64{-128, -1, 0, 127}},
	}
	for _, tt := range tests {
		t.Run(tt.dt.String(), func(t *testing.T) {
			h := validHeader()
			h.Size = [3]int{2, 2, 1}
			h.DataType = tt.dt
			h.ByteOrder = foreign
			file := encodeValues(tt.dt, foreign.Binary().(binary.AppendByteOrder), tt.values)
			path := writeImageFiles(t, t.TempDir(), "swapped", h, file)
			img, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			want := encodeValues(tt.dt, binary.NativeEndian, tt.values)
			if !bytes.Equal(img.Pixels(), want) {
				t.Errorf("pixels % x, want % x (native order)", img.Pixels(), want)
			}
			if got := img.Header().ByteOrder; got != NativeByteOrder() {
				t.Errorf("image byte order %q, want native %q", got, NativeByteOrder())
			}
		})
	}
}

func encodeValues(dt DataType, order binary.AppendByteOrder, values []float64) []byte {
	var b []byte
	for _, v := range values {
		switch dt {
		case Uint8:
			b = append(b, uint8(v))
		case Int8:
			b = append(b, byte(int8(v)))
		case Uint16:
			b = order.AppendUint16(b, uint16(v))
		case Int16:
			b = order.AppendUint16(b, uint16(int16(v)))
		case Uint32:
			b = order.AppendUint32(b, uint32(v))
		case Int32:
			b = order.AppendUint32(b, uint32(int32(v)))
		case Float32:
			b = order.AppendUint32(b, math.Float32bits(float32(v)))
		case Float64:
			b = order.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b
}

func TestOpenRefusesPixelFileOutsideDirectory(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "secret.raw")
	h := validHeader()
	if err := os.WriteFile(outside, make([]byte, h.PixelBytes()), 0o644); err != nil {
		t.Fatal(err)
	}
	imgDir := filepath.Join(base, "img")
	if err := os.Mkdir(imgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, target := range []string{"../../secret.raw", outside} {
		t.Run(target, func(t *testing.T) {
			dir := filepath.Join(imgDir, strconv.Itoa(i))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := writeImageFiles(t, dir, "scan", h, nil)
			raw := filepath.Join(dir, "scan.raw")
			if err := os.Remove(raw); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, raw); err != nil {
				t.Skipf("symlinks unsupported: %v", err)
			}
			// Reading through the link directly works, so only the root check can refuse it.
			if _, err := os.Stat(raw); err != nil {
				t.Fatalf("symlink does not resolve: %v", err)
			}
			img, err := Open(path)
			if err == nil {
				img.Close()
				t.Fatal("Open followed a symlink out of the image directory")
			}
			if !strings.Contains(err.Error(), "scan.raw") {
				t.Errorf("error %q does not name the pixel file", err)
			}
		})
	}
}

func TestOpenFollowsSymlinkInsideDirectory(t *testing.T) {
	dir := t.TempDir()
	h := validHeader()
	h.ByteOrder = NativeByteOrder()
	pixels := bytes.Repeat([]byte{1, 2}, int(h.VoxelCount()))
	if err := os.WriteFile(filepath.Join(dir, "data.bin"), pixels, 0o644); err != nil {
		t.Fatal(err)
	}
	h.PixelFiles = []string{"scan.raw"}
	enc, _ := h.Encode()
	path := filepath.Join(dir, "scan.omni")
	if err := os.WriteFile(path, enc, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("data.bin", filepath.Join(dir, "scan.raw")); err != nil {
		t.Skipf("symlinks unsupported: %v", err)
	}
	img, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if !bytes.Equal(img.Pixels(), pixels) {
		t.Error("pixels differ")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	h := validHeader()
	noPixels := h.Clone()
	noPixels.PixelFiles = nil
	enc, _ := noPixels.Encode()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing header", filepath.Join(dir, "none.omni"), "none.omni"},
		{"bad header", write("bad.omni", []byte(`{"axes":`)), "JSON"},
		{"no pixel files", write("empty.omni", enc), "pixel_files"},
		{"missing pixel file", write("lost.omni", []byte(validJSON)), "scan.raw"},
		{"oversized header", write("big.omni", bytes.Repeat([]byte(" "), MaxHeaderBytes+1)), "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Open(tt.path)
			if err == nil {
				img.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.HasPrefix(err.Error(), "omni: open "+tt.path+": ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want prefix with path and %q", err, tt.want)
			}
		})
	}
}

func TestWriteOpenRoundTripEveryDataType(t *testing.T) {
	for _, dt := range DataTypes() {
		t.Run(dt.String(), func(t *testing.T) {
			dir := t.TempDir()
			h := validHeader()
			h.Size = [3]int{5, 3, 2}
			h.DataType = dt
			h.ByteOrder = otherByteOrder() // New must override it
			h.PixelFiles = nil
			img, err := New(h)
			if err != nil {
				t.Fatal(err)
			}
			if !img.Writable() {
				t.Fatal("New image is not writable")
			}
			if img.Header().ByteOrder != NativeByteOrder() {
				t.Errorf("New kept byte order %q", img.Header().ByteOrder)
			}
			p := img.Pixels()
			if int64(len(p)) != h.PixelBytes() {
				t.Fatalf("got %d pixel bytes, want %d", len(p), h.PixelBytes())
			}
			for i := range p {
				p[i] = byte(i*31 + 5)
			}
			if err := Write(dir, "out", img); err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 2 {
				t.Errorf("directory holds %d entries, want out.omni and out.raw only", len(entries))
			}
			back, err := Open(filepath.Join(dir, "out.omni"))
			if err != nil {
				t.Fatal(err)
			}
			defer back.Close()
			if !bytes.Equal(back.Pixels(), p) {
				t.Error("pixels changed in the round trip")
			}
			bh := back.Header()
			if len(bh.PixelFiles) != 1 || bh.PixelFiles[0] != "out.raw" {
				t.Errorf("pixel files %q", bh.PixelFiles)
			}
			want := img.Header()
			want.PixelFiles = bh.PixelFiles
			if !headersEqual(bh, want) {
				t.Error("header changed in the round trip")
			}
			fi, err := os.Stat(filepath.Join(dir, "out.raw"))
			if err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("pixel file mode %v, %v", fi.Mode(), err)
			}
		})
	}
}

func TestWriteReplacesAndValidatesName(t *testing.T) {
	dir := t.TempDir()
	h := validHeader()
	img, err := New(h)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "a/b", "..", "x\\y", "n\x00"} {
		if err := Write(dir, name, img); err == nil || !strings.Contains(err.Error(), "invalid image name") {
			t.Errorf("Write name %q: %v", name, err)
		}
	}
	if err := Write(dir, "scan", img); err != nil {
		t.Fatal(err)
	}
	img.Pixels()[0] = 42
	if err := Write(dir, "scan", img); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	back, err := Open(filepath.Join(dir, "scan.omni"))
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if back.Pixels()[0] != 42 {
		t.Error("second Write did not replace the pixels")
	}
	if err := Write(filepath.Join(dir, "missing"), "scan", img); err == nil {
		t.Error("Write into a missing directory succeeded")
	}
}

func TestWriteToArbitraryWriters(t *testing.T) {
	img, err := New(validHeader())
	if err != nil {
		t.Fatal(err)
	}
	for i := range img.Pixels() {
		img.Pixels()[i] = byte(i)
	}
	var hdr, pix bytes.Buffer
	if _, err := img.Header().WriteTo(&hdr); err != nil {
		t.Fatal(err)
	}
	n, err := img.WritePixels(&pix)
	if err != nil || n != img.Header().PixelBytes() || !bytes.Equal(pix.Bytes(), img.Pixels()) {
		t.Errorf("WritePixels wrote %d bytes, %v", n, err)
	}
	if _, err := ParseHeader(hdr.Bytes()); err != nil {
		t.Errorf("written header does not parse: %v", err)
	}
	failing := failWriter{}
	if _, err := img.WritePixels(failing); err == nil || !strings.Contains(err.Error(), "omni: write pixels") {
		t.Errorf("WritePixels to failing writer: %v", err)
	}
	if _, err := img.Header().WriteTo(failing); err == nil || !strings.Contains(err.Error(), "omni: write header") {
		t.Errorf("WriteTo failing writer: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestNewRejectsInvalidHeader(t *testing.T) {
	h := validHeader()
	h.Axes = "XY"
	if _, err := New(h); err == nil || !strings.Contains(err.Error(), "omni: new image: axes") {
		t.Errorf("New: %v", err)
	}
	h = validHeader()
	h.FormatVersion = ""
	img, err := New(h)
	if err != nil {
		t.Fatal(err)
	}
	if img.Header().FormatVersion != CurrentFormatVersion {
		t.Errorf("format version %q", img.Header().FormatVersion)
	}
}
