package tokenizer

import "strings"

// StreamDecoder turns ids into text one at a time, for printing tokens as they are generated. It never
// returns a piece that ends inside a UTF-8 character: a byte token such as <0xE2> is held back until the
// character is complete. Like HF's DecodeStream it decodes a short window of ids (the ids of the last piece
// returned, then the new ones) and returns what the new ids added to the window's text, so decoders that look
// at neighbours (leading spaces, Strip) behave as in Decode.
type StreamDecoder struct {
	t *Tokenizer
	// SkipSpecial drops special tokens, like Decode's skipSpecial.
	SkipSpecial bool

	ids    []int32 // the window: context ids, then pending ids
	read   int     // number of context ids
	prefix string  // decode of the context ids
}

// maxPending bounds how many ids may be held back (a character has at most 4 bytes); past it the text is
// returned as Decode gives it, with U+FFFD for bytes that do not form a character.
const maxPending = 8

// NewStreamDecoder returns a decoder for a stream of ids.
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder { return &StreamDecoder{t: t} }

// Add feeds one id and returns the text it completes ("" if none yet).
func (d *StreamDecoder) Add(id int32) string {
	d.ids = append(d.ids, id)
	s := d.t.Decode(d.ids, d.SkipSpecial)
	grown := len(s) > len(d.prefix) && strings.HasPrefix(s, d.prefix)
	if !(grown && !strings.HasSuffix(s, "\uFFFD")) && len(d.ids)-d.read < maxPending {
		return ""
	}
	out := ""
	if grown {
		out = s[len(d.prefix):]
	}
	d.ids = append(d.ids[:0], d.ids[d.read:]...)
	d.read = len(d.ids)
	d.prefix = d.t.Decode(d.ids, d.SkipSpecial)
	return out
}

// Flush returns the text held back (an incomplete character decodes to U+FFFD) and resets the decoder.
func (d *StreamDecoder) Flush() string {
	out := ""
	if len(d.ids) > d.read {
		if s := d.t.Decode(d.ids, d.SkipSpecial); len(s) > len(d.prefix) && strings.HasPrefix(s, d.prefix) {
			out = s[len(d.prefix):]
		}
	}
	d.ids, d.read, d.prefix = d.ids[:0], 0, ""
	return out
}
