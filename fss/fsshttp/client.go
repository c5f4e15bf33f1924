package fsshttp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/fsscache"
)

// Defaults for ClientOptions fields left zero.
const (
	DefaultRetries    = 4
	DefaultBackoff    = 100 * time.Millisecond
	DefaultMaxBackoff = 5 * time.Second
)

// ClientOptions configures a Client.
type ClientOptions struct {
	// Token is sent as "Authorization: Bearer <Token>" when non-empty. It
	// appears in no error and no log record.
	Token string
	// HTTPClient makes the requests. Nil means a client of its own, whose
	// transport gives up on a server that sends no response headers within
	// two minutes (a hung server; the attempt is then retried). Bodies have
	// no time limit: volumes take long to download.
	HTTPClient *http.Client
	// Retries is how many times a request is repeated after a transient
	// failure: a 5xx, 408 or 429 answer, a refused, reset or timed-out
	// connection, or a connection that closed before the answer was
	// complete. Zero means DefaultRetries, negative means none.
	Retries int
	// Backoff is the wait before the first retry; it doubles with every
	// further one, up to MaxBackoff, and is jittered so that many clients
	// failing together do not return together. Zero means the defaults.
	Backoff, MaxBackoff time.Duration
	// SpoolDir is where Put copies a body it could not read twice; empty
	// means os.TempDir().
	SpoolDir string
	// Logger receives a Warn record per retry. Nil discards.
	Logger *slog.Logger
}

// Client talks to a Server (or anything speaking the same protocol). It is
// safe for concurrent use.
type Client struct {
	base                string // scheme://host[/prefix], no trailing slash
	token               string
	hc                  *http.Client
	retries             int
	backoff, maxBackoff time.Duration
	spoolDir            string
	log                 *slog.Logger
}

