package taskmodule

import (
	"fmt"
	"strconv"
	"strings"
)

// markerPrefix starts the name of the export by which a guest declares the
// host ABI version it was built against. Encoding the version in an export
// name (as proxy-wasm does) lets the host read it without running any guest
// code.
const markerPrefix = "xf_abi_version_"

// Version is a host ABI version.
type Version struct{ Major, Minor int }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// MarkerName returns the export name declaring ABI version v, e.g.
// "xf_abi_version_1_0". Major and Minor must not be negative.
func MarkerName(v Version) string {
	return fmt.Sprintf("%s%d_%d", markerPrefix, v.Major, v.Minor)
}

// ParseMarker reports whether exportName is an ABI version marker and which
// version it declares. Only the canonical form MarkerName produces is
// accepted: decimal numbers without sign or leading zeros.
func ParseMarker(exportName string) (Version, bool) {
	rest, ok := strings.CutPrefix(exportName, markerPrefix)
	if !ok {
		return Version{}, false
	}
	major, minor, ok := strings.Cut(rest, "_")
	if !ok {
		return Version{}, false
	}
	maj, ok1 := parseVersionPart(major)
	mnr, ok2 := parseVersionPart(minor)
	if !ok1 || !ok2 {
		return Version{}, false
	}
	return Version{Major: maj, Minor: mnr}, true
}

func parseVersionPart(s string) (int, bool) {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}
