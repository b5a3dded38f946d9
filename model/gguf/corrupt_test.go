package gguf

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// fb builds raw GGUF bytes, field by field, remembering the offset of the field a test expects to be blamed.
type fb struct {
	b   []byte
	off int
}

func (f *fb) mark() *fb { f.off = len(f.b); return f }
func (f *fb) raw(s string) *fb {
	f.b = append(f.b, s...)
	return f
}
func (f *fb) u32(x uint32) *fb {
	f.b = binary.LittleEndian.AppendUint32(f.b, x)
	return f
}
func (f *fb) u64(x uint64) *fb {
	f.b = binary.LittleEndian.AppendUint64(f.b, x)
	return f
}
func (f *fb) str(s string) *fb { return f.u64(uint64(len(s))).raw(s) }

// hdr writes a v3 header.
func (f *fb) hdr(nTensors, nKV uint64) *fb { return f.raw("GGUF").u32(3).u64(nTensors).u64(nKV) }

// tensor writes a tensor info.
func (f *fb) tensor(name string, typ Type, offset uint64, dims ...uint64) *fb {
	f.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		f.u64(d)
	}
	return f.u32(uint32(typ)).u64(offset)
}

// pad pads to 32 bytes and appends n data bytes.
func (f *fb) data(n int) *fb {
	for len(f.b)%32 != 0 {
		f.b = append(f.b, 0)
	}
	f.b = append(f.b, make([]byte, n)...)
	return f
}

