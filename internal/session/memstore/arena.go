package memstore

import (
	"encoding/binary"
	"fmt"
)

// The arena holds every stored record's bytes outside the Go heap (mem_unix.go
// maps them with mmap; elsewhere they are plain byte slices, still never
// scanned by the garbage collector since they hold no pointers).
//
// Why: a million sessions of ~2.7 kB as Go objects (a Record, its strings,
// its sealed bytes, index maps of maps) are ~9 million heap objects and a
// 3.5 GB live heap. Every GC cycle then marks them all, and the heap goal
// (twice the live heap) makes each request's garbage land in gigabytes of
// cold memory: measured, Get ran 7x slower at 1M sessions than at 1k. Here the
// Go heap holds only pointer-free tables (slots, maps of fixed-size keys), so
// the GC has next to nothing to mark and the heap stays small.
//
// Layout: chunks of chunkSize bytes, filled front to back (a bump pointer in
// the current chunk). Each stored entry is a header - the slot index (uint32)
// and the entry's whole length (uint32), little-endian - then the payload.
// Freeing an entry only counts its bytes as dead; a chunk whose entries are
// all dead is released, and one that is more than half dead is compacted: its
// live entries are copied into the current chunk and it is released. So the
// arena stays within about twice the live bytes, and each byte is copied at
// most once per time it is half-freed. An entry larger than chunkSize/4 gets a
// chunk of its own.

const (
	chunkSize   = 1 << 20
	entryHeader = 8
	noChunk     = ^uint32(0)
)

type chunk struct {
	mem  []byte
	used int // bytes handed out (the bump pointer)
	dead int // bytes of freed entries
}

type arena struct {
	chunks     []*chunk // nil where released
	freeChunks []uint32 // released indexes of chunks, for reuse
	cur        uint32   // the chunk being filled, or noChunk
	compacting bool
	// live reports whether slot's entry is the one at (ci, off); moved is
	// called for each live entry compaction moves, with its new position.
	live  func(slot, ci, off uint32) bool
	moved func(slot, ci, off uint32)
	// bytes is the memory the arena has mapped (for tests).
	bytes int
}

func newArena(live func(slot, ci, off uint32) bool, moved func(slot, ci, off uint32)) *arena {
	return &arena{cur: noChunk, live: live, moved: moved}
}

// alloc reserves an entry of payload length n for slot and returns where it
// is and the payload's bytes to fill.
func (a *arena) alloc(slot uint32, n int) (ci, off uint32, payload []byte, err error) {
	total := entryHeader + n
	if total > 1<<31 {
		return 0, 0, nil, fmt.Errorf("record of %d bytes is too large", n)
	}
	if total > chunkSize/4 {
		ci, err = a.newChunk(total)
		if err != nil {
			return 0, 0, nil, err
		}
	} else {
		if a.cur == noChunk || a.chunks[a.cur].used+total > len(a.chunks[a.cur].mem) {
			old := a.cur
			if a.cur, err = a.newChunk(chunkSize); err != nil {
				a.cur = old
				return 0, 0, nil, err
			}
			if old != noChunk {
				// Compacting old moves less than half a chunk into the
				// new, empty one: this entry (<= a quarter) still fits.
				a.settle(old)
			}
		}
		ci = a.cur
	}
	c := a.chunks[ci]
	off = uint32(c.used)
	c.used += total
	e := c.mem[off : int(off)+total]
	binary.LittleEndian.PutUint32(e[0:4], slot)
	binary.LittleEndian.PutUint32(e[4:8], uint32(total))
	return ci, off, e[entryHeader:], nil
}

// payload returns the payload of the entry at (ci, off). It is only valid
// until the arena next changes.
func (a *arena) payload(ci, off uint32) []byte {
	c := a.chunks[ci]
	total := binary.LittleEndian.Uint32(c.mem[off+4:])
	return c.mem[off+entryHeader : off+total]
}

// free marks the entry at (ci, off) dead.
func (a *arena) free(ci, off uint32) {
	c := a.chunks[ci]
	c.dead += int(binary.LittleEndian.Uint32(c.mem[off+4:]))
	if ci != a.cur {
		a.settle(ci)
	}
}

// settle releases chunk ci when it holds nothing live and compacts it when
// more than half of it is dead. ci is not the current chunk.
func (a *arena) settle(ci uint32) {
	c := a.chunks[ci]
	switch {
	case c.dead >= c.used:
		a.release(ci)
	case 2*c.dead > c.used && !a.compacting:
		a.compact(ci)
	}
}

// compact moves chunk ci's live entries into the current chunk, then
// releases ci. An entry is live when its slot still points at it.
func (a *arena) compact(ci uint32) {
	a.compacting = true
	defer func() { a.compacting = false }()
	c := a.chunks[ci]
	for off := 0; off < c.used; {
		slot := binary.LittleEndian.Uint32(c.mem[off:])
		total := int(binary.LittleEndian.Uint32(c.mem[off+4:]))
		if a.live(slot, ci, uint32(off)) {
			nci, noff, p, err := a.alloc(slot, total-entryHeader)
			if err != nil {
				// Out of memory: leave the chunk as it is; it stays valid.
				return
			}
			copy(p, c.mem[off+entryHeader:off+total])
			a.moved(slot, nci, noff)
			c.dead += total
		}
		off += total
	}
	a.release(ci)
}

func (a *arena) newChunk(size int) (uint32, error) {
	mem, err := mapMemory(size)
	if err != nil {
		return 0, fmt.Errorf("memory for sessions: %w", err)
	}
	a.bytes += len(mem)
	c := &chunk{mem: mem}
	if n := len(a.freeChunks); n > 0 {
		ci := a.freeChunks[n-1]
		a.freeChunks = a.freeChunks[:n-1]
		a.chunks[ci] = c
		return ci, nil
	}
	a.chunks = append(a.chunks, c)
	return uint32(len(a.chunks) - 1), nil
}

func (a *arena) release(ci uint32) {
	c := a.chunks[ci]
	a.bytes -= len(c.mem)
	unmapMemory(c.mem)
	a.chunks[ci] = nil
	a.freeChunks = append(a.freeChunks, ci)
	if a.cur == ci {
		a.cur = noChunk
	}
}

// releaseAll unmaps every chunk (Close).
func (a *arena) releaseAll() {
	for ci, c := range a.chunks {
		if c != nil {
			a.release(uint32(ci))
		}
	}
}
