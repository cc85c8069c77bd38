//go:build !unix

package memstore

// mapMemory returns n zeroed bytes. Without mmap they are a Go byte slice:
// pointer-free, so the garbage collector never scans them.
func mapMemory(n int) ([]byte, error) { return make([]byte, n), nil }

// unmapMemory lets the garbage collector have b.
func unmapMemory([]byte) {}
