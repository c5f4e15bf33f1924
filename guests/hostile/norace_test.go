//go:build !race && !wasip1

package hostile_test

const durationScale = 1