func TestCorrupt(t *testing.T) {
	tests := []struct {
		name   string
		build  func(f *fb)
		tensor string
		msg    string
		err    error // errors.Is target, or nil for none
	}{
		{"empty", func(f *fb) {}, "", "truncated magic", io.ErrUnexpectedEOF},
		{"bad magic", func(f *fb) { f.raw("GGML").u32(3) }, "", `bad magic "GGML"`, nil},
		{"lower-case magic", func(f *fb) { f.raw("gguf").u32(3) }, "", "bad magic", nil},
		{"truncated version", func(f *fb) { f.raw("GGUF").mark().raw("\x03\x00") }, "", "truncated version", io.ErrUnexpectedEOF},
		{"v1", func(f *fb) { f.raw("GGUF").mark().u32(1).u32(0).u32(0) }, "", "GGUF v1", ErrUnsupported},
		{"v0", func(f *fb) { f.raw("GGUF").mark().u32(0) }, "", "version 0", ErrUnsupported},
		{"v4", func(f *fb) { f.raw("GGUF").mark().u32(4).u64(0).u64(0) }, "", "version 4", ErrUnsupported},
		{"big-endian", func(f *fb) { f.raw("GGUF").mark().u32(3 << 24).u64(0).u64(0) }, "", "big-endian", ErrUnsupported},
		{"huge tensor count", func(f *fb) { f.raw("GGUF").u32(3).mark().u64(1 << 40).u64(0) }, "", "tensor count 1099511627776 exceeds", nil},
		{"huge kv count", func(f *fb) { f.raw("GGUF").u32(3).u64(0).mark().u64(1 << 63) }, "", "key/value count", nil},
		{"counts too big for file", func(f *fb) { f.raw("GGUF").u32(2).mark().u64(1000).u64(1000) }, "", "cannot fit", io.ErrUnexpectedEOF},
		{"huge key length", func(f *fb) { f.hdr(0, 1).mark().u64(1 << 62).u32(4).u32(0) }, "", "key length 4611686018427387904 exceeds", nil},
		{"key past end", func(f *fb) { f.hdr(0, 1).u64(100).mark().raw("general.name") }, "", "truncated key", io.ErrUnexpectedEOF},
		{"huge string value", func(f *fb) {
			f.hdr(0, 1).str("general.name").u32(uint32(KindString)).mark().u64(MaxStringLen + 1).raw("x")
		}, "", "exceeds the limit of 16777216", nil},
		{"string value past end", func(f *fb) {
			f.hdr(0, 1).str("general.name").u32(uint32(KindString)).u64(1 << 20).mark().raw("abc")
		}, "", `truncated string value of key "general.name"`, io.ErrUnexpectedEOF},
		{"huge array length", func(f *fb) {
			f.hdr(0, 1).str("tokenizer.ggml.scores").u32(uint32(KindArray)).u32(uint32(KindFloat32)).mark().u64(1 << 60).u32(0)
		}, "", "array length 1152921504606846976 exceeds", nil},
		{"array past end", func(f *fb) {
			f.hdr(0, 1).str("tokenizer.ggml.scores").u32(uint32(KindArray)).u32(uint32(KindFloat32)).u64(1 << 20).mark().u32(0)
		}, "", `truncated array of key "tokenizer.ggml.scores"`, io.ErrUnexpectedEOF},
		{"string array past end", func(f *fb) {
			f.hdr(0, 1).str("tokenizer.ggml.tokens").u32(uint32(KindArray)).u32(uint32(KindString)).u64(1 << 20).mark().str("a")
		}, "", `truncated array of key "tokenizer.ggml.tokens"`, io.ErrUnexpectedEOF},
		{"huge string in array", func(f *fb) {
			f.hdr(0, 1).str("tokenizer.ggml.tokens").u32(uint32(KindArray)).u32(uint32(KindString)).u64(2).str("a").mark().u64(1 << 40).u64(0)
		}, "", "string 1 length 1099511627776 exceeds", nil},
		{"unknown value type", func(f *fb) { f.hdr(0, 1).str("x").mark().u32(13).u64(0) }, "", "unknown value type 13", ErrUnsupported},
		{"unknown array type", func(f *fb) { f.hdr(0, 1).str("x").u32(uint32(KindArray)).mark().u32(99).u64(0) }, "", "array of unknown type 99", ErrUnsupported},
		{"nested array", func(f *fb) {
			f.hdr(0, 1).str("x").u32(uint32(KindArray)).mark().u32(uint32(KindArray)).u64(1).u32(uint32(KindUint8)).u64(0)
		}, "", "array of arrays", ErrUnsupported},
		{"duplicate key", func(f *fb) {
			f.hdr(0, 2).str("a").u32(uint32(KindUint8)).raw("\x01").mark().str("a").u32(uint32(KindUint8)).raw("\x01")
		}, "", `duplicate key "a"`, nil},
		{"alignment not a power of two", func(f *fb) { f.hdr(0, 1).str(KeyAlignment).u32(uint32(KindUint32)).mark().u32(48) }, "", "general.alignment = 48", nil},
		{"alignment zero", func(f *fb) { f.hdr(0, 1).str(KeyAlignment).u32(uint32(KindUint32)).mark().u32(0) }, "", "power of two", nil},
		{"alignment huge", func(f *fb) { f.hdr(0, 1).str(KeyAlignment).u32(uint32(KindUint64)).mark().u64(1 << 40) }, "", "power of two", nil},
		{"alignment string", func(f *fb) { f.hdr(0, 1).str(KeyAlignment).u32(uint32(KindString)).mark().str("32") }, "", "power of two", nil},
		{"huge tensor name", func(f *fb) { f.hdr(1, 0).mark().u64(MaxKeyLen + 1).raw(strings.Repeat("x", 40)) }, "", "tensor name length 65537 exceeds", nil},
		{"too many dims", func(f *fb) {
			f.hdr(1, 0).str("w").mark().u32(5).u64(1).u64(1).u64(1).u64(1).u64(1).u32(0).u64(0)
		}, "w", "5 dimensions", nil},
		{"no dims", func(f *fb) { f.hdr(1, 0).str("w").mark().u32(0).u32(0).u64(0).u64(0).u64(0) }, "w", "0 dimensions", nil},
		{"zero dim", func(f *fb) { f.hdr(1, 0).str("w").u32(2).u64(4).mark().u64(0).u32(0).u64(0) }, "w", "dimension 1 is zero", nil},
		{"unknown tensor type", func(f *fb) { f.hdr(1, 0).str("w").u32(1).u64(4).mark().u32(37).u64(0).u64(0) }, "w", "unknown tensor type 37", ErrUnsupported},
		{"unknown tensor type huge", func(f *fb) { f.hdr(1, 0).str("w").u32(1).u64(4).mark().u32(1 << 31).u64(0).u64(0) }, "w", "unknown tensor type", ErrUnsupported},
		{"row not whole blocks", func(f *fb) { f.hdr(1, 0).str("w").u32(1).u64(16).mark().u32(uint32(Q8_0)).u64(0).u64(0) }, "w", "not a multiple of the Q8_0 block size 32", nil},
		{"size overflow", func(f *fb) {
			f.hdr(1, 0).str("w").u32(2).u64(1 << 32).u64(1 << 31).mark().u32(uint32(F32)).u64(0).u64(0)
		}, "w", "size overflow", nil},
		{"element overflow", func(f *fb) {
			f.hdr(1, 0).str("w").u32(4).u64(1 << 20).u64(1 << 20).u64(1 << 20).u64(1 << 20).mark().u32(uint32(I8)).u64(0)
		}, "w", "element count", nil},
		{"misaligned offset", func(f *fb) { f.hdr(1, 0).str("w").u32(1).u64(1).u32(0).mark().u64(4).data(64) }, "w", "data offset 4 is not a multiple of the alignment 32", nil},
		{"misaligned offset custom alignment", func(f *fb) {
			f.hdr(1, 1).str(KeyAlignment).u32(uint32(KindUint32)).u32(64).str("w").u32(1).u64(8).u32(0).mark().u64(32).data(128)
		}, "w", "alignment 64", nil},
		{"offset past end", func(f *fb) {
			f.hdr(1, 0).str("w").u32(1).u64(8).u32(0).mark().u64(1 << 40).data(32)
		}, "w", "runs past the end of the file", io.ErrUnexpectedEOF},
		{"offset overflow", func(f *fb) {
			f.hdr(1, 0).str("w").u32(1).u64(8).u32(0).mark().u64(1<<64 - 32).data(32)
		}, "w", "runs past the end of the file", io.ErrUnexpectedEOF},
		{"data truncated", func(f *fb) {
			f.hdr(1, 0).str("w").u32(1).u64(8).u32(0).mark().u64(0).data(31)
		}, "w", "runs past the end of the file", io.ErrUnexpectedEOF},
		{"second tensor past end", func(f *fb) {
			f.hdr(2, 0).tensor("a", F32, 0, 8).str("b").u32(1).u64(16).u32(0).mark().u64(32).data(64)
		}, "b", "(64 bytes) runs past", io.ErrUnexpectedEOF},
		{"duplicate tensor", func(f *fb) {
			f.hdr(2, 0).tensor("a", F32, 0, 8).mark().tensor("a", F32, 32, 8).data(64)
		}, "a", "duplicate tensor name", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f fb
			tt.build(&f)
			_, err := Parse(f.b, "bad.gguf")
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FormatError", err, err)
			}
			if fe.File != "bad.gguf" || fe.Tensor != tt.tensor || fe.Offset != int64(f.off) || !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("got %q\n(file %q tensor %q offset %d)\nwant tensor %q offset %d message containing %q",
					err, fe.File, fe.Tensor, fe.Offset, tt.tensor, f.off, tt.msg)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("error %v does not wrap %v", err, tt.err)
			}
			if tt.err == nil && fe.Err != nil {
				t.Errorf("error %v wraps %v, want nothing", err, fe.Err)
			}
		})
	}
}