// NewClient returns a client for the server at baseURL, e.g.
// "http://127.0.0.1:7480"; files are then at baseURL + "/files/<ref>".
func NewClient(baseURL string, opt ClientOptions) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("fsshttp: base URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("fsshttp: base URL %q: scheme must be http or https", baseURL)
	case u.Host == "":
		return nil, fmt.Errorf("fsshttp: base URL %q: no host", baseURL)
	case u.User != nil:
		// Credentials in a URL end up in error messages and logs.
		return nil, errors.New("fsshttp: base URL contains user information; pass credentials in ClientOptions.Token")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return nil, fmt.Errorf("fsshttp: base URL %q: must not have a query or fragment", baseURL)
	}
	if opt.Token != "" {
		if err := CheckToken(opt.Token); err != nil {
			return nil, err
		}
	}
	c := &Client{
		base:       strings.TrimRight(u.String(), "/"),
		token:      opt.Token,
		hc:         opt.HTTPClient,
		retries:    opt.Retries,
		backoff:    opt.Backoff,
		maxBackoff: opt.MaxBackoff,
		spoolDir:   opt.SpoolDir,
		log:        opt.Logger,
	}
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 2 * time.Minute
		// Many jobs on one worker fetch from the same server at once.
		t.MaxIdleConnsPerHost = 16
		c.hc = &http.Client{Transport: t}
	}
	switch {
	case c.retries == 0:
		c.retries = DefaultRetries
	case c.retries < 0:
		c.retries = 0
	}
	if c.backoff <= 0 {
		c.backoff = DefaultBackoff
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = DefaultMaxBackoff
	}
	if c.maxBackoff < c.backoff {
		c.maxBackoff = c.backoff
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// URL returns the address of ref on the server, each path element
// percent-encoded.
func (c *Client) URL(ref string) string {
	elems := strings.Split(ref, "/")
	for i, e := range elems {
		elems[i] = url.PathEscape(e)
	}
	return c.base + filesPrefix + strings.Join(elems, "/")
}

// Head returns the size, ETag and digest of ref. Errors wrap
// fss.ErrNotFound when the server has no such file.
func (c *Client) Head(ctx context.Context, ref string) (RemoteInfo, error) {
	const op = "head"
	if err := fss.ValidRef(ref); err != nil {
		return RemoteInfo{}, fmt.Errorf("fsshttp: %s: %w", op, err)
	}
	var info RemoteInfo
	err := c.withRetries(ctx, op, ref, func() error {
		resp, err := c.do(ctx, http.MethodHead, ref, nil, 0, nil)
		if err != nil {
			return transportFailure(op, ref, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return statusFailure(op, ref, resp)
		}
		if info, err = infoFromHeader(resp.Header, resp.ContentLength); err != nil {
			return fmt.Errorf("fsshttp: %s %q: %w", op, ref, err)
		}
		return nil
	})
	return info, err
}

// Get streams ref from offset on. With offset > 0 the request asks for
// "Range: bytes=<offset>-", and with a non-empty ifRange also sends
// "If-Range: <ifRange>", so that the server sends the rest only if the file
// still has that ETag. partial reports a 206 answer, whose body starts at
// offset; otherwise the body is the whole file (the file changed, or the
// server ignores ranges) and info describes it. With offset > 0 and an empty
// ifRange the rest is sent whatever the file now is.
//
// The initial request is retried; a failure while reading the body is not,
// since only the caller knows how much it already has and can resume.
// Errors wrap fss.ErrNotFound on 404 and ErrRangeNotSatisfiable on 416
// (offset at or past the end of the file).
func (c *Client) Get(ctx context.Context, ref string, offset int64, ifRange string) (body io.ReadCloser, info RemoteInfo, partial bool, err error) {
	const op = "get"
	if err := fss.ValidRef(ref); err != nil {
		return nil, RemoteInfo{}, false, fmt.Errorf("fsshttp: %s: %w", op, err)
	}
	if offset < 0 {
		return nil, RemoteInfo{}, false, fmt.Errorf("fsshttp: %s %q: negative offset %d", op, ref, offset)
	}
	err = c.withRetries(ctx, op, ref, func() error {
		hdr := http.Header{}
		if offset > 0 {
			hdr.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
			if ifRange != "" {
				hdr.Set("If-Range", ifRange)
			}
		}
		resp, err := c.do(ctx, http.MethodGet, ref, nil, 0, hdr)
		if err != nil {
			return transportFailure(op, ref, err)
		}
		switch resp.StatusCode {
		case http.StatusOK:
			info, err = infoFromHeader(resp.Header, resp.ContentLength)
			partial = false
		case http.StatusPartialContent:
			info, err = partialInfo(resp, offset)
			partial = true
		default:
			return statusFailure(op, ref, resp)
		}
		if err != nil {
			resp.Body.Close()
			return fmt.Errorf("fsshttp: %s %q: %w", op, ref, err)
		}
		body = resp.Body
		return nil
	})
	if err != nil {
		return nil, RemoteInfo{}, false, err
	}
	return body, info, partial, nil
}

// partialInfo checks that a 206 answer holds exactly the bytes from offset
// to the end and describes the whole file.
func partialInfo(resp *http.Response, offset int64) (RemoteInfo, error) {
	if offset == 0 {
		return RemoteInfo{}, errors.New("server answered 206 to a request without Range")
	}
	cr := resp.Header.Get("Content-Range")
	first, last, total, err := parseContentRange(cr)
	if err != nil {
		return RemoteInfo{}, err
	}
	if first != offset || last != total-1 {
		return RemoteInfo{}, fmt.Errorf("server sent Content-Range %q for a request of bytes %d to the end", cr, offset)
	}
	if resp.ContentLength >= 0 && resp.ContentLength != last-first+1 {
		return RemoteInfo{}, fmt.Errorf("server sent Content-Range %q with Content-Length %d", cr, resp.ContentLength)
	}
	return infoFromHeader(resp.Header, total)
}

// parseContentRange parses "bytes first-last/complete" with a known
// complete length, the only form a 206 answer to a single range has.
func parseContentRange(s string) (first, last, complete int64, err error) {
	bad := func() (int64, int64, int64, error) {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return bad()
	}
	rng, size, ok := strings.Cut(rest, "/")
	if !ok {
		return bad()
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return bad()
	}
	nums := [3]int64{}
	for i, t := range []string{a, b, size} {
		// ParseInt would accept a sign; the grammar has only digits.
		if t == "" || strings.TrimLeft(t, "0123456789") != "" {
			return bad()
		}
		if nums[i], err = strconv.ParseInt(t, 10, 64); err != nil {
			return bad()
		}
	}
	if nums[0] > nums[1] || nums[1] >= nums[2] {
		return bad()
	}
	return nums[0], nums[1], nums[2], nil
}

// Put stores body under ref and returns what the server reports for it,
// after checking that the server's digest of the stored file equals the
// digest of what was sent (ErrDigestMismatch otherwise).
//
// The digest travels in a header, before the body, so the body is read
// twice: once to hash it and once (or once per retry) to send it. A body
// that is an io.ReaderAt and io.Seeker (*os.File, *bytes.Reader, ...) is
// read in place, from its current offset to its end, and its offset is
// left where it was; any other body is first copied to a temporary file in
// ClientOptions.SpoolDir.
func (c *Client) Put(ctx context.Context, ref string, body io.Reader) (RemoteInfo, error) {
	const op = "put"
	if err := fss.ValidRef(ref); err != nil {
		return RemoteInfo{}, fmt.Errorf("fsshttp: %s: %w", op, err)
	}
	src, err := c.replayable(ctx, body)
	if err != nil {
		return RemoteInfo{}, fmt.Errorf("fsshttp: %s %q: %w", op, ref, err)
	}
	defer src.cleanup()
	var info RemoteInfo
	err = c.withRetries(ctx, op, ref, func() error {
		hdr := http.Header{}
		hdr.Set("Repr-Digest", formatReprDigest(src.sum))
		hdr.Set("Content-Type", "application/octet-stream")
		resp, err := c.do(ctx, http.MethodPut, ref, src.open, src.size, hdr)
		if err != nil {
			return transportFailure(op, ref, err)
		}
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK, http.StatusCreated, http.StatusNoContent:
		default:
			return statusFailure(op, ref, resp)
		}
		// Read the (normally empty) body so the connection can be reused;
		// an answer cut short is a reason to try again.
		if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)); err != nil && isTransient(err) {
			return &transientError{err: fmt.Errorf("reading the answer: %w", err)}
		}
		got, ok, err := reprDigestSHA256(resp.Header.Get("Repr-Digest"))
		switch {
		case err != nil:
			return fmt.Errorf("fsshttp: %s %q: answer: %w", op, ref, err)
		case !ok:
			return fmt.Errorf("fsshttp: %s %q: the server's answer has no sha-256 Repr-Digest, so the upload cannot be verified", op, ref)
		case !bytes.Equal(got, src.sum):
			return fmt.Errorf("fsshttp: %s %q: %w: sent sha-256 %x, server stored %x", op, ref, ErrDigestMismatch, src.sum, got)
		}
		info = RemoteInfo{Size: src.size, ETag: resp.Header.Get("ETag"), SHA256: hex.EncodeToString(src.sum)}
		return nil
	})
	return info, err
}

