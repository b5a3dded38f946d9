package train

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/bitrepl/bitrepl/model/atomicfile"
)

// Checkpoint file layout: the 8-byte magic, a little-endian uint32 length and that many bytes of JSON header, then
// the latent weights, AdamW's first and second moments as little-endian float32 (Params() values each, in layout
// order).
const ckptMagic = "BITRAIN1"

type ckptHeader struct {
	Config Config  `json:"config"`
	Step   int     `json:"step"`
	Tokens int64   `json:"tokens"`
	Time   float64 `json:"seconds"`
	Params int     `json:"params"`
}

// SaveCheckpoint writes the trainer's full state to path atomically (see package atomicfile).
func (t *Trainer) SaveCheckpoint(path string) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		hdr, _ := json.Marshal(ckptHeader{Config: t.Cfg, Step: t.Step, Tokens: t.Tokens, Time: t.Time, Params: len(t.params)})
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], uint32(len(hdr)))
		if _, err := w.Write(append(append([]byte(ckptMagic), n[:]...), hdr...)); err != nil {
			return err
		}
		buf := make([]byte, 4*4096)
		for _, s := range [][]float32{t.params, t.m, t.v} {
			for i := 0; i < len(s); i += 4096 {
				chunk := s[i:min(i+4096, len(s))]
				for j, v := range chunk {
					binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
				}
				if _, err := w.Write(buf[:4*len(chunk)]); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// CheckpointError reports a malformed checkpoint file.
type CheckpointError struct {
	File   string
	Offset int64
	Msg    string
}

func (e *CheckpointError) Error() string {
	return fmt.Sprintf("train: checkpoint %s at byte %d: %s", e.File, e.Offset, e.Msg)
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint into a new trainer with the given worker count.
func LoadCheckpoint(path string, workers int) (*Trainer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	bad := func(off int64, format string, args ...any) error {
		return &CheckpointError{File: path, Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	var head [12]byte
	if _, err := io.ReadFull(r, head[:]); err != nil || string(head[:8]) != ckptMagic {
		return nil, bad(0, "not a bitrepl training checkpoint")
	}
	n := binary.LittleEndian.Uint32(head[8:])
	if int64(n) > min(st.Size(), 1<<20) {
		return nil, bad(8, "header length %d too large", n)
	}
	hb := make([]byte, n)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, bad(12, "short header")
	}
	var h ckptHeader
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, bad(12, "header: %v", err)
	}
	if err := h.Config.Model.Validate(); err != nil {
		return nil, bad(12, "%v", err)
	}
	np := h.Config.Model.Params()
	if h.Params != np || int64(12+n)+int64(np)*12 != st.Size() {
		return nil, bad(12, "%d params for model %+v, file size %d", h.Params, h.Config.Model, st.Size())
	}
	if workers > 0 {
		h.Config.Workers = workers
	}
	t, err := NewTrainer(h.Config)
	if err != nil {
		return nil, err
	}
	t.Step, t.Tokens, t.Time = h.Step, h.Tokens, h.Time
	buf := make([]byte, 4*4096)
	off := int64(12 + n)
	for _, s := range [][]float32{t.params, t.m, t.v} {
		for i := 0; i < len(s); i += 4096 {
			chunk := s[i:min(i+4096, len(s))]
			if _, err := io.ReadFull(r, buf[:4*len(chunk)]); err != nil {
				return nil, bad(off, "short data")
			}
			for j := range chunk {
				chunk[j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
			}
			off += int64(4 * len(chunk))
		}
	}
	return t, nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'))
}
