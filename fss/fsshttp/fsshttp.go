// Package fsshttp carries FSS, the XamFlow file store, over HTTP: a Server
// that publishes an fss.Dir and a Client that reads and writes it from
// another machine.
//
// The protocol is deliberately small, so that curl is a usable client:
//
//	GET|HEAD /files/<ref>   the file, with a strong ETag "sha256:<hex>",
//	                        Repr-Digest (RFC 9530), Range and If-Range
//	PUT /files/<ref>        store the body atomically; a Repr-Digest request
//	                        header is verified before the file is replaced;
//	                        201 with the ETag and Repr-Digest of what was stored
//
// When the server has a token, every request needs "Authorization: Bearer
// <token>". Missing refs answer 404, refs that fss.ValidRef refuses 400.
//
// The ETag is a digest of the content rather than of file metadata, so that a
// download cache can resume a partial file with If-Range across server
// restarts and can verify what it received end to end.
package fsshttp

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/xfhost/xfhost/fsscache"
)

// RemoteInfo is what the server says about a file (size, strong ETag,
// sha256); it is the cache's type, so a Client is an fsscache.Origin.
type RemoteInfo = fsscache.RemoteInfo

// Errors for answers that retrying cannot change. Errors for 404 wrap
// fss.ErrNotFound (and so fs.ErrNotExist) instead.
var (
	// ErrUnauthorized: 401, the token is missing or wrong.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: 403, the token is valid but not for this file.
	ErrForbidden = errors.New("forbidden")
	// ErrBadRequest: 400, the server refused the ref or the request, e.g. a
	// body that does not match its Repr-Digest.
	ErrBadRequest = errors.New("bad request")
	// ErrDigestMismatch: the digest the server reports for what it stored
	// differs from the digest of what the client sent.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrRangeNotSatisfiable: 416, the resume offset lies at or beyond the
	// end of the file the ETag names.
	ErrRangeNotSatisfiable = errors.New("range not satisfiable")
)

// CheckToken reports whether token can be sent as a bearer token: non-empty
// visible ASCII without spaces. The error never repeats the token.
func CheckToken(token string) error {
	if token == "" {
		return errors.New("fsshttp: token is empty")
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("fsshttp: token has a byte outside visible ASCII at offset %d", i)
		}
	}
	return nil
}

// etagFor is the strong ETag of content with the given SHA-256.
func etagFor(sum []byte) string {
	return `"sha256:` + hex.EncodeToString(sum) + `"`
}

// formatReprDigest is the Repr-Digest field value for a SHA-256 digest.
func formatReprDigest(sum []byte) string {
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum) + ":"
}

// reprDigestSHA256 extracts the sha-256 member of a Repr-Digest field value.
// ok is false when the field is absent or names only other algorithms; a
// field that is not a valid structured dictionary, or whose sha-256 member
// is not a 32-byte byte sequence, is an error.
func reprDigestSHA256(field string) (sum []byte, ok bool, err error) {
	if strings.TrimSpace(field) == "" {
		return nil, false, nil
	}
	members, err := parseDigestDict(field)
	if err != nil {
		return nil, false, fmt.Errorf("Repr-Digest %q: %w", field, err)
	}
	v, ok := members["sha-256"]
	if !ok {
		return nil, false, nil
	}
	if !v.isBytes {
		return nil, false, fmt.Errorf("Repr-Digest %q: sha-256 is not a byte sequence", field)
	}
	if len(v.bytes) != 32 {
		return nil, false, fmt.Errorf("Repr-Digest %q: sha-256 has %d bytes, want 32", field, len(v.bytes))
	}
	return v.bytes, true, nil
}

// dictValue is a dictionary member's value; only byte sequences matter for
// digests, other item types are checked for syntax and dropped.
type dictValue struct {
	isBytes bool
	bytes   []byte
}

// parseDigestDict parses a structured-field dictionary (RFC 8941 section
// 4.2.2), which is the syntax of Repr-Digest and Content-Digest. Parameters
// are parsed and ignored. A key given twice keeps its last value, as the RFC
// requires.
func parseDigestDict(s string) (map[string]dictValue, error) {
	p := sfParser{s: s}
	out := map[string]dictValue{}
	p.skipSP()
	for !p.done() {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		val := dictValue{}
		if p.peek() == '=' {
			p.i++
			if val, err = p.bareItem(); err != nil {
				return nil, fmt.Errorf("member %q: %w", key, err)
			}
		}
		if err := p.params(); err != nil {
			return nil, fmt.Errorf("member %q: %w", key, err)
		}
		out[key] = val
		p.skipOWS()
		if p.done() {
			return out, nil
		}
		if p.peek() != ',' {
			return nil, fmt.Errorf("unexpected %q after member %q", p.peek(), key)
		}
		p.i++
		p.skipOWS()
		if p.done() {
			return nil, errors.New("trailing comma")
		}
	}
	return nil, errors.New("empty dictionary")
}

