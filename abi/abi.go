// Package abi is the single source of truth for the xfhost guest ABI: the
// import functions, their signatures and status codes, and the version
// marker a guest exports. The definition lives in abi.json; the host's
// registration table, the guest bindings and the function table of ABI.md
// are generated from it or checked against it.
package abi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

//go:generate go run ./internal/abigen -root ..

//go:embed abi.json
var definition []byte

// Definition returns the raw machine-readable ABI definition (abi.json).
func Definition() []byte { return append([]byte(nil), definition...) }

// Spec is the parsed ABI definition.
type Spec struct {
	Version      Version         `json:"-"`
	VersionText  string          `json:"version"`
	MarkerPrefix string          `json:"marker_prefix"`
	Statuses     []StatusDef     `json:"statuses"`
	Types        map[string]Type `json:"types"`
	// Capabilities name groups of imports that a host policy grants.
	Capabilities map[string]string `json:"capabilities"`
	Functions    []Function        `json:"functions"`
	byName       map[string]*Function
}

// StatusDef documents one status code.
type StatusDef struct {
	Code uint32 `json:"code"`
	Name string `json:"name"`
	Doc  string `json:"doc"`
}

// Type is an ABI-level parameter type and the Wasm value type carrying it.
type Type struct {
	Wasm string `json:"wasm"`
	Doc  string `json:"doc"`
}

// Param is one parameter of an import: its name and ABI type.
type Param struct {
	Name string
	Type string
}

// UnmarshalJSON reads a parameter written as ["name", "type"].
func (p *Param) UnmarshalJSON(b []byte) error {
	var pair []string
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	if len(pair) != 2 {
		return fmt.Errorf("parameter must be [name, type], got %d elements", len(pair))
	}
	p.Name, p.Type = pair[0], pair[1]
	return nil
}

// Function is one host import.
type Function struct {
	Module string `json:"module"`
	Name   string `json:"name"`
	Since  string `json:"since"`
	// Capability names the group of imports a policy grants together.
	Capability string   `json:"capability"`
	Params     []Param  `json:"params"`
	Statuses   []string `json:"statuses"`
	Doc        string   `json:"doc"`
}

// QualifiedName is "module.name".
func (f *Function) QualifiedName() string { return f.Module + "." + f.Name }

// Version is an ABI version. Minor versions only add functions, so a host
// implementing M.n runs guests built for M.k with k <= n.
type Version struct{ Major, Minor int }

func (v Version) String() string { return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor) }

// Supports reports whether a host implementing v can run a guest built for g.
func (v Version) Supports(g Version) bool { return v.Major == g.Major && g.Minor <= v.Minor }

// ParseVersion parses "major.minor".
func ParseVersion(s string) (Version, error) {
	maj, min, ok := strings.Cut(s, ".")
	if !ok {
		return Version{}, fmt.Errorf("abi version %q: want major.minor", s)
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil || a < 0 || b < 0 {
		return Version{}, fmt.Errorf("abi version %q: want major.minor", s)
	}
	return Version{a, b}, nil
}

// Load parses the embedded definition. It fails only if abi.json is broken,
// which the package's tests rule out.
func Load() (*Spec, error) { return Parse(definition) }

// MustLoad is Load for initialisation paths where a broken embedded
// definition is a programming error.
func MustLoad() *Spec {
	s, err := Load()
	if err != nil {
		panic(err)
	}
	return s
}

// Parse parses and checks an ABI definition.
func Parse(data []byte) (*Spec, error) {
	var s Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("abi: parse definition: %w", err)
	}
	v, err := ParseVersion(s.VersionText)
	if err != nil {
		return nil, fmt.Errorf("abi: %w", err)
	}
	s.Version = v
	statuses := map[string]bool{}
	for i, st := range s.Statuses {
		if st.Code != uint32(i) {
			return nil, fmt.Errorf("abi: status %s has code %d, want %d (codes are dense)", st.Name, st.Code, i)
		}
		statuses[st.Name] = true
	}
	s.byName = map[string]*Function{}
	for i := range s.Functions {
		f := &s.Functions[i]
		q := f.QualifiedName()
		if _, dup := s.byName[q]; dup {
			return nil, fmt.Errorf("abi: function %s defined twice", q)
		}
		if f.Module != "xf" && f.Module != "clip" {
			return nil, fmt.Errorf("abi: function %s: unknown module %q", q, f.Module)
		}
		sv, err := ParseVersion(f.Since)
		if err != nil || !v.Supports(sv) {
			return nil, fmt.Errorf("abi: function %s: since %q is not within version %s", q, f.Since, v)
		}
		if _, ok := s.Capabilities[f.Capability]; !ok {
			return nil, fmt.Errorf("abi: function %s: unknown capability %q", q, f.Capability)
		}
		for _, p := range f.Params {
			if _, ok := s.Types[p.Type]; !ok {
				return nil, fmt.Errorf("abi: function %s: parameter %s has unknown type %q", q, p.Name, p.Type)
			}
		}
		for _, name := range f.Statuses {
			if !statuses[name] {
				return nil, fmt.Errorf("abi: function %s: unknown status %q", q, name)
			}
		}
		s.byName[q] = f
	}
	return &s, nil
}

// Function looks up an import by module and name.
func (s *Spec) Function(module, name string) (*Function, bool) {
	f, ok := s.byName[module+"."+name]
	return f, ok
}

// WasmParams returns the Wasm value types ("i32", "f64", ...) of f's parameters.
func (s *Spec) WasmParams(f *Function) []string {
	out := make([]string, len(f.Params))
	for i, p := range f.Params {
		out[i] = s.Types[p.Type].Wasm
	}
	return out
}

// Marker is the name of the export that declares the guest's ABI version.
func (s *Spec) Marker(v Version) string {
	return fmt.Sprintf("%s%d_%d", s.MarkerPrefix, v.Major, v.Minor)
}

// ParseMarker reports the version an export name declares, if it is a marker.
func (s *Spec) ParseMarker(export string) (Version, bool) {
	rest, ok := strings.CutPrefix(export, s.MarkerPrefix)
	if !ok {
		return Version{}, false
	}
	v, err := ParseVersion(strings.Replace(rest, "_", ".", 1))
	if err != nil || strings.Contains(rest[strings.IndexByte(rest, '_')+1:], "_") {
		return Version{}, false
	}
	return v, true
}

func itoa(u uint32) string { return strconv.FormatUint(uint64(u), 10) }
