package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/internal/guestscript"
)

// Uncoverable is a status abi.json lists for an import that no test can
// provoke through a real host, with the reason (uncoverable.json).
type Uncoverable struct {
	Import string `json:"import"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// LoadUncoverable reads uncoverable.json.
func LoadUncoverable(fsys fs.FS) ([]Uncoverable, error) {
	data, err := fs.ReadFile(fsys, "uncoverable.json")
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	var u []Uncoverable
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		return nil, fmt.Errorf("conformance: uncoverable.json: %w", err)
	}
	return u, nil
}

// CheckCoverage returns every gap in the suite's coverage of the ABI:
// an import no test calls, a status abi.json lists for an import that no
// test expects from it (unless it is uncoverable, with a reason), a
// status code no test expects at all, an expected status abi.json does
// not allow for the import, and uncoverable entries that are wrong or
// stale. Only calls that run count: not those of a module refused at
// load, nor those after the guest stopped.
func CheckCoverage(s *abi.Spec, tests []*Test, uncoverable []Uncoverable) []string {
	var gaps []string
	called := map[string]bool{}
	covered := map[[2]string]bool{}
	codes := map[string]bool{}
	for _, t := range tests {
		if t.Expect.LoadError != "" {
			continue
		}
		calls, err := guestscript.ExpectedCalls(s, t.Calls)
		if err != nil {
			gaps = append(gaps, fmt.Sprintf("%s: %v", t.Name, err))
			continue
		}
		for _, c := range calls {
			called[c.Import] = true
			if c.Stopped {
				continue
			}
			name := c.Status.String()
			mod, fn, _ := strings.Cut(c.Import, ".")
			f, ok := s.Function(mod, fn)
			if !ok {
				gaps = append(gaps, fmt.Sprintf("%s calls %s, which abi.json does not define", t.Name, c.Import))
				continue
			}
			// Any import may return INTERNAL; LIMIT_EXCEEDED where a host
			// limit applies (ABI.md §7).
			if !slices.Contains(f.Statuses, name) && c.Status != abi.Internal && c.Status != abi.LimitExceeded {
				gaps = append(gaps, fmt.Sprintf("%s expects %s from %s, which abi.json does not list for it", t.Name, name, c.Import))
			}
			covered[[2]string{c.Import, name}] = true
			codes[name] = true
		}
	}
	excused := map[[2]string]bool{}
	for _, u := range uncoverable {
		key := [2]string{u.Import, u.Status}
		mod, fn, _ := strings.Cut(u.Import, ".")
		f, ok := s.Function(mod, fn)
		switch {
		case !ok:
			gaps = append(gaps, fmt.Sprintf("uncoverable.json names %s, which abi.json does not define", u.Import))
		case !slices.Contains(f.Statuses, u.Status):
			gaps = append(gaps, fmt.Sprintf("uncoverable.json names %s %s, which abi.json does not list", u.Import, u.Status))
		case strings.TrimSpace(u.Reason) == "":
			gaps = append(gaps, fmt.Sprintf("uncoverable.json gives no reason for %s %s", u.Import, u.Status))
		case covered[key]:
			gaps = append(gaps, fmt.Sprintf("uncoverable.json lists %s %s, which a test covers: remove the entry", u.Import, u.Status))
		}
		excused[key] = true
	}
	for i := range s.Functions {
		f := &s.Functions[i]
		q := f.QualifiedName()
		if !called[q] {
			gaps = append(gaps, fmt.Sprintf("no test calls %s", q))
			continue
		}
		for _, st := range f.Statuses {
			if key := [2]string{q, st}; !covered[key] && !excused[key] {
				gaps = append(gaps, fmt.Sprintf("no test expects %s from %s", st, q))
			}
		}
	}
	for _, st := range s.Statuses {
		if !codes[st.Name] {
			gaps = append(gaps, fmt.Sprintf("no test expects status %s from any import", st.Name))
		}
	}
	return gaps
}
