package kvcache

import (
	"errors"
	"slices"
	"sort"
	"unsafe"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// A long cache is read in huge pages: attention at depth 4064 streams the
// 300 MB of 2B-4T's F16 cache every token, about 75,000 small pages, far
// more than the TLB holds (30 layers of attention took 0.90x the time in
// huge pages, F16, 0.93x Q8_0). But a cache laid out head-major and
// advised for huge pages from the start faults in whole: the first
// position written touches every head's region, each its own huge page.
// So the cache is ordinary memory, faulting in page by page as positions
// are written (a short conversation holds little), and each huge-page-sized
// range of it is collapsed into a huge page (cpu.CollapseHugePages) once
// half of it is filled: the memory held stays under twice what is written.

// hugePlan is when to collapse which range of a cache's memory.
type hugePlan struct {
	block []byte // the cache's memory, aligned to huge pages, a whole number of them
	huge  int    // bytes of a huge page
	start []int  // offsets in block of its huge pages, in the order they become half filled
	at    []int  // the page at start[i] is half filled from Len at[i] on
	next  int    // start[:next] are collapsed (or were refused)
}

// A collapse costs 0.3-0.6 ms per huge page on a quiet 2-core VM, but can
// wait milliseconds for the other CPU (a drain of its page lists, TLB
// shootdowns): 5-8 ms per huge page when that CPU is busy elsewhere. The
// decoding threads wait too (the pages are unmapped while copied), so
// collapsing in the background does not hide it. A Commit collapses at most
// maxBatch pages, so that no token stalls long; the pages of 2B-4T's F16
// cache, 150 at 4096 positions, half filled at 2048, take 19 tokens.
const maxBatch = 8

// allocate returns size zeroed bytes holding 2*layers slabs of slab bytes,
// each heads regions of ctxLen rows of rowBytes, and the plan to collapse
// them (nil where the system has no huge pages). With a plan the bytes start
// on a huge page (the allocation is a huge page larger: address space, never
// touched).
func allocate(size, slab, ctxLen, heads, rowBytes int) ([]byte, *hugePlan) {
	huge := cpu.HugePageSize()
	if huge == 0 || size < huge {
		return make([]byte, size), nil
	}
	n := (size + huge - 1) / huge * huge
	block := make([]byte, n+huge)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(block))) & uintptr(huge-1))
	block = block[off : off+n : off+n]
	return block[:size], newHugePlan(block, huge, size, slab, ctxLen, heads, rowBytes)
}

// newHugePlan is the plan for the huge pages of block, the first size bytes
// of which hold the slabs.
func newHugePlan(block []byte, huge, size, slab, ctxLen, heads, rowBytes int) *hugePlan {
	// filled is how many bytes of [a, a+huge) are written once the first
	// n positions are: its overlap with each head region's first
	// n*rowBytes bytes.
	filled := func(a, n int) int {
		sum := 0
		for s := a / slab; s*slab < min(a+huge, size); s++ {
			for h := range heads {
				r0 := s*slab + h*ctxLen*rowBytes
				sum += max(0, min(r0+n*rowBytes, a+huge)-max(r0, a))
			}
		}
		return sum
	}
	p := &hugePlan{block: block, huge: huge}
	for a := 0; a < size; a += huge {
		real := min(huge, size-a)
		at := 1 + sort.Search(ctxLen, func(i int) bool { return 2*filled(a, i+1) >= real })
		p.start, p.at = append(p.start, a), append(p.at, at)
	}
	order := make([]int, len(p.at))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return p.at[i] - p.at[j] })
	start, at := make([]int, len(order)), make([]int, len(order))
	for i, o := range order {
		start[i], at[i] = p.start[o], p.at[o]
	}
	p.start, p.at = start, at
	return p
}

// reach collapses up to maxBatch of the pages that are half filled once n
// positions are, with one MADV_COLLAPSE call per run of adjacent pages.
func (p *hugePlan) reach(n int) {
	end := p.next
	for end < len(p.at) && p.at[end] <= n && end-p.next < maxBatch {
		end++
	}
	batch := p.start[p.next:end]
	p.next = end
	slices.Sort(batch) // in place: these are done with
	for i := 0; i < len(batch); {
		j := i + 1
		for j < len(batch) && batch[j] == batch[j-1]+p.huge {
			j++
		}
		if err := cpu.CollapseHugePages(p.block[batch[i] : batch[j-1]+p.huge]); errors.Is(err, errors.ErrUnsupported) {
			p.next = len(p.at) // nothing more to ask for
			return
		}
		i = j
	}
}
