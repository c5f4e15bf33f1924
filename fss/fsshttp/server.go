package fsshttp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/xfhost/xfhost/fss"
)

// filesPrefix is the URL path under which refs live.
const filesPrefix = "/files/"

// ServerOptions configures a Server.
type ServerOptions struct {
	// Token, when non-empty, is the bearer token every request must carry.
	// Empty means no authentication: only for trusted networks.
	Token string
	// Logger receives one record per request (errors at Error, refused
	// authentication at Warn, the rest at Debug). Nil discards.
	Logger *slog.Logger
}

// Server serves an fss.Dir over the protocol described in the package
// comment. It is an http.Handler and safe for concurrent use.
type Server struct {
	store    *fss.Dir
	hasToken bool
	// tokenSum is compared instead of the token itself so that the
	// comparison takes the same time whatever the length of the guess.
	tokenSum [sha256.Size]byte
	log      *slog.Logger
	index    *digestIndex

	head, getFull, getRange, put, errs, bytesSent atomic.Int64
}

// Stats counts what a Server has answered since it was created.
type Stats struct {
	Head      int64 // HEAD requests answered 200
	GetFull   int64 // GET requests answered 200: whole-file downloads
	GetRange  int64 // GET requests answered 206: partial downloads
	Put       int64 // PUT requests that stored a file
	Errors    int64 // responses with a status of 400 or more
	BytesSent int64 // response body bytes written
	Hashes    int64 // full reads of a file to compute its digest
}