type sfParser struct {
	s string
	i int
}

func (p *sfParser) done() bool { return p.i >= len(p.s) }

func (p *sfParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *sfParser) skipSP() {
	for !p.done() && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *sfParser) skipOWS() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func isLCAlpha(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool   { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool   { return isLCAlpha(c) || ('A' <= c && c <= 'Z') }

// key parses lcalpha / "*" followed by lcalpha, digits, "_", "-", ".", "*".
func (p *sfParser) key() (string, error) {
	start := p.i
	if c := p.peek(); !isLCAlpha(c) && c != '*' {
		return "", fmt.Errorf("key must start with a lowercase letter or *, got %q at offset %d", c, p.i)
	}
	for !p.done() {
		c := p.s[p.i]
		if !isLCAlpha(c) && !isDigit(c) && !strings.ContainsRune("_-.*", rune(c)) {
			break
		}
		p.i++
	}
	return p.s[start:p.i], nil
}

func (p *sfParser) params() error {
	for p.peek() == ';' {
		p.i++
		p.skipSP()
		if _, err := p.key(); err != nil {
			return fmt.Errorf("parameter: %w", err)
		}
		if p.peek() == '=' {
			p.i++
			if _, err := p.bareItem(); err != nil {
				return fmt.Errorf("parameter: %w", err)
			}
		}
	}
	return nil
}

// bareItem parses one item. Numbers, strings, tokens and booleans are
// validated loosely (enough to find where they end); byte sequences fully.
func (p *sfParser) bareItem() (dictValue, error) {
	c := p.peek()
	switch {
	case c == ':':
		p.i++
		end := strings.IndexByte(p.s[p.i:], ':')
		if end < 0 {
			return dictValue{}, errors.New("unterminated byte sequence")
		}
		enc := p.s[p.i : p.i+end]
		p.i += end + 1
		b, err := base64.StdEncoding.Strict().DecodeString(enc)
		if err != nil {
			// RFC 8941 lets parsers accept missing padding.
			if b, err = base64.RawStdEncoding.Strict().DecodeString(enc); err != nil {
				return dictValue{}, fmt.Errorf("byte sequence is not base64: %q", enc)
			}
		}
		return dictValue{isBytes: true, bytes: b}, nil
	case c == '"':
		p.i++
		for !p.done() {
			switch ch := p.s[p.i]; {
			case ch == '\\':
				if p.i+1 >= len(p.s) || (p.s[p.i+1] != '"' && p.s[p.i+1] != '\\') {
					return dictValue{}, errors.New("bad escape in string")
				}
				p.i += 2
			case ch == '"':
				p.i++
				return dictValue{}, nil
			case ch < ' ' || ch > '~':
				return dictValue{}, fmt.Errorf("string contains byte %#x", ch)
			default:
				p.i++
			}
		}
		return dictValue{}, errors.New("unterminated string")
	case c == '-' || isDigit(c):
		start := p.i
		p.i++
		for !p.done() && (isDigit(p.s[p.i]) || p.s[p.i] == '.') {
			p.i++
		}
		if num := p.s[start:p.i]; num == "-" || strings.Count(num, ".") > 1 {
			return dictValue{}, fmt.Errorf("bad number %q", num)
		}
		return dictValue{}, nil
	case c == '?':
		if p.i+1 >= len(p.s) || (p.s[p.i+1] != '0' && p.s[p.i+1] != '1') {
			return dictValue{}, errors.New("bad boolean")
		}
		p.i += 2
		return dictValue{}, nil
	case isAlpha(c) || c == '*':
		for !p.done() {
			ch := p.s[p.i]
			if ch <= ' ' || ch > '~' || strings.IndexByte(`"(),;<=>?@[\]{}`, ch) >= 0 {
				break
			}
			p.i++
		}
		return dictValue{}, nil
	}
	return dictValue{}, fmt.Errorf("unexpected %q at offset %d", c, p.i)
}
