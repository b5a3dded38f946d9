package safetensors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// entry is one tensor as described by the header, before validation against the data section.
type entry struct {
	name       string
	dtype      DType
	shape      []int64
	begin, end uint64
}

// jsonReader walks a JSON document token by token so that duplicate and unknown keys can be rejected
// (encoding/json's Unmarshal silently keeps the last duplicate). base is added to offsets in errors.
type jsonReader struct {
	dec    *json.Decoder
	file   string
	base   int64
	tensor string // tensor being decoded, for errors
}

func newJSONReader(data []byte, file string, base int64) *jsonReader {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return &jsonReader{dec: dec, file: file, base: base}
}

func (r *jsonReader) errorf(err error, format string, args ...any) error {
	return &FormatError{File: r.file, Tensor: r.tensor, Offset: r.base + r.dec.InputOffset(), Msg: fmt.Sprintf(format, args...), Err: err}
}

func (r *jsonReader) token() (json.Token, error) {
	tok, err := r.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, r.errorf(err, "invalid JSON")
	}
	return tok, nil
}

func (r *jsonReader) delim(want json.Delim) error {
	tok, err := r.token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return r.errorf(nil, "expected %q, found %v", string(want), describe(tok))
	}
	return nil
}

func (r *jsonReader) str() (string, error) {
	tok, err := r.token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", r.errorf(nil, "expected a string, found %v", describe(tok))
	}
	return s, nil
}

func (r *jsonReader) uint() (uint64, error) {
	tok, err := r.token()
	if err != nil {
		return 0, err
	}
	n, ok := tok.(json.Number)
	if !ok {
		return 0, r.errorf(nil, "expected an unsigned integer, found %v", describe(tok))
	}
	v, err := strconv.ParseUint(string(n), 10, 64)
	if err != nil {
		return 0, r.errorf(nil, "expected an unsigned integer, found %s", n)
	}
	return v, nil
}

// end consumes the end of the document; only whitespace may follow the top-level value.
func (r *jsonReader) end() error {
	tok, err := r.dec.Token()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return r.errorf(err, "invalid JSON after the header object")
	}
	return r.errorf(nil, "unexpected %v after the header object", describe(tok))
}

// skip consumes one complete value of any kind.
func (r *jsonReader) skip() error {
	var raw json.RawMessage
	if err := r.dec.Decode(&raw); err != nil {
		return r.errorf(err, "invalid JSON")
	}
	return nil
}

// stringMap reads an object whose values are all strings; null gives a nil map.
func (r *jsonReader) stringMap(what string) (map[string]string, error) {
	tok, err := r.token()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, r.errorf(nil, "%s: expected an object, found %v", what, describe(tok))
	}
	m := map[string]string{}
	for r.dec.More() {
		k, err := r.str()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, r.errorf(nil, "%s: duplicate key %q", what, k)
		}
		v, err := r.str()
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, r.delim('}')
}

func describe(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		return strconv.Quote(string(t))
	case string:
		return "string " + strconv.Quote(t)
	case json.Number:
		return "number " + string(t)
	case bool:
		return fmt.Sprint("bool ", t)
	}
	return fmt.Sprintf("%T", tok)
}

// decodeHeaderJSON decodes the header object strictly: valid UTF-8, an object with unique keys,
// "__metadata__" an object of strings, every other key a tensor object with exactly the keys
// dtype, shape and data_offsets.
func decodeHeaderJSON(hdr []byte, file string) ([]entry, map[string]string, error) {
	if !utf8.Valid(hdr) {
		return nil, nil, &FormatError{File: file, Offset: 8, Msg: "header is not valid UTF-8"}
	}
	if hdr[0] != '{' {
		return nil, nil, &FormatError{File: file, Offset: 8, Msg: fmt.Sprintf("header starts with %q, not '{'", hdr[0])}
	}
	r := newJSONReader(hdr, file, 8)
	if err := r.delim('{'); err != nil {
		return nil, nil, err
	}
	var (
		meta    map[string]string
		entries []entry
		seen    = map[string]bool{}
	)
	for r.dec.More() {
		key, err := r.str()
		if err != nil {
			return nil, nil, err
		}
		if seen[key] {
			return nil, nil, &FormatError{File: file, Tensor: key, Offset: 8 + r.dec.InputOffset(), Msg: "duplicate key in header"}
		}
		seen[key] = true
		if key == "__metadata__" {
			if meta, err = r.stringMap("__metadata__"); err != nil {
				return nil, nil, err
			}
			continue
		}
		e, err := r.tensorEntry(key)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if err := r.delim('}'); err != nil {
		return nil, nil, err
	}
	if err := r.end(); err != nil {
		return nil, nil, err
	}
	return entries, meta, nil
}

func (r *jsonReader) tensorEntry(name string) (entry, error) {
	r.tensor = name
	defer func() { r.tensor = "" }()
	e := entry{name: name}
	if err := r.delim('{'); err != nil {
		return e, err
	}
	var haveDType, haveShape, haveOffsets bool
	for r.dec.More() {
		key, err := r.str()
		if err != nil {
			return e, err
		}
		switch key {
		case "dtype":
			if haveDType {
				return e, r.errorf(nil, "duplicate key \"dtype\"")
			}
			haveDType = true
			s, err := r.str()
			if err != nil {
				return e, err
			}
			t, ok := ParseDType(s)
			if !ok {
				if subByte[s] {
					return e, r.errorf(ErrUnsupported, "dtype %q", s)
				}
				return e, r.errorf(nil, "unknown dtype %q", s)
			}
			e.dtype = t
		case "shape":
			if haveShape {
				return e, r.errorf(nil, "duplicate key \"shape\"")
			}
			haveShape = true
			if err := r.delim('['); err != nil {
				return e, err
			}
			e.shape = []int64{}
			for r.dec.More() {
				if len(e.shape) == maxDims {
					return e, r.errorf(nil, "more than %d dimensions", maxDims)
				}
				d, err := r.uint()
				if err != nil {
					return e, err
				}
				if d > math.MaxInt64 {
					return e, r.errorf(nil, "dimension %d too large", d)
				}
				e.shape = append(e.shape, int64(d))
			}
			if err := r.delim(']'); err != nil {
				return e, err
			}
		case "data_offsets":
			if haveOffsets {
				return e, r.errorf(nil, "duplicate key \"data_offsets\"")
			}
			haveOffsets = true
			if err := r.delim('['); err != nil {
				return e, err
			}
			if e.begin, err = r.uint(); err != nil {
				return e, err
			}
			if e.end, err = r.uint(); err != nil {
				return e, err
			}
			if err := r.delim(']'); err != nil {
				return e, r.errorf(nil, "data_offsets must have exactly two entries")
			}
		default:
			return e, r.errorf(nil, "unknown key %q in tensor entry", key)
		}
	}
	if err := r.delim('}'); err != nil {
		return e, err
	}
	switch {
	case !haveDType:
		return e, r.errorf(nil, "missing \"dtype\"")
	case !haveShape:
		return e, r.errorf(nil, "missing \"shape\"")
	case !haveOffsets:
		return e, r.errorf(nil, "missing \"data_offsets\"")
	}
	return e, nil
}
