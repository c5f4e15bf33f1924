package host

import (
	"crypto/rand"
	"encoding/binary"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/omni"
)

// A handle packs a kind (4 bits), a generation (12 bits) and a slot number
// plus one (16 bits). Generations start at a random value per job and
// advance on every close, so a closed handle, a handle of another job or a
// guessed number is rejected rather than aliasing a live object.
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
	gen   uint32
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
}

func newHandleTable() handleTable {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return handleTable{gen: binary.LittleEndian.Uint32(b[:]) & genMask}
}

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
	t.gen = (t.gen + 1) & genMask
	t.slots[slot] = handleSlot{gen: t.gen, image: im}
	return kindImage<<kindShift | t.gen<<genShift | uint32(slot+1), true
}

// image resolves a handle; status is INVALID_HANDLE for unknown or closed
// handles and TYPE_MISMATCH for live handles of another kind.
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
			im.img.Close()
		}
		t.slots[i] = handleSlot{}
	}
	t.free = nil
}
