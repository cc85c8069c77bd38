//go:build unix

package memstore

import "syscall"

// mapMemory returns n bytes of zeroed anonymous memory outside the Go heap.
func mapMemory(n int) ([]byte, error) {
	return syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}

// unmapMemory returns memory from mapMemory to the system.
func unmapMemory(b []byte) { _ = syscall.Munmap(b) }