// putSource is a Put body that can be sent as often as needed.
type putSource struct {
	r       io.ReaderAt
	start   int64
	size    int64
	sum     []byte
	cleanup func()
}

// open returns a fresh reader over the whole body. Readers from earlier
// attempts may still be in use by the transport; ReadAt allows that.
func (s *putSource) open() io.Reader {
	return io.NewSectionReader(s.r, s.start, s.size)
}

func (c *Client) replayable(ctx context.Context, body io.Reader) (*putSource, error) {
	if body == nil {
		body = bytes.NewReader(nil)
	}
	h := sha256.New()
	if ra, ok := body.(interface {
		io.ReaderAt
		io.Seeker
	}); ok {
		start, err := ra.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		end, err := ra.Seek(0, io.SeekEnd)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		if _, err := ra.Seek(start, io.SeekStart); err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		if end < start {
			end = start
		}
		src := &putSource{r: ra, start: start, size: end - start, cleanup: func() {}}
		if _, err := io.CopyBuffer(h, ctxReader{ctx, src.open()}, make([]byte, 1<<20)); err != nil {
			return nil, fmt.Errorf("hash body: %w", err)
		}
		src.sum = h.Sum(nil)
		return src, nil
	}
	f, err := os.CreateTemp(c.spoolDir, "fsshttp-put-*")
	if err != nil {
		return nil, fmt.Errorf("spool body: %w", err)
	}
	cleanup := func() {
		f.Close()
		os.Remove(f.Name())
	}
	n, err := io.CopyBuffer(io.MultiWriter(f, h), ctxReader{ctx, body}, make([]byte, 1<<20))
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("spool body to %s: %w", f.Name(), err)
	}
	return &putSource{r: f, size: n, sum: h.Sum(nil), cleanup: cleanup}, nil
}

// do sends one request. body, if not nil, opens a new reader of size bytes.
func (c *Client) do(ctx context.Context, method, ref string, body func() io.Reader, size int64, hdr http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.URL(ref), nil)
	if err != nil {
		return nil, err
	}
	if hdr != nil {
		req.Header = hdr
	}
	if body != nil {
		req.ContentLength = size
		req.GetBody = func() (io.ReadCloser, error) {
			if size == 0 {
				return http.NoBody, nil
			}
			return io.NopCloser(body()), nil
		}
		req.Body, _ = req.GetBody()
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	// Asking for no content coding stops the transport from requesting gzip
	// and decoding it, which would hide the real Content-Length.
	req.Header.Set("Accept-Encoding", "identity")
	return c.hc.Do(req)
}

