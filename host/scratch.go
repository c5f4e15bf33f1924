package host

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
)

// scratchPool hands out empty per-job scratch directories. Creating and
// removing a directory costs more than the rest of a small job's host-side
// work on some file systems, so emptied directories are reused; a job
// always starts with an empty one.
type scratchPool struct {
	parent string
	mu     sync.Mutex
	idle   []string
}

const maxIdleScratch = 64

func (p *scratchPool) get() (string, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		dir := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return dir, nil
	}
	p.mu.Unlock()
	return os.MkdirTemp(p.parent, "xfhost-job-")
}

// put empties dir and keeps it for reuse, or removes it.
func (p *scratchPool) put(dir string) error {
	if err := emptyDir(dir); err != nil {
		return errors.Join(err, os.RemoveAll(dir))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) >= maxIdleScratch {
		return os.Remove(dir)
	}
	p.idle = append(p.idle, dir)
	return nil
}

// close removes the idle directories.
func (p *scratchPool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, d := range p.idle {
		errs = append(errs, os.RemoveAll(d))
	}
	p.idle = nil
	return errors.Join(errs...)
}

// emptyDir removes everything inside dir. os.RemoveAll does not follow
// symlinks, so a link a guest left behind cannot make it delete elsewhere.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
	}
	return errors.Join(errs...)
}
