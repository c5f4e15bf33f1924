//go:build unix

package omni

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOpenMapsPixelFile shows the pixels are a shared mapping of the file
// rather than a heap copy: a change to the file is visible through Pixels.
func TestOpenMapsPixelFile(t *testing.T) {
	dir := t.TempDir()
	h := validHeader()
	h.ByteOrder = NativeByteOrder()
	path := writeImageFiles(t, dir, "scan", h, make([]byte, h.PixelBytes()))
	img, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	f, err := os.OpenFile(filepath.Join(dir, "scan.raw"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{0xab}, 5); err != nil {
		t.Fatal(err)
	}
	if got := img.Pixels()[5]; got != 0xab {
		t.Errorf("pixel byte 5 = %#x after writing 0xab to the file; pixels are not mapped", got)
	}
}
