//go:build !wasip1

// Package hostile is the hostile-guest corpus and the code that runs it:
// one directory per case, each with a guest that attacks the host and a
// declarative case.json saying how the host must end its job (see
// README.md). `go test ./guests/hostile` and `xfhost conformance host` both
// run the corpus through this package, the latter on any engine.
package hostile

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/guestbuild"
	"github.com/xfhost/xfhost/internal/wasmfile"
	"github.com/xfhost/xfhost/policy"
	"github.com/xfhost/xfhost/taskmodule"
)

// files holds what running the corpus needs besides Go sources: every
// case.json and committed module (and any metadata or interface file a
// case names).
//
//go:embed */*.json */*.wasm
var files embed.FS

// Files returns the corpus embedded in the binary.
func Files() fs.FS { return files }

// Case is one case.json.
type Case struct {
	// Name is the case's directory, e.g. "log-spam".
	Name        string `json:"-"`
	Description string `json:"description"`
	// Source is "go" (a wasip1 main package in the case directory), "wasm"
	// (a committed module, built from the .wat next to it) or "generated"
	// (a module too big to commit, assembled by the named generator).
	Source    string `json:"source"`
	Wasm      string `json:"wasm"`
	Generator string `json:"generator"`
	// Metadata and Interface are inline JSON objects or names of files in
	// the case directory; by default the task type is Hostile.<CaseName>
	// with no inputs or outputs.
	Metadata  json.RawMessage `json:"metadata"`
	Interface json.RawMessage `json:"interface"`
	// Inputs are the job's inputs; the string "$volume" stands for the
	// Image input of a small synthetic volume.
	Inputs json.RawMessage `json:"inputs"`
	// Policy overrides policy.Limits for this task type.
	Policy json.RawMessage `json:"policy"`
	// KnownIssue, when set, says why the host does not meet the
	// expectation yet; such a case runs only when asked to.
	KnownIssue string `json:"known_issue"`
	// Engines, when set, lists the engines the attack applies to (e.g. one
	// engine's compiler); on others the case is skipped.
	Engines []string    `json:"engines"`
	Expect  Expectation `json:"expect"`
}

// Expectation is how the job must end. Regular expressions match anywhere
// unless anchored.
type Expectation struct {
	// LoadError: the module must be refused at load with a matching error.
	LoadError string `json:"load_error"`
	// State "done" or "failed"; Error matches the job's error (must be
	// empty when done).
	State string `json:"state"`
	Error string `json:"error"`
	// Log: each expression must match some log line, written
	// "source: message".
	Log []string `json:"log"`
	// Statuses maps labels to the status (or errno) the guest reported
	// in a log line "status <label>: <STATUS>".
	Statuses map[string]string `json:"statuses"`
	// Outputs match each output's JSON.
	Outputs map[string]string `json:"outputs"`
	// MaxDuration bounds the job's wall-clock time, load included.
	MaxDuration policy.Duration `json:"max_duration"`
	// AbsentHostPaths must not exist on the host after the job.
	AbsentHostPaths []string `json:"absent_host_paths"`
}

// Load reads every case of the corpus in fsys (directories holding a
// case.json), sorted by name.
func Load(fsys fs.FS) ([]*Case, error) {
	paths, err := fs.Glob(fsys, "*/case.json")
	if err != nil {
		return nil, fmt.Errorf("hostile: list cases: %w", err)
	}
	if len(paths) == 0 {
		return nil, errors.New("hostile: no */case.json in the corpus")
	}
	slices.Sort(paths)
	var cases []*Case
	for _, p := range paths {
		c, err := ReadCase(fsys, path.Dir(p))
		if err != nil {
			return nil, err
		}
		cases = append(cases, c)
	}
	return cases, nil
}

// ReadCase reads and checks one case.json.
func ReadCase(fsys fs.FS, name string) (*Case, error) {
	data, err := fs.ReadFile(fsys, name+"/case.json")
	if err != nil {
		return nil, fmt.Errorf("hostile: %w", err)
	}
	c := Case{Name: name}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("hostile: %s/case.json: %w", name, err)
	}
	if c.Description == "" {
		return nil, fmt.Errorf("hostile: %s/case.json: no description", name)
	}
	e := c.Expect
	if (e.LoadError == "") == (e.State == "") {
		return nil, fmt.Errorf("hostile: %s/case.json: expect needs exactly one of load_error and state", name)
	}
	if e.State != "" && e.State != string(host.Done) && e.State != string(host.Failed) {
		return nil, fmt.Errorf("hostile: %s/case.json: expect.state %q is neither done nor failed", name, e.State)
	}
	if e.State == string(host.Failed) && e.Error == "" {
		return nil, fmt.Errorf("hostile: %s/case.json: a failed job needs an expected error message", name)
	}
	switch c.Source {
	case "go", "wasm":
	case "generated":
		if _, ok := generators[c.Generator]; !ok {
			return nil, fmt.Errorf("hostile: %s/case.json: unknown generator %q", name, c.Generator)
		}
	default:
		return nil, fmt.Errorf("hostile: %s/case.json: unknown source %q (want go, wasm or generated)", name, c.Source)
	}
	return &c, nil
}

