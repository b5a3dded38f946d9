package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/bitrepl/bitrepl/model/atomicfile"
)

// Write writes tensors and meta (the "__metadata__" map; nil or empty for none) as one safetensors file.
// Like the reference writer, tensors are laid out by dtype (in the reference's alignment order, largest
// first) then name, and the
// header is padded with spaces to a multiple of 8 bytes, so every tensor is aligned to its element size.
// Names must be unique, non-empty and not "__metadata__"; each Data must match its DType and Shape.
func Write(w io.Writer, tensors []Tensor, meta map[string]string) error {
	if err := checkTensors(tensors); err != nil {
		return err
	}
	for k, v := range meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("safetensors: metadata %q is not valid UTF-8", k)
		}
	}
	order := layout(tensors)
	hdr, err := encodeHeader(tensors, order, meta)
	if err != nil {
		return err
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(hdr)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	for _, i := range order {
		if _, err := w.Write(tensors[i].Data); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes a safetensors file at path atomically (see package atomicfile): a crash or a full disk
// leaves the previous file as it was.
func WriteFile(path string, tensors []Tensor, meta map[string]string) error {
	if err := checkTensors(tensors); err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error { return Write(w, tensors, meta) })
}

// IndexName is the name of the index that maps tensor names to shards in a sharded checkpoint.
const IndexName = "model.safetensors.index.json"

// SingleName is the file name of an unsharded checkpoint.
const SingleName = "model.safetensors"

// WriteSharded writes tensors into dir the way transformers' save_pretrained (huggingface_hub's
// split_torch_state_dict_into_shards) does: in the given order, starting a new shard when the next tensor
// would take the current one past maxShardBytes; a tensor larger than that gets a shard of its own at once
// while the current shard goes on. Shards are named model-00001-of-0000N.safetensors plus model.safetensors.index.json
// ({"metadata": {"total_size": bytes}, "weight_map": {name: shard}}). A single shard is written as
// model.safetensors without an index. maxShardBytes <= 0 means no limit. Every shard carries the metadata
// {"format": "pt"}, which transformers checks when loading.
func WriteSharded(dir string, tensors []Tensor, maxShardBytes int64) error {
	if err := checkTensors(tensors); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var shards [][]Tensor
	var cur []Tensor
	var curBytes, total int64
	for _, t := range tensors {
		sz := int64(len(t.Data))
		total += sz
		if maxShardBytes > 0 && sz > maxShardBytes { // alone, and the current shard goes on
			shards = append(shards, []Tensor{t})
			continue
		}
		if maxShardBytes > 0 && len(cur) > 0 && curBytes+sz > maxShardBytes {
			shards = append(shards, cur)
			cur, curBytes = nil, 0
		}
		cur = append(cur, t)
		curBytes += sz
	}
	if len(cur) > 0 || len(shards) == 0 {
		shards = append(shards, cur)
	}
	meta := map[string]string{"format": "pt"}
	if len(shards) == 1 {
		return WriteFile(filepath.Join(dir, SingleName), shards[0], meta)
	}
	weightMap := map[string]string{}
	for i, sh := range shards {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		if err := WriteFile(filepath.Join(dir, name), sh, meta); err != nil {
			return err
		}
		for _, t := range sh {
			weightMap[t.Name] = name
		}
	}
	// transformers writes json.dumps(index, indent=2, sort_keys=True) + "\n"; encoding/json sorts map keys.
	index := struct {
		Metadata  map[string]int64  `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}{map[string]int64{"total_size": total}, weightMap}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(index); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, IndexName), buf.Bytes())
}

func checkTensors(tensors []Tensor) error {
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" || !utf8.ValidString(t.Name) {
			return fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
		}
		if seen[t.Name] {
			return fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		seen[t.Name] = true
		size, err := byteSize(t.DType, t.Shape)
		if err != nil {
			return fmt.Errorf("safetensors: tensor %q: %w", t.Name, err)
		}
		if size != int64(len(t.Data)) {
			return fmt.Errorf("safetensors: tensor %q: %v shape %v needs %d bytes, have %d", t.Name, t.DType, t.Shape, size, len(t.Data))
		}
	}
	return nil
}

// layout returns the order of tensors in the data section: dtype alignment rank descending, then name.
func layout(tensors []Tensor) []int {
	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		ta, tb := tensors[order[a]], tensors[order[b]]
		if ra, rb := alignRank[ta.DType], alignRank[tb.DType]; ra != rb {
			return ra > rb
		}
		return ta.Name < tb.Name
	})
	return order
}

func encodeHeader(tensors []Tensor, order []int, meta map[string]string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	comma := func() {
		if !first {
			b.WriteByte(',')
		}
		first = false
	}
	if len(meta) > 0 {
		comma()
		writeJSONString(&b, "__metadata__")
		b.WriteString(":{")
		keys := make([]string, 0, len(meta))
		for k := range meta {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, k)
			b.WriteByte(':')
			writeJSONString(&b, meta[k])
		}
		b.WriteByte('}')
	}
	var off int64
	for _, i := range order {
		t := tensors[i]
		comma()
		writeJSONString(&b, t.Name)
		b.WriteString(`:{"dtype":"`)
		b.WriteString(t.DType.String())
		b.WriteString(`","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(d, 10))
		}
		end := off + int64(len(t.Data))
		fmt.Fprintf(&b, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	if b.Len() > MaxHeaderSize {
		return nil, errors.New("safetensors: header exceeds MaxHeaderSize")
	}
	return b.Bytes(), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)           // cannot fail for a string
	b.Truncate(b.Len() - 1) // Encode appends a newline
}
