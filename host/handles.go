package host

import (
	"os"
	"sync/atomic"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/omni"
)

// A handle packs a kind (4 bits), a generation (12 bits) and a slot number
// plus one (16 bits). Tables are per job, so a handle can only ever name an
// object of the job that holds it. Generations come from one counter per
// host, so a closed handle, or a handle another job received within the
// last 4096 handles, is rejected instead of aliasing a live object.
const (
	kindImage  = 1
	maxHandles = 1<<16 - 1
	genMask    = 1<<12 - 1
	kindShift  = 28
	genShift   = 16
	slotMask   = 1<<16 - 1
)

type handleTable struct {
	slots []handleSlot
	free  []int
	gen   *atomic.Uint32 // shared by the host's jobs
}

type handleSlot struct {
	gen   uint32
	image *jobImage // nil when free
}

// jobImage is an image owned by a job: an opened input (read-only, mapped)
// or one the job created (writable, counted against its image quota).
type jobImage struct {
	img      *omni.Image
	writable bool
	bytes    int64 // counted against the job's image quota
	// source is the pixel file of a mapped input, kept open while the image
	// is: a download cache pins a file for as long as it is open, so a
	// mapped volume is never evicted under a running job.
	source *os.File
}

func (im *jobImage) close() {
	im.img.Close()
	if im.source != nil {
		im.source.Close()
	}
}

func newHandleTable(gen *atomic.Uint32) handleTable { return handleTable{gen: gen} }

func (t *handleTable) add(im *jobImage) (uint32, bool) {
	var slot int
	if n := len(t.free); n > 0 {
		slot, t.free = t.free[n-1], t.free[:n-1]
	} else {
		if len(t.slots) >= maxHandles {
			return 0, false
		}
		slot = len(t.slots)
		t.slots = append(t.slots, handleSlot{})
	}
	gen := t.gen.Add(1) & genMask
	t.slots[slot] = handleSlot{gen: gen, image: im}
	return kindImage<<kindShift | gen<<genShift | uint32(slot+1), true
}

// image resolves a handle; status is INVALID_HANDLE for unknown, closed
// or foreign handles. (Images are the only kind of handle in ABI 1.0; a
// live handle of another kind will give TYPE_MISMATCH.)
func (t *handleTable) image(h uint32) (*jobImage, abi.Status) {
	slot := int(h&slotMask) - 1
	if h>>kindShift != kindImage {
		return nil, abi.InvalidHandle
	}
	if slot < 0 || slot >= len(t.slots) {
		return nil, abi.InvalidHandle
	}
	s := t.slots[slot]
	if s.image == nil || s.gen != (h>>genShift)&genMask {
		return nil, abi.InvalidHandle
	}
	return s.image, abi.OK
}

func (t *handleTable) remove(h uint32) (*jobImage, abi.Status) {
	im, st := t.image(h)
	if st != abi.OK {
		return nil, st
	}
	slot := int(h&slotMask) - 1
	t.slots[slot] = handleSlot{}
	t.free = append(t.free, slot)
	return im, abi.OK
}

func (t *handleTable) closeAll() {
	for i := range t.slots {
		if im := t.slots[i].image; im != nil {
			im.close()
		}
		t.slots[i] = handleSlot{}
	}
	t.free = nil
}
