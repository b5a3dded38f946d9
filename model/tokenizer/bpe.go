package tokenizer

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// byteChar maps a byte to the printable character GPT-2's byte-level BPE uses for it; charByte is the inverse
// (-1 for other characters).
var (
	byteChar    [256]rune
	byteCharStr [256]string
	charByte    = map[rune]byte{}
)

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF) {
			byteChar[b] = rune(b)
		} else {
			byteChar[b] = rune(256 + n)
			n++
		}
		byteCharStr[b] = string(byteChar[b])
		charByte[byteChar[b]] = byte(b)
	}
}

// byteLevelEncode maps every byte of s to its byte-level character.
func byteLevelEncode(s string) string {
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		b.WriteString(byteCharStr[s[i]])
	}
	return b.String()
}

// mergeKey packs a pair of token ids.
func mergeKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

type mergeVal struct{ rank, id int32 }

// bpeModel is HF's BPE model (without dropout).
type bpeModel struct {
	vocab        map[string]int32
	vocabR       []string
	merges       map[uint64]mergeVal
	mergeList    [][2]string // the merges in rank order
	unk          int32       // -1 when none
	unkToken     string
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	prefix       string // continuing_subword_prefix
	suffix       string // end_of_word_suffix
	byteIDs      [256]int32

	mu    sync.Mutex
	cache map[string][]int32
}

const (
	cacheEntries  = 1 << 15
	cacheMaxBytes = 256 // like HF, long words are not cached
)

func (m *bpeModel) init() {
	for b := range m.byteIDs {
		if id, ok := m.vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteIDs[b] = id
		} else {
			m.byteIDs[b] = -1
		}
	}
	m.cache = make(map[string][]int32)
}

func (m *bpeModel) tokenize(dst []int32, w string) []int32 {
	if w == "" {
		return dst
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[w]; ok {
			return append(dst, id)
		}
	}
	if len(w) < cacheMaxBytes {
		m.mu.Lock()
		ids, ok := m.cache[w]
		m.mu.Unlock()
		if ok {
			return append(dst, ids...)
		}
	}
	n := len(dst)
	dst = m.mergeWord(dst, w)
	if len(w) < cacheMaxBytes {
		ids := append([]int32(nil), dst[n:]...)
		m.mu.Lock()
		if len(m.cache) >= cacheEntries {
			clear(m.cache)
		}
		m.cache[w] = ids
		m.mu.Unlock()
	}
	return dst
}

type symbol struct {
	id         int32
	prev, next int32
	size       int32 // bytes; 0 once merged into its left neighbour
}

type mergeItem struct {
	rank, pos, id int32
}

// mergeWord is HF's BPE::merge_word + Word::merge_all.
func (m *bpeModel) mergeWord(dst []int32, w string) []int32 {
	syms := make([]symbol, 0, len(w))
	add := func(id int32, size int) {
		syms = append(syms, symbol{id: id, prev: int32(len(syms)) - 1, next: -1, size: int32(size)})
		if len(syms) > 1 {
			syms[len(syms)-2].next = int32(len(syms)) - 1
		}
	}
	unkID, unkLen := int32(-1), 0
	for i := 0; i < len(w); {
		_, size := utf8.DecodeRuneInString(w[i:])
		s := w[i : i+size]
		if m.prefix != "" && i > 0 {
			s = m.prefix + s
		}
		if m.suffix != "" && i+size == len(w) {
			s += m.suffix
		}
		i += size
		if id, ok := m.vocab[s]; ok {
			if unkID >= 0 {
				add(unkID, unkLen)
				unkID = -1
			}
			add(id, size)
			continue
		}
		if m.byteFallback {
			all := true
			for j := 0; j < len(s); j++ {
				if m.byteIDs[s[j]] < 0 {
					all = false
					break
				}
			}
			if all {
				for j := 0; j < len(s); j++ {
					add(m.byteIDs[s[j]], 1)
				}
				continue
			}
		}
		if m.unk >= 0 {
			switch {
			case unkID >= 0 && m.fuseUnk:
				unkLen += size
			case unkID >= 0:
				add(unkID, unkLen)
				unkID, unkLen = m.unk, size
			default:
				unkID, unkLen = m.unk, size
			}
		}
	}
	if unkID >= 0 {
		add(unkID, unkLen)
	}

	// Merge the pair of lowest rank (then leftmost) until none is left, with a min-heap.
	h := make([]mergeItem, 0, len(syms))
	for i := 0; i+1 < len(syms); i++ {
		if mv, ok := m.merges[mergeKey(syms[i].id, syms[i+1].id)]; ok {
			h = heapPush(h, mergeItem{mv.rank, int32(i), mv.id})
		}
	}
	for len(h) > 0 {
		var top mergeItem
		top, h = heapPop(h)
		cur := &syms[top.pos]
		if cur.size == 0 || cur.next == -1 {
			continue
		}
		nextPos := cur.next
		right := syms[nextPos]
		if mv, ok := m.merges[mergeKey(cur.id, right.id)]; !ok || mv.id != top.id {
			continue
		}
		cur.id = top.id
		cur.size += right.size
		cur.next = right.next
		syms[nextPos].size = 0
		if right.next >= 0 && int(right.next) < len(syms) {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if mv, ok := m.merges[mergeKey(syms[cur.prev].id, cur.id)]; ok {
				h = heapPush(h, mergeItem{mv.rank, cur.prev, mv.id})
			}
		}
		if cur.next >= 0 && int(cur.next) < len(syms) {
			if mv, ok := m.merges[mergeKey(cur.id, syms[cur.next].id)]; ok {
				h = heapPush(h, mergeItem{mv.rank, top.pos, mv.id})
			}
		}
	}
	for i := 0; i < len(syms); i++ {
		if syms[i].size != 0 {
			dst = append(dst, syms[i].id)
		}
	}
	return dst
}

func less(a, b mergeItem) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

func heapPush(h []mergeItem, x mergeItem) []mergeItem {
	h = append(h, x)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func heapPop(h []mergeItem) (mergeItem, []mergeItem) {
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		c := l
		if r := l + 1; r < len(h) && less(h[r], h[l]) {
			c = r
		}
		if !less(h[c], h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	return top, h
}
