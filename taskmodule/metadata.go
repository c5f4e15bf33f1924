package taskmodule

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"

	"github.com/xfhost/xfhost/params"
)

// PackageFormat is the package_format of a task type package.
const PackageFormat = "XFP-TT1.0"

// MaxNameLength is the longest package name XamFlow accepts.
const MaxNameLength = 50

var (
	namePattern    = regexp.MustCompile(`^[a-zA-Z0-9.]+$`)
	versionPattern = regexp.MustCompile(`^[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}$`)
)

// Metadata is a task type's package metadata (XamFlow's metadata.json).
type Metadata struct {
	PackageFormat       string       `json:"package_format"`
	Name                string       `json:"name"`
	Version             string       `json:"version"`
	DisplayName         string       `json:"display_name,omitempty"`
	Summary             string       `json:"summary,omitempty"`
	DescriptionFilename string       `json:"description_filename,omitempty"`
	CitationCFFFilename string       `json:"citation_cff_filename,omitempty"`
	Remarks             string       `json:"remarks,omitempty"`
	Author              *Author      `json:"author,omitempty"`
	Dependencies        []Dependency `json:"dependencies,omitempty"`
}

// Author identifies who maintains a package.
type Author struct {
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
	Website string `json:"website,omitempty"`
}

// Dependency names another package, at an exact version, that a task type
// needs.
type Dependency struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ParseMetadata decodes and validates a metadata document. Unknown fields
// are rejected so that misspelt optional fields do not go unnoticed.
func ParseMetadata(data []byte) (*Metadata, error) {
	m, err := parseMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("taskmodule: metadata: %w", err)
	}
	return m, nil
}

func parseMetadata(data []byte) (*Metadata, error) {
	o, err := decodeDocument(data)
	if err != nil {
		return nil, err
	}
	if err := o.allow("package_format", "name", "version", "display_name", "summary",
		"description_filename", "citation_cff_filename", "remarks", "author", "dependencies"); err != nil {
		return nil, err
	}
	m := &Metadata{}
	strs := []struct {
		key      string
		dst      *string
		required bool
	}{
		{"package_format", &m.PackageFormat, true},
		{"name", &m.Name, true},
		{"version", &m.Version, true},
		{"display_name", &m.DisplayName, false},
		{"summary", &m.Summary, false},
		{"description_filename", &m.DescriptionFilename, false},
		{"citation_cff_filename", &m.CitationCFFFilename, false},
		{"remarks", &m.Remarks, false},
	}
	for _, s := range strs {
		if *s.dst, err = o.string(s.key, s.required); err != nil {
			return nil, err
		}
	}
	if m.PackageFormat != PackageFormat {
		return nil, errorAt("package_format", "must be %q for a task type, got %q", PackageFormat, m.PackageFormat)
	}
	if err := checkName("name", m.Name); err != nil {
		return nil, err
	}
	if err := checkVersion("version", m.Version); err != nil {
		return nil, err
	}
	for _, f := range []struct{ key, val string }{
		{"description_filename", m.DescriptionFilename},
		{"citation_cff_filename", m.CitationCFFFilename},
	} {
		if f.val == "" {
			continue
		}
		if err := params.ValidRef(f.val); err != nil {
			return nil, errorAt(f.key, "%v", err)
		}
	}
	if m.Author, err = parseAuthor(o); err != nil {
		return nil, err
	}
	if m.Dependencies, err = parseDependencies(o); err != nil {
		return nil, err
	}
	return m, nil
}

func checkName(path, name string) error {
	switch {
	case !namePattern.MatchString(name):
		return errorAt(path, "%q must consist of letters, digits and dots only", name)
	case len(name) > MaxNameLength:
		return errorAt(path, "%q is longer than %d characters", name, MaxNameLength)
	}
	return nil
}

func checkVersion(path, v string) error {
	if !versionPattern.MatchString(v) {
		return errorAt(path, "%q must have four numeric parts like \"1.10.9.0\"", v)
	}
	return nil
}

func parseAuthor(o *object) (*Author, error) {
	raw, ok, err := o.get("author", false)
	if err != nil || !ok {
		return nil, err
	}
	ao, err := decodeObject("author", raw)
	if err != nil {
		return nil, err
	}
	if err := ao.allow("name", "email", "website"); err != nil {
		return nil, err
	}
	a := &Author{}
	if a.Name, err = ao.string("name", false); err != nil {
		return nil, err
	}
	if a.Email, err = ao.string("email", false); err != nil {
		return nil, err
	}
	if a.Website, err = ao.string("website", false); err != nil {
		return nil, err
	}
	if a.Email != "" {
		if addr, err := mail.ParseAddress(a.Email); err != nil || addr.Address != a.Email {
			return nil, errorAt("author.email", "%q is not a plain e-mail address", a.Email)
		}
	}
	if a.Website != "" {
		u, err := url.Parse(a.Website)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errorAt("author.website", "%q is not an http(s) URL", a.Website)
		}
	}
	return a, nil
}

func parseDependencies(o *object) ([]Dependency, error) {
	elems, _, err := o.array("dependencies", false)
	if err != nil {
		return nil, err
	}
	var deps []Dependency
	for i, raw := range elems {
		path := fmt.Sprintf("dependencies[%d]", i)
		do, err := decodeObject(path, raw)
		if err != nil {
			return nil, err
		}
		if err := do.allow("name", "version"); err != nil {
			return nil, err
		}
		var d Dependency
		if d.Name, err = do.string("name", true); err != nil {
			return nil, err
		}
		if d.Version, err = do.string("version", true); err != nil {
			return nil, err
		}
		if err := checkName(path+".name", d.Name); err != nil {
			return nil, err
		}
		if err := checkVersion(path+".version", d.Version); err != nil {
			return nil, err
		}
		deps = append(deps, d)
	}
	return deps, nil
}
