package fsscache

import (
	"context"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Hashing a download costs about as much CPU as receiving it and writing it
// to the page cache together, and flushing it to the disk is mostly
// waiting. Done one after the other these halve the throughput, so stream
// receives and writes on the calling goroutine, hashes on another (fed
// through a small ring of buffers), and leaves the fsyncs of its
// checkpoints to a third, which also keeps the disk writing back while the
// download goes on and leaves little for the fsync before publishing.

// stream appends body to the partial file and feeds it to the hash. When it
// returns, d.written bytes are in the file and the hash has seen all of
// them; checkpoints taken meanwhile cover a prefix of them.
func (d *downloader) stream(ctx context.Context, body io.Reader) (err error) {
	hp := newHashPipe(d.hash, hashRing, copyBuf)
	defer hp.close()
	cp := d.startCheckpoints()
	defer func() {
		if cerr := cp.stop(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := cp.err(); err != nil {
			return err
		}
		buf := hp.buffer()
		n, rerr := fill(body, buf)
		if n > 0 {
			if d.want.Size >= 0 && d.written+int64(n) > d.want.Size {
				return fmt.Errorf("%w: server sent more than the announced %d bytes", ErrCorrupt, d.want.Size)
			}
			if _, err := d.f.Write(buf[:n]); err != nil {
				return fmt.Errorf("write partial file: %w", err)
			}
			hp.hash(buf[:n])
			d.written += int64(n)
			cp.wrote(d.written)
			d.c.stats.bytesDownloaded.Add(int64(n))
			if p := d.c.progress; p != nil {
				p(d.ref, d.written, d.want.Size)
			}
		}
		switch {
		case rerr == io.EOF:
			return nil
		case rerr != nil:
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return fmt.Errorf("read body: %w", rerr)
		}
	}
}

// fill reads into buf until it is full or r fails. Unlike io.ReadFull it
// returns io.EOF only for a clean end, so that a connection cut short
// (io.ErrUnexpectedEOF from the HTTP body) is a resumable failure.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// hashPipe hashes buffers on a goroutine of its own. Its buffers circulate:
// buffer hands out one the hash is done with, hash queues it. Since there
// are only as many buffers as queue slots, hash never blocks, and buffer
// waits at most for the hashing of one buffer.
type hashPipe struct {
	free, full chan []byte
	done       chan struct{}
}

func newHashPipe(h hash.Hash, buffers, size int) *hashPipe {
	p := &hashPipe{
		free: make(chan []byte, buffers),
		full: make(chan []byte, buffers),
		done: make(chan struct{}),
	}
	for range buffers {
		p.free <- make([]byte, size)
	}
	go func() {
		defer close(p.done)
		for b := range p.full {
			h.Write(b)
			p.free <- b[:cap(b)]
		}
	}()
	return p
}

// buffer returns an empty buffer of the pipe's size.
func (p *hashPipe) buffer() []byte { return <-p.free }

// hash queues b, a prefix of a buffer from buffer, to be hashed after the
// ones queued before. The caller must not touch b afterwards.
func (p *hashPipe) hash(b []byte) { p.full <- b }

// close waits until everything queued is hashed. The hash is then the
// caller's again.
func (p *hashPipe) close() {
	close(p.full)
	<-p.done
}

// checkpoints takes the checkpoints of one stream in the background: when
// Cache.checkpoint bytes have been written since the last one was asked
// for, and every Cache.checkpointEvery if bytes arrived meanwhile, so that
// a crash loses a bounded part of the download even when the link is slow
// or stalls. Requests that come while a checkpoint runs are merged into
// the next one.
type checkpoints struct {
	d       *downloader
	written atomic.Int64  // bytes written to the partial file so far
	kick    chan struct{} // a checkpoint is due; buffered, never blocks
	quit    chan struct{}
	done    chan struct{}
	next    int64 // length that calls for the next checkpoint; used by stream only

	mu      sync.Mutex
	failure error
}

func (d *downloader) startCheckpoints() *checkpoints {
	cp := &checkpoints{
		d:    d,
		kick: make(chan struct{}, 1),
		quit: make(chan struct{}),
		done: make(chan struct{}),
		next: d.written + d.c.checkpoint,
	}
	cp.written.Store(d.written)
	go cp.run(d.written)
	return cp
}

// wrote tells the checkpoints that the partial file now holds n bytes.
func (cp *checkpoints) wrote(n int64) {
	cp.written.Store(n)
	if n >= cp.next {
		cp.next = n + cp.d.c.checkpoint
		select {
		case cp.kick <- struct{}{}:
		default: // one is already due
		}
	}
}

func (cp *checkpoints) run(durable int64) {
	defer close(cp.done)
	tick := time.NewTicker(cp.d.c.checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-cp.quit:
			return
		case <-cp.kick:
		case <-tick.C:
		}
		n := cp.written.Load()
		if n == durable {
			continue
		}
		if err := cp.d.checkpointAt(n); err != nil {
			cp.mu.Lock()
			cp.failure = err
			cp.mu.Unlock()
			return
		}
		durable = n
	}
}

// err returns the failure that stopped the checkpoints, if any.
func (cp *checkpoints) err() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.failure
}

// stop waits for a checkpoint in progress and ends the goroutine; after it
// the sidecar is the caller's again.
func (cp *checkpoints) stop() error {
	close(cp.quit)
	<-cp.done
	return cp.err()
}
