package tokenizer

// postProcessor adds special tokens around an encoded sequence (single sequences only).
type postProcessor interface {
	process(ids []int32, addSpecial bool) []int32
}

// postTemplate is HF's TemplateProcessing for a single sequence: the ids of the special tokens before and
// after the sequence.
type postTemplate struct {
	before, after []int32
}

func (p postTemplate) process(ids []int32, addSpecial bool) []int32 {
	if !addSpecial || (len(p.before) == 0 && len(p.after) == 0) {
		return ids
	}
	out := make([]int32, 0, len(p.before)+len(ids)+len(p.after))
	out = append(out, p.before...)
	out = append(out, ids...)
	return append(out, p.after...)
}

// postSequence applies processors in turn.
type postSequence []postProcessor

func (q postSequence) process(ids []int32, addSpecial bool) []int32 {
	for _, p := range q {
		ids = p.process(ids, addSpecial)
	}
	return ids
}

// postNone is a processor that only touches offsets in HF (ByteLevel): nothing to do on ids.
type postNone struct{}

func (postNone) process(ids []int32, _ bool) []int32 { return ids }
