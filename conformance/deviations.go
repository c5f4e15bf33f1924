package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/xfhost/xfhost/guests/hostile"
)

// Deviations is an engine's deviations file, deviations/<engine>.json:
// the tests it is known to fail and why. The goal is an empty list.
type Deviations struct {
	Engine     string      `json:"engine"`
	Deviations []Deviation `json:"deviations"`
}

// Deviation is one test an engine is expected to fail.
type Deviation struct {
	Test   string `json:"test"`
	Reason string `json:"reason"`
}

// LoadDeviations reads the deviations file of an engine; every engine
// needs one, even if it lists nothing.
func LoadDeviations(fsys fs.FS, engineName string) (*Deviations, error) {
	p := "deviations/" + engineName + ".json"
	data, err := fs.ReadFile(fsys, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("conformance: engine %s has no %s (write {\"engine\": %q, \"deviations\": []})", engineName, p, engineName)
	} else if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	var d Deviations
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("conformance: %s: %w", p, err)
	}
	if d.Engine != engineName {
		return nil, fmt.Errorf("conformance: %s is for engine %q", p, d.Engine)
	}
	if d.Deviations == nil {
		return nil, fmt.Errorf("conformance: %s: deviations must be a list, empty if there are none", p)
	}
	seen := map[string]bool{}
	for _, v := range d.Deviations {
		if strings.TrimSpace(v.Reason) == "" {
			return nil, fmt.Errorf("conformance: %s: deviation %q gives no reason", p, v.Test)
		}
		if seen[v.Test] {
			return nil, fmt.Errorf("conformance: %s: %q is listed twice", p, v.Test)
		}
		seen[v.Test] = true
	}
	return &d, nil
}

// check refuses deviations of tests that do not exist.
func (d *Deviations) check(tests []*Test, cases []*hostile.Case) error {
	known := map[string]bool{}
	for _, t := range tests {
		known[t.Name] = true
	}
	for _, c := range cases {
		known[HostilePrefix+c.Name] = true
	}
	for _, v := range d.Deviations {
		if !known[v.Test] && (len(cases) > 0 || !strings.HasPrefix(v.Test, HostilePrefix)) {
			return fmt.Errorf("conformance: deviations/%s.json lists %q, which is not a test", d.Engine, v.Test)
		}
	}
	return nil
}

func (d *Deviations) reason(test string) string {
	for _, v := range d.Deviations {
		if v.Test == test {
			return v.Reason
		}
	}
	return ""
}