// transientError marks a failure that another attempt may not meet.
type transientError struct {
	err        error
	retryAfter time.Duration
}

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// withRetries runs attempt until it succeeds, fails for good, the retries
// are used up, or ctx ends; the wait between attempts ends with ctx too.
func (c *Client) withRetries(ctx context.Context, op, ref string, attempt func() error) error {
	for n := 0; ; n++ {
		err := attempt()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("fsshttp: %s %q: %w", op, ref, ctx.Err())
		}
		var te *transientError
		if !errors.As(err, &te) {
			return err
		}
		if n >= c.retries {
			return fmt.Errorf("fsshttp: %s %q: giving up after %d attempts: %w", op, ref, n+1, te.err)
		}
		wait := c.delay(n, te.retryAfter)
		c.log.Warn("fsshttp: retrying", "op", op, "ref", ref, "attempt", n+1, "wait", wait, "err", te.err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("fsshttp: %s %q: %w (while waiting to retry after: %v)", op, ref, ctx.Err(), te.err)
		case <-t.C:
		}
	}
}

// delay is the wait before retry n+1: Backoff·2ⁿ capped at MaxBackoff, of
// which the upper half is random, or the server's Retry-After if longer
// (also capped).
func (c *Client) delay(n int, retryAfter time.Duration) time.Duration {
	d := c.maxBackoff
	if n < 30 && c.backoff<<n < c.maxBackoff {
		d = c.backoff << n
	}
	d = d/2 + rand.N(d/2+1)
	if retryAfter > d {
		d = min(retryAfter, c.maxBackoff)
	}
	return d
}

// transportFailure wraps an error from http.Client.Do.
func transportFailure(op, ref string, err error) error {
	if isTransient(err) {
		return &transientError{err: err}
	}
	return fmt.Errorf("fsshttp: %s %q: %w", op, ref, err)
}

// isTransient reports whether err is a network failure that a new
// connection may not meet.
func isTransient(err error) bool {
	for _, e := range []error{
		io.EOF, io.ErrUnexpectedEOF,
		// The transport closes a connection the server hung up on while a
		// request body is still being written to it.
		net.ErrClosed,
		syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns) && (dns.IsTemporary || dns.IsTimeout)
}

// statusFailure turns an answer other than the expected one into an error
// and closes its body. 5xx, 408 and 429 answers come back transient.
func statusFailure(op, ref string, resp *http.Response) error {
	msg := readMessage(resp.Body)
	resp.Body.Close()
	what := "server answered " + resp.Status
	if msg != "" {
		what += ": " + msg
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		return fmt.Errorf("fsshttp: %w: %s %q: %s", ErrUnauthorized, op, ref, what)
	case code == http.StatusForbidden:
		return fmt.Errorf("fsshttp: %w: %s %q: %s", ErrForbidden, op, ref, what)
	case code == http.StatusNotFound:
		return fmt.Errorf("fsshttp: %s %q: %w", op, ref, fss.ErrNotFound)
	case code == http.StatusBadRequest:
		return fmt.Errorf("fsshttp: %w: %s %q: %s", ErrBadRequest, op, ref, what)
	case code == http.StatusRequestedRangeNotSatisfiable:
		return fmt.Errorf("fsshttp: %s %q: %w: server has %q", op, ref, ErrRangeNotSatisfiable, resp.Header.Get("Content-Range"))
	case code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		return &transientError{err: errors.New(what), retryAfter: retryAfter(resp.Header)}
	}
	return fmt.Errorf("fsshttp: %s %q: unexpected answer: %s", op, ref, what)
}

// readMessage returns the start of an error body as one printable line,
// without the "fsshttp: " our own server puts in front.
func readMessage(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 512))
	msg := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '\uFFFD' {
			return ' '
		}
		return r
	}, string(b))
	return strings.TrimPrefix(strings.TrimSpace(msg), "fsshttp: ")
}

// retryAfter parses a Retry-After header given in seconds.
func retryAfter(h http.Header) time.Duration {
	s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || s < 0 {
		return 0
	}
	return time.Duration(min(s, 3600)) * time.Second
}

// infoFromHeader builds a RemoteInfo from an answer's headers.
func infoFromHeader(h http.Header, size int64) (RemoteInfo, error) {
	if size < 0 {
		return RemoteInfo{}, errors.New("answer has no Content-Length")
	}
	info := RemoteInfo{Size: size, ETag: h.Get("ETag")}
	sum, ok, err := reprDigestSHA256(h.Get("Repr-Digest"))
	if err != nil {
		return RemoteInfo{}, err
	}
	if ok {
		info.SHA256 = hex.EncodeToString(sum)
	}
	return info, nil
}

// ctxReader stops a copy once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// A Client is the network side of the download cache.
var (
	_ fsscache.Origin   = (*Client)(nil)
	_ fsscache.Uploader = (*Client)(nil)
)