// DefaultTaskType turns a case name like "log-spam" into Hostile.LogSpam,
// the task type of a case whose metadata does not name one.
func DefaultTaskType(name string) string {
	var b strings.Builder
	b.WriteString("Hostile.")
	for part := range strings.SplitSeq(name, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// ErrNoGo is returned for a Go case when its sources or a Go toolchain
// are not available.
var ErrNoGo = errors.New("a Go case needs the xfhost source tree and a Go toolchain")

// Sources say where a case's module comes from.
type Sources struct {
	// FS holds the case directories (Files(), or the directory on disk).
	FS fs.FS
	// GoDir is the case directories on disk, for Go cases, which are
	// built with `go build`; empty when they are not available.
	GoDir string
	// OutDir receives Go builds.
	OutDir string
}

// GoSources returns the directory of the corpus in the source tree that
// contains the working directory, if there is one and a Go toolchain is
// installed, or the reason why not.
func GoSources() (string, error) {
	if _, err := exec.LookPath("go"); err != nil {
		return "", fmt.Errorf("%w: no go command on PATH", ErrNoGo)
	}
	root, err := guestbuild.ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoGo, err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.HasPrefix(mod, []byte("module github.com/xfhost/xfhost\n")) {
		return "", fmt.Errorf("%w: %s is not the xfhost source tree", ErrNoGo, root)
	}
	return filepath.Join(root, "guests", "hostile"), nil
}

// Module builds a case's task module, with its metadata and interface.
func (c *Case) Module(ctx context.Context, src Sources) ([]byte, error) {
	var wasm []byte
	var err error
	switch c.Source {
	case "go":
		if src.GoDir == "" {
			return nil, ErrNoGo
		}
		abs, aerr := filepath.Abs(filepath.Join(src.GoDir, c.Name))
		if aerr != nil {
			return nil, aerr
		}
		wasm, err = guestbuild.Package(ctx, src.OutDir, abs)
	case "wasm":
		wasm, err = fs.ReadFile(src.FS, c.Name+"/"+c.Wasm)
	case "generated":
		wasm, err = generators[c.Generator]()
	}
	if err != nil {
		return nil, fmt.Errorf("hostile: %s: %w", c.Name, err)
	}
	meta, err := c.document(src.FS, c.Metadata, fmt.Sprintf(`{"package_format":"XFP-TT1.0","name":%q,"version":"1.0.0.0"}`, DefaultTaskType(c.Name)))
	if err != nil {
		return nil, fmt.Errorf("hostile: %s: metadata: %w", c.Name, err)
	}
	iface, err := c.document(src.FS, c.Interface, `{"inputs":[],"outputs":[]}`)
	if err != nil {
		return nil, fmt.Errorf("hostile: %s: interface: %w", c.Name, err)
	}
	if packed, err := taskmodule.Pack(wasm, meta, iface); err == nil {
		return packed, nil
	}
	// Pack refuses modules that are not valid task modules, which some
	// cases are on purpose; their documents go in unchecked.
	if wasm, err = wasmfile.SetCustomSection(wasm, taskmodule.MetadataSection, meta); err != nil {
		return nil, fmt.Errorf("hostile: %s: %w", c.Name, err)
	}
	if wasm, err = wasmfile.SetCustomSection(wasm, taskmodule.InterfaceSection, iface); err != nil {
		return nil, fmt.Errorf("hostile: %s: %w", c.Name, err)
	}
	return wasm, nil
}

// document returns an inline JSON object, the contents of the file in the
// case directory a JSON string names, or def.
func (c *Case) document(fsys fs.FS, raw json.RawMessage, def string) ([]byte, error) {
	var name string
	switch {
	case len(raw) == 0:
		return []byte(def), nil
	case json.Unmarshal(raw, &name) == nil:
		return fs.ReadFile(fsys, c.Name+"/"+name)
	}
	return raw, nil
}

// BuildAll builds the modules of cases, Go cases in parallel. A case that
// cannot be built gets an error instead (ErrNoGo for Go cases without
// GoDir).
func BuildAll(ctx context.Context, cases []*Case, src Sources) (map[string][]byte, map[string]error) {
	var mu sync.Mutex
	modules, errs := map[string][]byte{}, map[string]error{}
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Go(func() {
			wasm, err := c.Module(ctx, src)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[c.Name] = err
			} else {
				modules[c.Name] = wasm
			}
		})
	}
	wg.Wait()
	return modules, errs
}
