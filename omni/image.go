package omni

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
)

// Image is an OMNI header together with its pixels. Pixels are always in the
// host's native byte order, and Header().ByteOrder says so.
//
// An Image from Map or Open is read-only and may be backed by a memory
// mapping: writing to Pixels() would crash the program. Slices obtained
// from Pixels() must not be used after Close, whatever the image: a mapping
// is gone by then, and heap pixels are reused for other images.
type Image struct {
	header   *Header
	pixels   []byte
	writable bool
	pooled   bool // pixels are a heap buffer Close returns to pixelBuffers

	mu     sync.Mutex
	unmap  func() error // nil unless pixels are a live mapping
	closed bool
}

// Header returns a copy of the image's header; changing it does not change
// the image.
func (img *Image) Header() *Header {
	return img.header.Clone()
}

// Pixels returns the pixel bytes in native byte order, first axis fastest.
// It returns nil after Close.
func (img *Image) Pixels() []byte {
	img.mu.Lock()
	defer img.mu.Unlock()
	if img.closed {
		return nil
	}
	return img.pixels
}

// Writable reports whether the caller may modify Pixels(). Only images from
// New are writable; images read with Map or Open are not, whatever memory
// backs them, so code behaves the same on hosts of either byte order.
func (img *Image) Writable() bool {
	return img.writable
}

// Close releases the pixel memory: it unmaps a mapping, and gives heap
// pixels back to a process-wide pool from which New and NewUninitialized
// take buffers of the same size (see pool.go). Closing twice is harmless.
func (img *Image) Close() error {
	img.mu.Lock()
	defer img.mu.Unlock()
	if img.closed {
		return nil
	}
	img.closed = true
	if img.pooled {
		pixelBuffers.put(img.pixels)
	}
	img.pixels = nil
	if img.unmap != nil {
		unmap := img.unmap
		img.unmap = nil
		if err := unmap(); err != nil {
			return fmt.Errorf("omni: close image: %w", err)
		}
	}
	return nil
}

// New returns a writable image with zeroed pixels held in the Go heap, for
// images the host creates itself. The pixels may reuse the buffer of an
// image closed earlier; they are cleared all the same. h is validated and copied; its ByteOrder
// is replaced by NativeByteOrder, and an empty FormatVersion is set to
// CurrentFormatVersion.
func New(h *Header) (*Image, error) {
	return newImage(h, true)
}

// NewUninitialized is New without zeroing the pixels, for code that
// overwrites every voxel before anyone reads them, such as a kernel's
// output. Until written, the pixels hold arbitrary bytes, possibly those
// of an image closed earlier in the process: an image whose pixels are not
// all written must come from New instead.
func NewUninitialized(h *Header) (*Image, error) {
	return newImage(h, false)
}

func newImage(h *Header, zero bool) (*Image, error) {
	hc := h.Clone()
	if hc.FormatVersion == "" {
		hc.FormatVersion = CurrentFormatVersion
	}
	hc.ByteOrder = NativeByteOrder()
	if err := hc.Validate(); err != nil {
		return nil, fmt.Errorf("omni: new image: %w", errors.Unwrap(err))
	}
	n := hc.PixelBytes()
	if n > math.MaxInt {
		return nil, fmt.Errorf("omni: new image: %d pixel bytes do not fit in memory on this platform", n)
	}
	px, reused := pixelBuffers.get(int(n))
	if reused && zero {
		clear(px)
	}
	return &Image{header: hc, pixels: px, writable: true, pooled: true}, nil
}

// Map returns a read-only image whose pixels come from the pixel file f,
// which must be a regular file of exactly h.PixelBytes() bytes. f may be
// closed once Map returns.
//
// When h.ByteOrder is the host's order the file is memory-mapped (on Unix)
// so the pixels never pass through the Go heap; Close unmaps it. Otherwise
// the pixels are read into the heap and byte-swapped, because a shared
// read-only mapping cannot be converted in place. Truncating the file while
// it is mapped makes later pixel access crash the program, as with any
// memory mapping.
func Map(h *Header, f *os.File) (*Image, error) {
	img, err := mapImage(h, f)
	if err != nil {
		return nil, fmt.Errorf("omni: map %s: %w", f.Name(), err)
	}
	return img, nil
}

