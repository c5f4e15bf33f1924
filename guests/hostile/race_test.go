//go:build race && !wasip1

package hostile_test

// The race detector slows the host's kernels several times over, so
// max_duration bounds are scaled by this factor under it.
const durationScale = 10
