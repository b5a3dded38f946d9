// Package tokenizer is a pure-Go implementation of the Hugging Face tokenizers pipeline for the models bitrepl
// runs: tokenizer.json files (BPE with byte-level or byte-fallback vocabularies, their normalizers,
// pre-tokenizers, post-processors and decoders, added tokens) and the tokenizers embedded in GGUF files
// (llama.cpp's "gpt2" byte-level BPE and "llama" SentencePiece-style vocabularies).
//
// Encoding follows the Rust library step by step:
//
//	added tokens that are not normalized are cut out of the raw text (leftmost-longest match);
//	the rest is normalized, then cut on the normalized added tokens;
//	each remaining piece is pre-tokenized, and each pre-token is encoded by the model;
//	the post-processor adds the special tokens (when asked).
//
// Decoding maps ids to token strings (dropping unknown ids, and special tokens when asked) and runs the decoder
// chain. A Tokenizer is safe for concurrent use.
//
// Of bitrepl it imports model/regfile only (regexp2 runs the pre-tokenizer
// regexes, golang.org/x/text the Unicode normalizers).
package tokenizer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bitrepl/bitrepl/model/regfile"
)

// ErrUnsupported is wrapped by errors for tokenizer features this package does not implement.
var ErrUnsupported = errors.New("unsupported")

// MaxFileBytes bounds the size of a tokenizer.json file read by FromFile.
// LLaMA-3's is 9 MB, Gemma 3's 33 MB.
const MaxFileBytes = 64 << 20

// Error reports a malformed or unsupported tokenizer description: File is the file name (if known), Path the
// place inside it (a JSON path such as "model.merges[12]", or a GGUF key), Offset a byte offset (-1 if unknown).
type Error struct {
	File   string
	Path   string
	Offset int64
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("tokenizer: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, "offset %d: ", e.Offset)
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		if e.Msg != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func errorf(path string, err error, format string, args ...any) *Error {
	return &Error{Path: path, Offset: -1, Msg: fmt.Sprintf(format, args...), Err: err}
}

// model turns one pre-token into ids.
type model interface {
	tokenize(dst []int32, word string) []int32
}

// Tokenizer encodes text into token ids and decodes ids back into text.
type Tokenizer struct {
	model      model
	bpe        *bpeModel // the model when it is BPE (tokenizer.json or GGUF gpt2)
	spm        *spmModel // the model when it comes from a GGUF "llama" vocabulary
	normalizer normalizer
	pre        preTokenizer
	post       postProcessor
	decoder    decoder
	added      *addedVocab

	tokens   []string         // id -> token string (model vocabulary and added tokens)
	ids      map[string]int32 // added tokens (looked up before the model vocabulary, like HF's token_to_id)
	modelIDs map[string]int32 // the model vocabulary
	special  []bool           // id -> the token is a special added token (by content, like HF)

	bos, eos, eot, pad, unk int32
	addBOS, addEOS          bool
	chatTemplate            string

	gguf     *GGUFVocab // the vocabulary this tokenizer was built from, when it came from GGUF
	warnings []string
}

// FromFile reads a tokenizer.json file.
func FromFile(path string) (*Tokenizer, error) {
	data, err := regfile.ReadFile(path, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	t, err := FromJSON(data)
	if err != nil {
		var te *Error
		if errors.As(err, &te) && te.File == "" {
			te.File = path
		}
		return nil, err
	}
	return t, nil
}

// Encode turns text into token ids. Added tokens written inside text are matched (special tokens included);
// addSpecial lets the post-processor add its special tokens (such as BOS).
func (t *Tokenizer) Encode(text string, addSpecial bool) []int32 {
	ids := make([]int32, 0, len(text)/3+4)
	var pieces []piece
	for _, seg := range t.added.extractAndNormalize(text, t.normalizer) {
		if seg.id >= 0 {
			ids = append(ids, seg.id)
			continue
		}
		pieces = pieces[:0]
		if t.pre != nil {
			pieces = t.pre.preTokenize(pieces, piece{s: seg.s, first: seg.first})
		} else {
			pieces = append(pieces, piece{s: seg.s, first: seg.first})
		}
		for _, p := range pieces {
			if p.s != "" {
				ids = t.model.tokenize(ids, p.s)
			}
		}
	}
	if t.post != nil {
		ids = t.post.process(ids, addSpecial)
	}
	return ids
}

// Decode turns token ids back into text. Ids outside the vocabulary are dropped, and so are special tokens
// when skipSpecial is set.
func (t *Tokenizer) Decode(ids []int32, skipSpecial bool) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if id < 0 || int(id) >= len(t.tokens) || (t.tokens[id] == "" && !t.known(id)) {
			continue
		}
		if skipSpecial && t.special[id] {
			continue
		}
		toks = append(toks, t.tokens[id])
	}
	if t.decoder == nil {
		return strings.Join(toks, " ")
	}
	return strings.Join(t.decoder.decodeChain(toks), "")
}

// known reports whether id names a token (the vocabulary may have holes, which hold "").
func (t *Tokenizer) known(id int32) bool {
	got, ok := t.ID("")
	return ok && got == id
}

// VocabSize returns the number of token ids (the largest id plus one).
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// Token returns the string of token id ("" when id is out of range).
func (t *Tokenizer) Token(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// ID returns the id of a token string (added tokens first, then the model vocabulary).
func (t *Tokenizer) ID(token string) (int32, bool) {
	if id, ok := t.ids[token]; ok {
		return id, true
	}
	id, ok := t.modelIDs[token]
	return id, ok
}

// BOS returns the beginning-of-sequence token id, -1 if none.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS returns the end-of-sequence token id, -1 if none.
func (t *Tokenizer) EOS() int32 { return t.eos }

// EOT returns the end-of-turn token id (LLaMA-3 <|eot_id|>), -1 if none.
func (t *Tokenizer) EOT() int32 { return t.eot }

// IsSpecial reports whether id is a special added token (skipped by Decode with skipSpecial).
func (t *Tokenizer) IsSpecial(id int32) bool {
	return id >= 0 && int(id) < len(t.special) && t.special[id]
}

// IsEOG reports whether generation should stop at id (EOS or EOT).
func (t *Tokenizer) IsEOG(id int32) bool { return id >= 0 && (id == t.eos || id == t.eot) }

// Warnings returns problems found while loading that do not stop the tokenizer from working, such as a
// GGUF vocabulary whose pre-tokenizer name does not fit its tokens.
func (t *Tokenizer) Warnings() []string { return append([]string(nil), t.warnings...) }

// ChatTemplate returns the chat template recorded with the tokenizer ("" if none).
func (t *Tokenizer) ChatTemplate() string { return t.chatTemplate }

// finish fills the id tables shared by both constructors. modelTokens is the model vocabulary (id -> token,
// "" for holes).
func (t *Tokenizer) finish(modelTokens []string, modelIDs map[string]int32) {
	n := len(modelTokens)
	for _, a := range t.added.tokens {
		if int(a.id) >= n {
			n = int(a.id) + 1
		}
	}
	t.tokens = make([]string, n)
	copy(t.tokens, modelTokens)
	t.special = make([]bool, n)
	t.modelIDs = modelIDs
	t.ids = make(map[string]int32, len(t.added.tokens))
	for _, a := range t.added.tokens {
		t.tokens[a.id] = t.added.decodeContent(a)
		t.ids[a.content] = a.id
	}
	specials := map[string]bool{}
	for _, a := range t.added.tokens {
		if a.special {
			specials[a.content] = true
		}
	}
	for id, s := range t.tokens {
		if specials[s] {
			t.special[id] = true
		}
	}
}
