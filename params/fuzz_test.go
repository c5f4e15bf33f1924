package params

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func FuzzValidate(f *testing.F) {
	f.Add("Int", "1e3")
	f.Add("Float", "-0.5")
	f.Add("Image", image)
	f.Add("Snapshot", `{"type":"Snapshot","bitmap":{"type":"Bitmap","filename":"s.png"},"video":{"type":"Video","filename":"v.mp4"}}`)
	f.Add("ImagePairList", `{"type":"ImagePairList","pairs":[[`+image+`,`+image+`]]}`)
	f.Add("ForeignFile", `{"type":"ForeignFile","source":"userdata","virtualpath":"/x","filename":"a"}`)
	f.Add("Image", `{"type":"Image","type":"Image"}`)
	f.Fuzz(func(t *testing.T, typ, in string) {
		err := Validate(typ, json.RawMessage(in))
		if err != nil {
			if !errors.Is(err, ErrInvalidJSON) && !errors.Is(err, ErrTypeMismatch) && !errors.Is(err, ErrUnknownType) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			valid := json.Valid([]byte(in))
			switch {
			case errors.Is(err, ErrTypeMismatch) && !valid:
				t.Fatalf("syntactically invalid input reported as type mismatch: %v", err)
			case errors.Is(err, ErrInvalidJSON) && valid && !strings.Contains(err.Error(), "duplicate key"):
				t.Fatalf("valid JSON reported as invalid: %v", err)
			}
			return
		}
		refs, err := FileRefs(typ, json.RawMessage(in))
		if err != nil {
			t.Fatalf("FileRefs failed on a valid value: %v", err)
		}
		for _, r := range refs {
			if ValidRef(r) != nil {
				t.Fatalf("FileRefs returned invalid reference %q", r)
			}
		}
	})
}
