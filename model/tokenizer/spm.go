package tokenizer

// spmModel is llama.cpp's llm_tokenizer_spm: starting from characters, repeatedly merge the adjacent pair whose
// concatenation is the vocabulary token of highest score (ties: leftmost); characters left that are not
// tokens become byte tokens <0xXX> (or unk).
type spmModel struct {
	vocab   map[string]int32
	scores  []float32
	byteIDs [256]int32
	unk     int32
}

type spmSym struct {
	start, size int32 // bytes of the text; size 0 once merged
	prev, next  int32
}

type spmBigram struct {
	left, right int32
	score       float32
	size        int32
}

func spmLess(a, b spmBigram) bool { // a comes out of the queue before b
	return a.score > b.score || (a.score == b.score && a.left < b.left)
}

func (m *spmModel) tokenize(dst []int32, text string) []int32 {
	if text == "" {
		return dst
	}
	syms := make([]spmSym, 0, len(text))
	for i := 0; i < len(text); {
		n := utf8LenOfLead(text[i])
		if i+n > len(text) {
			n = len(text) - i
		}
		next := int32(len(syms)) + 1
		if i+n == len(text) {
			next = -1
		}
		syms = append(syms, spmSym{start: int32(i), size: int32(n), prev: int32(len(syms)) - 1, next: next})
		i += n
	}
	var q []spmBigram
	push := func(b spmBigram) {
		q = append(q, b)
		for i := len(q) - 1; i > 0; {
			p := (i - 1) / 2
			if !spmLess(q[i], q[p]) {
				break
			}
			q[i], q[p] = q[p], q[i]
			i = p
		}
	}
	pop := func() spmBigram {
		top := q[0]
		q[0] = q[len(q)-1]
		q = q[:len(q)-1]
		for i := 0; ; {
			l := 2*i + 1
			if l >= len(q) {
				break
			}
			c := l
			if r := l + 1; r < len(q) && spmLess(q[r], q[l]) {
				c = r
			}
			if !spmLess(q[c], q[i]) {
				break
			}
			q[i], q[c] = q[c], q[i]
			i = c
		}
		return top
	}
	tryAdd := func(left, right int32) {
		if left < 0 || right < 0 {
			return
		}
		a, b := syms[left], syms[right]
		s := text[a.start : b.start+b.size]
		id, ok := m.vocab[s]
		if !ok || int(id) >= len(m.scores) {
			return
		}
		push(spmBigram{left: left, right: right, score: m.scores[id], size: int32(len(s))})
	}
	for i := 1; i < len(syms); i++ {
		tryAdd(int32(i-1), int32(i))
	}
	for len(q) > 0 {
		b := pop()
		l, r := &syms[b.left], &syms[b.right]
		if l.size == 0 || r.size == 0 || l.size+r.size != b.size {
			continue
		}
		l.size += r.size
		r.size = 0
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = b.left
		}
		tryAdd(l.prev, b.left)
		tryAdd(b.left, l.next)
	}
	for i := int32(0); i != -1; i = syms[i].next {
		s := syms[i]
		tok := text[s.start : s.start+s.size]
		if id, ok := m.vocab[tok]; ok {
			dst = append(dst, id)
			continue
		}
		for j := 0; j < len(tok); j++ {
			if id := m.byteIDs[tok[j]]; id >= 0 {
				dst = append(dst, id)
			} else if m.unk >= 0 {
				dst = append(dst, m.unk)
			}
		}
	}
	return dst
}

// utf8LenOfLead is llama.cpp's unicode_len_utf8: the length a lead byte announces (1 for stray bytes).
func utf8LenOfLead(c byte) int {
	switch {
	case c < 0x80:
		return 1
	case c < 0xC0:
		return 1
	case c < 0xE0:
		return 2
	case c < 0xF0:
		return 3
	}
	return 4
}