// TestTruncated cuts a valid file at every length: each prefix that lacks part of the tensor data fails
// with a *FormatError blaming an offset inside the prefix; longer prefixes (missing only padding) parse.
func TestTruncated(t *testing.T) {
	file, _ := buildFile(t)
	full, err := Parse(file, "x")
	if err != nil {
		t.Fatal(err)
	}
	last := full.Tensors[len(full.Tensors)-1]
	end := int(full.DataOffset + last.Offset + last.Size)
	for n := 0; n < len(file); n++ {
		f, err := Parse(file[:n], "cut.gguf")
		if n >= end {
			if err != nil {
				t.Errorf("prefix of %d bytes (data ends at %d): %v", n, end, err)
			}
			continue
		}
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("prefix of %d bytes: got %v, %v", n, f, err)
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) || fe.Offset < 0 || fe.Offset > int64(n) {
			t.Errorf("prefix of %d bytes: %v", n, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open("/nonexistent/x.gguf"); err == nil {
		t.Error("Open of a missing file succeeded")
	}
	dir := t.TempDir()
	w := NewWriter()
	if err := w.WriteFile(dir + "/empty.gguf"); err != nil {
		t.Fatal(err)
	}
	f, err := Open(dir + "/empty.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.KV) != 0 || len(f.Tensors) != 0 {
		t.Error("empty file has content")
	}
	f.Close()
	var b fb
	b.raw("GGUF").u32(1)
	if err := os.WriteFile(dir+"/v1.gguf", b.b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir + "/v1.gguf")
	var fe *FormatError
	if !errors.As(err, &fe) || fe.File != dir+"/v1.gguf" || !errors.Is(err, ErrUnsupported) {
		t.Errorf("Open v1: %v", err)
	}
	if err := os.WriteFile(dir+"/zero.gguf", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err = Open(dir + "/zero.gguf"); !errors.As(err, &fe) {
		t.Errorf("Open of an empty file: %v", err)
	}
}

func TestFormatErrorMessage(t *testing.T) {
	e := &FormatError{File: "m.gguf", Tensor: "blk.0.attn_q.weight", Offset: 123, Msg: "bad", Err: ErrUnsupported}
	if got, want := e.Error(), `gguf: m.gguf: tensor "blk.0.attn_q.weight": offset 123: bad: unsupported`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if !errors.Is(e, ErrUnsupported) {
		t.Error("Unwrap")
	}
}
