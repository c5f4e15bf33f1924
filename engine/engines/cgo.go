//go:build cgo

package engines

// addCgoEngines adds the engines that need cgo.
func addCgoEngines(m map[string]constructor) {}
