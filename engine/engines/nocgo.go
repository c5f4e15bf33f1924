//go:build !cgo

package engines

// addCgoEngines adds nothing: engines that need cgo are not in this build.
func addCgoEngines(map[string]constructor) {}
