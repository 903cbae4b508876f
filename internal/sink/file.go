package sink

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

func init() {
	// A dry run must not create the file: validation checks the
	// directory and the permissions already.
	RegisterType(Type{Name: "file", Open: openFile, Validate: validateFile,
		Probe: func(_ context.Context, spec Spec, env Env) error { return validateFile(spec, env) }})
}

// maxFileBuffer is the largest batch buffer the file sink keeps between
// writes; a larger batch's buffer is dropped after its write.
const maxFileBuffer = 16 << 20

// fileSink is the "file" sink: it appends each batch's records (already
// newline-terminated NDJSON) to a local file with one write, and, with
// fsync on, acknowledges only after fsync. At-least-once: a crash between
// the write and the offset commit writes the batch again on restart.
//
// If a write or fsync fails, the file is reopened before the next write
// and cut back to its size before the failed batch (when it is still the
// same file and has grown), so that a retried batch does not follow a torn
// one.
type fileSink struct {
	path  string // as configured, for messages
	rel   string // the name to open: under root if root is set
	root  *os.Root
	fsync bool
	mode  fs.FileMode

	mu     sync.Mutex
	f      *os.File
	buf    []byte
	closed bool
	// After a failed write: the file as it was before it.
	broken   bool
	goodSize int64
	goodInfo fs.FileInfo
}

var _ Sink = (*fileSink)(nil)

// fileConfig is the file sink's settings, checked.
type fileConfig struct {
	path  string
	rel   string // relative to root when root is set, else = path
	root  *os.Root
	fsync bool
	mode  fs.FileMode
	// exists reports whether the file is already there.
	exists bool
}

// parseFile checks the settings and the path without creating anything.
// With env.FileRoot set it returns the opened root; the caller closes it.
func parseFile(spec Spec, env Env) (fileConfig, error) {
	s := NewSettings(spec)
	c := fileConfig{
		path:  s.String("path", true, ""),
		fsync: s.Bool("fsync", true),
		mode:  s.FileMode("mode", 0o644),
	}
	if err := s.Err(); err != nil {
		return c, err
	}
	c.rel = c.path
	stat := os.Stat
	if env.FileRoot != "" {
		rel := filepath.Clean(c.path)
		if filepath.IsAbs(rel) {
			root, err := filepath.Abs(env.FileRoot)
			if err == nil {
				rel, err = filepath.Rel(root, rel)
			}
			if err != nil {
				rel = ".."
			}
		}
		if !filepath.IsLocal(rel) {
			s.Fail("path", "must name a file inside the file sink directory")
			return c, s.Err()
		}
		root, err := os.OpenRoot(env.FileRoot)
		if err != nil {
			return c, fmt.Errorf("file sink: directory: %w", err)
		}
		c.rel, c.root, stat = rel, root, root.Stat
	}
	fail := func(msg string) (fileConfig, error) {
		if c.root != nil {
			c.root.Close()
			c.root = nil
		}
		s.Fail("path", msg)
		return c, s.Err()
	}
	dir := filepath.Dir(c.rel)
	switch fi, err := stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		return fail(fmt.Sprintf("directory %s does not exist", filepath.Dir(c.path)))
	case err != nil:
		return fail(fmt.Sprintf("directory %s: %v", filepath.Dir(c.path), unwrapPath(err)))
	case !fi.IsDir():
		return fail(fmt.Sprintf("%s is not a directory", filepath.Dir(c.path)))
	}
	switch fi, err := stat(c.rel); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fail(unwrapPath(err).Error())
	case fi.IsDir():
		return fail(fmt.Sprintf("%s is a directory", c.path))
	default:
		c.exists = true
	}
	return c, nil
}

// unwrapPath drops the path from an *fs.PathError (the message names the
// setting already, and under a root the path would be the relative one).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func validateFile(spec Spec, env Env) error {
	c, err := parseFile(spec, env)
	if c.root != nil {
		c.root.Close()
	}
	return err
}

func openFile(_ context.Context, spec Spec, env Env) (Sink, error) {
	c, err := parseFile(spec, env)
	if err != nil {
		return nil, err
	}
	s := &fileSink{path: c.path, rel: c.rel, root: c.root, fsync: c.fsync, mode: c.mode}
	if s.f, err = s.open(); err != nil {
		if s.root != nil {
			s.root.Close()
		}
		return nil, &ConfigError{Type: spec.Type, Field: "path", Message: "cannot open: " + unwrapPath(err).Error()}
	}
	if !c.exists && s.fsync {
		// Make the new directory entry durable too.
		if err := s.syncDir(); err != nil {
			s.f.Close()
			if s.root != nil {
				s.root.Close()
			}
			return nil, fmt.Errorf("file sink: sync directory of %s: %w", s.path, err)
		}
	}
	env.logger().Debug("file sink opened", "path", s.path, "fsync", s.fsync)
	return s, nil
}

func (s *fileSink) open() (*os.File, error) {
	const flags = os.O_WRONLY | os.O_APPEND | os.O_CREATE
	if s.root != nil {
		return s.root.OpenFile(s.rel, flags, s.mode)
	}
	return os.OpenFile(s.rel, flags, s.mode)
}

func (s *fileSink) syncDir() error {
	var d *os.File
	var err error
	if s.root != nil {
		d, err = s.root.Open(filepath.Dir(s.rel))
	} else {
		d, err = os.Open(filepath.Dir(s.rel))
	}
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Write appends the batch with one write call and, with fsync on, syncs
// the file before returning.
func (s *fileSink) Write(ctx context.Context, b *Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("file sink: %w", ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(b.Records) == 0 {
		return nil
	}
	if s.broken {
		if err := s.recover(); err != nil {
			return fmt.Errorf("file sink: reopen %s: %w", s.path, err)
		}
	}
	s.buf = s.buf[:0]
	for i := range b.Records {
		s.buf = append(s.buf, b.Records[i].Value...)
	}
	before, err := s.f.Stat()
	if err != nil {
		return fmt.Errorf("file sink: stat %s: %w", s.path, err)
	}
	// os.File.Write reports a short write as io.ErrShortWrite.
	if _, err := s.f.Write(s.buf); err != nil {
		s.fail(before)
		return fmt.Errorf("file sink: write %s: %w", s.path, err)
	}
	if s.fsync {
		if err := s.f.Sync(); err != nil {
			s.fail(before)
			return fmt.Errorf("file sink: fsync %s: %w", s.path, err)
		}
	}
	if cap(s.buf) > maxFileBuffer {
		s.buf = nil
	}
	return nil
}

// fail remembers the file as it was before a failed write.
func (s *fileSink) fail(before fs.FileInfo) {
	s.broken, s.goodSize, s.goodInfo = true, before.Size(), before
}

// recover reopens the file after a failed write and cuts off what the
// failed write left, if the file is the same one and has grown.
func (s *fileSink) recover() error {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	f, err := s.open()
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if os.SameFile(fi, s.goodInfo) && fi.Size() > s.goodSize {
		if err := f.Truncate(s.goodSize); err != nil {
			f.Close()
			return err
		}
		if s.fsync {
			if err := f.Sync(); err != nil {
				f.Close()
				return err
			}
		}
	}
	s.f, s.broken, s.goodInfo = f, false, nil
	return nil
}

// Close closes the file; every acknowledged batch is already written
// (and synced, with fsync on).
func (s *fileSink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.f = nil
	}
	if s.root != nil {
		if rerr := s.root.Close(); err == nil {
			err = rerr
		}
	}
	s.buf = nil
	if err != nil {
		return fmt.Errorf("file sink: close %s: %w", s.path, err)
	}
	return nil
}
