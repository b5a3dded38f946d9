package safetensors

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bitrepl/bitrepl/model/regfile"
)

// maxIndexSize bounds model.safetensors.index.json: one line per tensor, about
// 100 bytes each; DeepSeek-V3's 91,000 tensors take 8 MiB.
const maxIndexSize = 32 << 20

// Set is a checkpoint directory: one file or several shards, accessed as one set of tensors.
type Set struct {
	Dir    string
	files  []*File          // opened shards, in shard-name order
	byName map[string]*File // tensor name -> file holding it
	names  []string
}

// OpenDir opens the checkpoint in dir: model.safetensors.index.json and the shards in its weight_map,
// else model.safetensors, else the only *.safetensors file. A shard named in the index that is missing,
// malformed, or lacks a tensor the index places in it is an error naming the shard.
func OpenDir(dir string) (*Set, error) {
	s := &Set{Dir: dir, byName: map[string]*File{}}
	indexPath := filepath.Join(dir, IndexName)
	data, err := regfile.ReadFile(indexPath, maxIndexSize)
	switch {
	case err == nil:
		if err := s.openIndexed(indexPath, data); err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	single := filepath.Join(dir, SingleName)
	if _, err := os.Stat(single); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		matches, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
		if err != nil {
			return nil, err
		}
		switch len(matches) {
		case 0:
			return nil, fmt.Errorf("safetensors: %s: no %s, %s or *.safetensors file", dir, IndexName, SingleName)
		case 1:
			single = matches[0]
		default:
			return nil, fmt.Errorf("safetensors: %s: %d *.safetensors files and no %s", dir, len(matches), IndexName)
		}
	}
	f, err := Open(single)
	if err != nil {
		return nil, err
	}
	s.files = []*File{f}
	for _, t := range f.tensors {
		s.byName[t.Name] = f
	}
	s.names = f.Names()
	return s, nil
}

func (s *Set) openIndexed(indexPath string, data []byte) error {
	weightMap, err := parseIndex(data, indexPath)
	if err != nil {
		return err
	}
	byShard := map[string][]string{}
	for name, shard := range weightMap {
		byShard[shard] = append(byShard[shard], name)
	}
	for _, shard := range slices.Sorted(maps.Keys(byShard)) {
		if shard == "" || shard == "." || shard == ".." || strings.ContainsAny(shard, `/\`) || filepath.Base(shard) != shard {
			return &FormatError{File: indexPath, Offset: -1, Msg: fmt.Sprintf("shard name %q is not a plain file name", shard)}
		}
		path := filepath.Join(s.Dir, shard)
		f, err := Open(path)
		if err != nil {
			var fe *FormatError
			if errors.As(err, &fe) {
				return err // names the shard already
			}
			return &FormatError{File: path, Offset: -1, Msg: fmt.Sprintf("shard %s listed in %s cannot be opened", shard, IndexName), Err: err}
		}
		s.files = append(s.files, f)
		names := byShard[shard]
		slices.Sort(names)
		for _, name := range names {
			if _, ok := f.index[name]; !ok {
				return &FormatError{File: path, Tensor: name, Offset: -1, Msg: fmt.Sprintf("shard %s lacks a tensor that %s places in it", shard, IndexName)}
			}
			s.byName[name] = f
		}
	}
	s.names = slices.Sorted(maps.Keys(weightMap))
	return nil
}

// parseIndex reads the weight_map of an index strictly (no duplicate keys; string values);
// other top-level keys such as "metadata" are skipped.
func parseIndex(data []byte, file string) (map[string]string, error) {
	r := newJSONReader(data, file, 0)
	if err := r.delim('{'); err != nil {
		return nil, err
	}
	var wm map[string]string
	seen := map[string]bool{}
	for r.dec.More() {
		key, err := r.str()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, r.errorf(nil, "duplicate key %q", key)
		}
		seen[key] = true
		if key != "weight_map" {
			if err := r.skip(); err != nil {
				return nil, err
			}
			continue
		}
		if wm, err = r.stringMap("weight_map"); err != nil {
			return nil, err
		}
	}
	if err := r.delim('}'); err != nil {
		return nil, err
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	if wm == nil {
		return nil, &FormatError{File: file, Offset: -1, Msg: "no weight_map"}
	}
	return wm, nil
}

// Tensor returns the tensor called name, from whichever shard holds it.
func (s *Set) Tensor(name string) (Tensor, bool) {
	f, ok := s.byName[name]
	if !ok {
		return Tensor{}, false
	}
	return f.Tensor(name)
}

// Names returns the tensor names, sorted. With an index these are the names in its weight_map.
func (s *Set) Names() []string { return slices.Clone(s.names) }

// Metadata returns the "__metadata__" maps of all files merged; for a key present in several shards
// the first shard in name order wins.
func (s *Set) Metadata() map[string]string {
	m := map[string]string{}
	for i := len(s.files) - 1; i >= 0; i-- {
		maps.Copy(m, s.files[i].meta)
	}
	return m
}

// Close closes every file of the set.
func (s *Set) Close() error {
	var errs []error
	for _, f := range s.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}
