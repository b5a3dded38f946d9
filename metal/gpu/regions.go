package gpu

import (
	"sort"
	"unsafe"
)

// span is the memory range [start, end).
type span struct{ start, end uintptr }

// dataSpan returns the address range of b.
func dataSpan(b []byte) span {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return span{p, p + uintptr(len(b))}
}

// planRegions decides which weights Metal can wrap without a copy
// (newBufferWithBytesNoCopy wants a page-aligned pointer and a length that
// is a multiple of the page size). Each weight's span widens to whole pages:
// memory its own mapping covers, since a mapping is made of whole pages.
// Spans that share a page merge into one region; spans in different pages
// stay apart even when adjacent (they may belong to different mappings). A
// region longer than maxLen is dropped. It returns the regions and, for each
// weight, the index of its region, or -1 when the weight must be copied
// (empty weights, dropped regions).
func planRegions(ws []span, page, maxLen uintptr) ([]span, []int) {
	idx := make([]int, len(ws))
	order := make([]int, 0, len(ws))
	for i, w := range ws {
		idx[i] = -1
		if w.end > w.start {
			order = append(order, i)
		}
	}
	sort.Slice(order, func(a, b int) bool { return ws[order[a]].start < ws[order[b]].start })
	var regions []span
	var members [][]int
	for _, i := range order {
		s := span{ws[i].start &^ (page - 1), (ws[i].end + page - 1) &^ (page - 1)}
		if n := len(regions); n > 0 && s.start < regions[n-1].end {
			regions[n-1].end = max(regions[n-1].end, s.end)
			members[n-1] = append(members[n-1], i)
			continue
		}
		regions = append(regions, s)
		members = append(members, []int{i})
	}
	var kept []span
	for r, s := range regions {
		if s.end-s.start > maxLen {
			continue
		}
		for _, i := range members[r] {
			idx[i] = len(kept)
		}
		kept = append(kept, s)
	}
	return kept, idx
}
