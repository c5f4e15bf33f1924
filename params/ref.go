package params

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ValidRef checks an FSS file reference: a relative, slash-separated path
// in canonical form. References are resolved against a job's storage root
// by the host, so anything that could climb out of it (leading '/', '..')
// or mean different files on different systems ('\\', empty or '.'
// elements, NUL) is rejected.
func ValidRef(ref string) error {
	switch {
	case ref == "":
		return errors.New("file reference is empty")
	case !utf8.ValidString(ref):
		return errors.New("file reference is not valid UTF-8")
	case strings.ContainsRune(ref, 0):
		return errors.New("file reference contains a NUL byte")
	case strings.ContainsRune(ref, '\\'):
		return errors.New(`file reference contains '\'; use '/' as separator`)
	case strings.HasPrefix(ref, "/"):
		return errors.New("file reference must be relative (no leading '/')")
	}
	for elem := range strings.SplitSeq(ref, "/") {
		switch elem {
		case "":
			return errors.New("file reference contains an empty path element")
		case ".":
			return errors.New("file reference contains a '.' path element")
		case "..":
			return errors.New("file reference contains a '..' path element")
		}
	}
	return nil
}
