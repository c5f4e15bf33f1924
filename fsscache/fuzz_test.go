package fsscache

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeEntry checks that no entry file, however damaged, panics the
// decoder or yields an entry that could point outside blobs/.
func FuzzDecodeEntry(f *testing.F) {
	good, _ := json.Marshal(Entry{Name: "n", Ref: "a/b", ETag: `"sha256:00"`, SHA256: sha([]byte("x")), Size: 1})
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"ref":"../x","etag":"e","sha256":"` + sha(nil) + `","size":1}`))
	f.Add([]byte(`{"ref":"a","etag":"e","sha256":"../../etc/passwd","size":1}`))
	f.Add([]byte(`{"ref":"a","etag":"e","sha256":"` + sha(nil) + `","size":-5}`))
	f.Add([]byte(`[1,2`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeEntry(data)
		if err != nil {
			return
		}
		if !isHexDigest(e.SHA256) || e.Size < 0 || e.ETag == "" || e.Ref == "" {
			t.Fatalf("accepted %+v", e)
		}
	})
}

// FuzzDecodeSidecar does the same for resume sidecars.
func FuzzDecodeSidecar(f *testing.F) {
	f.Add([]byte(`{"ref":"a","etag":"\"x\"","size":10,"offset":4}`))
	f.Add([]byte(`{"ref":"a","etag":"\"x\"","size":10,"offset":40}`))
	f.Add([]byte(`{"offset":-1}`))
	f.Add([]byte(`{"sha256":"XYZ"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeSidecar(data)
		if err != nil {
			return
		}
		if s.Offset < 0 || (s.Size >= 0 && s.Offset > s.Size) || (s.SHA256 != "" && !isHexDigest(s.SHA256)) {
			t.Fatalf("accepted %+v", s)
		}
	})
}
