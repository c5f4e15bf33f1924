// Package omni reads and writes OMNI images, the image format in which
// XamFlow exchanges volumes and segmentations with task types.
//
// An OMNI image is a pair of files in one directory: a JSON header
// ("scan.omni") describing geometry, pixel type and calibrations, and one
// raw pixel file ("scan.raw") that the header names. XamFlow's own key names
// are not public, so this package defines its own documented schema; see
// FORMAT.md next to this file for every field and validation rule.
//
// Headers are parsed strictly: unknown or duplicate keys, wrong array
// lengths and out-of-range values are errors that name the offending field,
// because a header that is silently misread would make every downstream
// measurement wrong.
//
// Pixel files of existing images are memory-mapped read-only (see Map), so
// volumes of many gigabytes can be handed to a task without copying them
// into the Go heap. Pixels of an Image are always in the host's native byte
// order. Closed images give their heap pixels to a bounded pool, so that a
// kernel producing image after image of the same size does not pay for
// fresh memory each time (New, NewUninitialized).
package omni