func mapImage(h *Header, f *os.File) (*Image, error) {
	hc := h.Clone()
	if fe := hc.check(); fe != nil {
		return nil, fmt.Errorf("invalid header: %w", fe)
	}
	want := hc.PixelBytes()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("pixel file is not a regular file (mode %s)", fi.Mode())
	}
	if fi.Size() != want {
		return nil, fmt.Errorf("pixel file has %d bytes, header needs %d (%d x %d x %d %s)",
			fi.Size(), want, hc.Size[0], hc.Size[1], hc.Size[2], hc.DataType)
	}
	if want > math.MaxInt {
		return nil, fmt.Errorf("%d pixel bytes do not fit in memory on this platform", want)
	}
	native := NativeByteOrder()
	img := &Image{header: hc}
	if hc.ByteOrder == native || hc.DataType.Size() == 1 {
		hc.ByteOrder = native
		if want == 0 {
			return img, nil // unreachable while sizes are >= 1, but mmap rejects length 0
		}
		img.pixels, img.unmap, err = mapFile(f, int(want))
		if err != nil {
			return nil, err
		}
		return img, nil
	}
	// ReadAt fills the whole buffer or fails, so it need not be zeroed.
	px, _ := pixelBuffers.get(int(want))
	if _, err := f.ReadAt(px, 0); err != nil {
		pixelBuffers.put(px)
		return nil, fmt.Errorf("read pixels: %w", err)
	}
	swapBytes(px, hc.DataType.Size())
	hc.ByteOrder = native
	img.pixels, img.pooled = px, true
	return img, nil
}

// Open reads the header at path and maps its first pixel file, which must
// be in the same directory. The pixel file is opened through os.Root, so a
// symbolic link that points outside the directory is refused.
func Open(path string) (*Image, error) {
	img, err := open(path)
	if err != nil {
		return nil, fmt.Errorf("omni: open %s: %w", path, err)
	}
	return img, nil
}

func open(path string) (*Image, error) {
	data, err := readHeaderFile(path)
	if err != nil {
		return nil, err
	}
	h, err := parseHeader(data)
	if err != nil {
		return nil, err
	}
	if len(h.PixelFiles) == 0 {
		return nil, fieldErrorf("pixel_files", "empty, so there are no pixels to open")
	}
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(h.PixelFiles[0])
	if err != nil {
		return nil, fmt.Errorf("open pixel file: %w", err)
	}
	defer f.Close()
	img, err := mapImage(h, f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", h.PixelFiles[0], err)
	}
	return img, nil
}

func readHeaderFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Read one byte past the limit so an oversized file is detected
	// without reading all of it.
	data, err := io.ReadAll(io.LimitReader(f, MaxHeaderBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxHeaderBytes {
		return nil, fmt.Errorf("header file is larger than %d bytes", MaxHeaderBytes)
	}
	return data, nil
}

// WritePixels writes the pixels, in the byte order of Header().ByteOrder,
// to w; together with Header().WriteTo this stores an image anywhere, such
// as an object store.
func (img *Image) WritePixels(w io.Writer) (int64, error) {
	p := img.Pixels()
	if p == nil && img.header.PixelBytes() > 0 {
		return 0, errors.New("omni: write pixels: image is closed")
	}
	n, err := io.Copy(w, bytes.NewReader(p))
	if err != nil {
		return n, fmt.Errorf("omni: write pixels: %w", err)
	}
	return n, nil
}

// Write stores img as name+".omni" and name+".raw" in dir, replacing any
// existing files of those names. Each file is written to a temporary file
// and renamed, pixels first, so a reader never sees a header whose pixel
// file is incomplete. The written header lists only name+".raw" as pixel
// file.
func Write(dir, name string, img *Image) error {
	if err := write(dir, name, img); err != nil {
		return fmt.Errorf("omni: write %s: %w", filepath.Join(dir, name+".omni"), err)
	}
	return nil
}

func write(dir, name string, img *Image) error {
	for _, n := range []string{name, name + ".omni", name + ".raw"} {
		if problem := checkBaseName(n); problem != "" {
			return fmt.Errorf("invalid image name: %s", problem)
		}
	}
	h := img.Header()
	h.PixelFiles = []string{name + ".raw"}
	header, err := h.Encode()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(dir, name+".raw", img.WritePixels); err != nil {
		return err
	}
	err = writeFileAtomic(dir, name+".omni", func(w io.Writer) (int64, error) {
		n, err := w.Write(header)
		return int64(n), err
	})
	if err != nil {
		return err
	}
	return syncDir(dir)
}

func writeFileAtomic(dir, name string, content func(io.Writer) (int64, error)) (err error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = content(f); err != nil {
		return err
	}
	// CreateTemp uses mode 0600; images are meant to be shared like any
	// other output file.
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, name))
}