// NewServer returns a handler serving store. The store stays owned by the
// caller, who closes it after the server has stopped.
func NewServer(store *fss.Dir, opt ServerOptions) *Server {
	s := &Server{store: store, log: opt.Logger, index: newDigestIndex()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opt.Token != "" {
		s.hasToken = true
		s.tokenSum = sha256.Sum256([]byte(opt.Token))
	}
	return s
}

// Stats returns a snapshot of the request counters.
func (s *Server) Stats() Stats {
	return Stats{
		Head:      s.head.Load(),
		GetFull:   s.getFull.Load(),
		GetRange:  s.getRange.Load(),
		Put:       s.put.Load(),
		Errors:    s.errs.Load(),
		BytesSent: s.bytesSent.Load(),
		Hashes:    s.index.hashes.Load(),
	}
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	defer func() { s.account(r, sw, time.Since(start)) }()

	// Authentication comes first so that an unauthenticated caller learns
	// nothing, not even which refs are valid.
	if !s.authorized(r) {
		sw.Header().Set("WWW-Authenticate", `Bearer realm="fss"`)
		http.Error(sw, "fsshttp: missing or invalid bearer token", http.StatusUnauthorized)
		return
	}
	ref, ok := strings.CutPrefix(r.URL.Path, filesPrefix)
	if !ok {
		http.Error(sw, fmt.Sprintf("fsshttp: no such endpoint %q: files are under %s<ref>", r.URL.Path, filesPrefix), http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut:
	default:
		sw.Header().Set("Allow", "GET, HEAD, PUT")
		http.Error(sw, fmt.Sprintf("fsshttp: method %s not allowed", r.Method), http.StatusMethodNotAllowed)
		return
	}
	// The URL path is already percent-decoded, so "%2e%2e" arrives as ".."
	// and is refused here like a literal one.
	if err := fss.ValidRef(ref); err != nil {
		http.Error(sw, "fsshttp: "+err.Error(), http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodPut {
		s.servePut(sw, r, ref)
		return
	}
	s.serveFile(sw, r, ref)
}

func (s *Server) authorized(r *http.Request) bool {
	if !s.hasToken {
		return true
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimLeft(token, " ")))
	return subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) == 1
}

// serveFile answers GET and HEAD. Range, If-Range and the other
// conditional headers are left to http.ServeContent, which honours them
// once the ETag header is set.
func (s *Server) serveFile(w *statusWriter, r *http.Request, ref string) {
	op := strings.ToLower(r.Method)
	f, err := s.store.Fetch(r.Context(), ref)
	if err != nil {
		s.fail(w, r, op, ref, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.fail(w, r, op, ref, err)
		return
	}
	sum, err := s.index.digest(r.Context(), ref, f, fi)
	if err != nil {
		s.fail(w, r, op, ref, err)
		return
	}
	h := w.Header()
	h.Set("ETag", etagFor(sum[:]))
	h.Set("Repr-Digest", formatReprDigest(sum[:]))
	h.Set("Accept-Ranges", "bytes")
	// Set explicitly so ServeContent does not read the file to sniff it.
	h.Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// errBodyDigest is what verifyingReader returns instead of io.EOF when the
// body does not match the digest the client announced; it makes Dir.Put
// abandon the temporary file, so nothing is stored.
var errBodyDigest = errors.New("body does not match Repr-Digest")

type verifyingReader struct {
	r    io.Reader
	h    hash.Hash
	want []byte
	got  []byte
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		v.got = v.h.Sum(nil)
		if subtle.ConstantTimeCompare(v.got, v.want) != 1 {
			return n, errBodyDigest
		}
	}
	return n, err
}

func (s *Server) servePut(w *statusWriter, r *http.Request, ref string) {
	const op = "put"
	want, ok, err := reprDigestSHA256(r.Header.Get("Repr-Digest"))
	if err != nil {
		http.Error(w, fmt.Sprintf("fsshttp: put %q: %v", ref, err), http.StatusBadRequest)
		return
	}
	var body io.Reader = r.Body
	var vr *verifyingReader
	if ok {
		vr = &verifyingReader{r: r.Body, h: sha256.New(), want: want}
		body = vr
	}
	info, err := s.store.Put(r.Context(), ref, body)
	switch {
	case errors.Is(err, errBodyDigest):
		http.Error(w, fmt.Sprintf("fsshttp: put %q: body does not match Repr-Digest: announced sha-256 %x, received %x; nothing stored",
			ref, vr.want, vr.got), http.StatusBadRequest)
		return
	case errors.Is(err, io.ErrUnexpectedEOF):
		http.Error(w, fmt.Sprintf("fsshttp: put %q: body ended before its Content-Length; nothing stored", ref), http.StatusBadRequest)
		return
	case err != nil:
		s.fail(w, r, op, ref, err)
		return
	}
	sum, err := hex.DecodeString(info.SHA256)
	if err != nil || len(sum) != sha256.Size {
		s.fail(w, r, op, ref, fmt.Errorf("store returned a bad digest %q", info.SHA256))
		return
	}
	s.rememberPut(r, ref, info, [sha256.Size]byte(sum))
	h := w.Header()
	h.Set("ETag", etagFor(sum))
	h.Set("Repr-Digest", formatReprDigest(sum))
	w.WriteHeader(http.StatusCreated)
}

// rememberPut puts the digest Dir.Put computed while storing into the
// index, so the first GET does not read the file again. The file is
// reopened for its inode; if a concurrent PUT already replaced it, the
// size or mtime differs and nothing is recorded.
func (s *Server) rememberPut(r *http.Request, ref string, info fss.Info, sum [sha256.Size]byte) {
	f, err := s.store.Fetch(r.Context(), ref)
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() != info.Size || !fi.ModTime().Equal(info.ModTime) {
		return
	}
	s.index.record(ref, fi, sum)
}

// fail answers a request whose store operation failed.
func (s *Server) fail(w *statusWriter, r *http.Request, op, ref string, err error) {
	switch {
	case errors.Is(err, fss.ErrInvalidRef):
		http.Error(w, "fsshttp: "+err.Error(), http.StatusBadRequest)
	case errors.Is(err, fss.ErrNotRegular) && r.Method == http.MethodPut:
		http.Error(w, fmt.Sprintf("fsshttp: %s %q: %v", op, ref, err), http.StatusConflict)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR), errors.Is(err, fss.ErrNotRegular):
		s.index.forget(ref)
		http.Error(w, fmt.Sprintf("fsshttp: %s %q: not found", op, ref), http.StatusNotFound)
	case isContextError(err) && r.Context().Err() != nil:
		// The client went away; nobody reads an answer.
		w.failure = err
	default:
		w.failure = err
		http.Error(w, fmt.Sprintf("fsshttp: %s %q: %v", op, ref, err), http.StatusInternalServerError)
	}
}

// account updates the counters and logs the request.
func (s *Server) account(r *http.Request, w *statusWriter, took time.Duration) {
	s.bytesSent.Add(w.written)
	switch {
	case w.status >= 400:
		s.errs.Add(1)
	case r.Method == http.MethodHead && w.status == http.StatusOK:
		s.head.Add(1)
	case r.Method == http.MethodGet && w.status == http.StatusOK:
		s.getFull.Add(1)
	case r.Method == http.MethodGet && w.status == http.StatusPartialContent:
		s.getRange.Add(1)
	case r.Method == http.MethodPut && w.status == http.StatusCreated:
		s.put.Add(1)
	}
	level := slog.LevelDebug
	switch {
	case w.status >= 500:
		level = slog.LevelError
	case w.status == http.StatusUnauthorized:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", w.status),
		slog.Int64("bytes", w.written),
		slog.Duration("took", took),
		slog.String("remote", r.RemoteAddr),
	}
	if w.failure != nil {
		attrs = append(attrs, slog.String("err", w.failure.Error()))
	}
	s.log.LogAttrs(r.Context(), level, "fsshttp: request", attrs...)
}

// statusWriter records the status and body size of a response. It passes
// ReadFrom through so that ServeContent can still use sendfile.
type statusWriter struct {
	http.ResponseWriter
	status  int
	written int64
	failure error
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(onlyWriter{w.ResponseWriter}, r)
	}
	w.written += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// onlyWriter hides every method but Write, so io.Copy cannot loop back
// into statusWriter.ReadFrom.
type onlyWriter struct{ io.Writer }
