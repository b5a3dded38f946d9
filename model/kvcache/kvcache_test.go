package kvcache

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestPutHeadTruncate(t *testing.T) {
	c := New(2, 4, 2, 3, F32) // 2 KV heads of 3
	c.Put(1, 0, []float32{1, 2, 3, 4, 5, 6}, []float32{-1, -2, -3, -4, -5, -6})
	c.Put(1, 1, []float32{7, 8, 9, 10, 11, 12}, []float32{-7, -8, -9, -10, -11, -12})
	c.Commit(2)
	if c.Len() != 2 || c.Width() != 6 {
		t.Fatalf("Len = %d, Width = %d; want 2, 6", c.Len(), c.Width())
	}
	k0, v0 := c.Head(1, 0, 2)
	k1, v1 := c.Head(1, 1, 2)
	for _, c := range []struct {
		name      string
		got, want []float32
	}{
		{"head 0 keys", k0, []float32{1, 2, 3, 7, 8, 9}},
		{"head 1 keys", k1, []float32{4, 5, 6, 10, 11, 12}},
		{"head 0 values", v0, []float32{-1, -2, -3, -7, -8, -9}},
		{"head 1 values", v1, []float32{-4, -5, -6, -10, -11, -12}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if k, _ := c.Head(0, 0, 2); k[0] != 0 {
		t.Fatalf("layer 0 written by layer 1 Put: %v", k)
	}
	c.Truncate(1)
	if c.Len() != 1 {
		t.Fatalf("after Truncate(1) Len = %d", c.Len())
	}
	c.Truncate(3)
	if c.Len() != 1 {
		t.Fatalf("Truncate past Len changed it to %d", c.Len())
	}
	if c.Bytes() != 2*4*6*4*2 {
		t.Fatalf("Bytes = %d", c.Bytes())
	}
}

// Rows gives positions back as Put took them, and SetRows stores them so.
func TestRowsRoundTrip(t *testing.T) {
	c := New(1, 5, 3, 2, F32)
	var k, v []float32
	for p := range 5 {
		kr, vr := make([]float32, 6), make([]float32, 6)
		for i := range kr {
			kr[i], vr[i] = float32(p*10+i), float32(-p*10-i)
		}
		c.Put(0, p, kr, vr)
		k, v = append(k, kr...), append(v, vr...)
	}
	gk, gv := make([]float32, 3*6), make([]float32, 3*6)
	c.Rows(0, 1, 4, gk, gv)
	if !slices.Equal(gk, k[6:24]) || !slices.Equal(gv, v[6:24]) {
		t.Fatalf("Rows(1, 4) = %v, %v; want %v, %v", gk, gv, k[6:24], v[6:24])
	}
	d := New(1, 5, 3, 2, F32)
	d.SetRows(0, 1, 4, gk, gv)
	hk, _ := d.Head(0, 2, 4)
	if want := []float32{0, 0, 14, 15, 24, 25, 34, 35}; !slices.Equal(hk, want) {
		t.Fatalf("SetRows then Head(2) = %v, want %v", hk, want)
	}
}

func TestNewPanicsOnBadSize(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New(0, ...) did not panic")
		}
	}()
	New(0, 1, 1, 1, F16)
}

// An F16 cache holds each entry rounded to half (to nearest even), gives
// them back widened, and takes half the memory of an F32 one.
func TestF16RoundsEntries(t *testing.T) {
	c := New(2, 3, 2, 2, F16)
	k := []float32{1, 1.0 / 3, 65504, 1e-8}
	v := []float32{-2, 70000, 0.1, -0.5}
	c.Put(1, 2, k, v)
	keys, vals := c.HeadF16(1, 1, 3)
	if want := []uint16{0x7bff, 0x0000}; !slices.Equal(keys[4:], want) {
		t.Fatalf("head 1 keys at position 2 = %#04x, want %#04x", keys[4:], want)
	}
	if want := []uint16{0x2e66, 0xb800}; !slices.Equal(vals[4:], want) {
		t.Fatalf("head 1 values at position 2 = %#04x, want %#04x", vals[4:], want)
	}
	gk, gv := make([]float32, 4), make([]float32, 4)
	c.Rows(1, 2, 3, gk, gv)
	wantK := []float32{1, 0.333251953125, 65504, 0}
	wantV := []float32{-2, float32(math.Inf(1)), 0.0999755859375, -0.5}
	if !slices.Equal(gk, wantK) || !slices.Equal(gv, wantV) {
		t.Fatalf("Rows = %v, %v; want %v, %v", gk, gv, wantK, wantV)
	}
	if got, want := c.Bytes(), New(2, 3, 2, 2, F32).Bytes()/2; got != want {
		t.Fatalf("F16 Bytes = %d, want %d", got, want)
	}
}

func TestParseType(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Type
		err  bool
	}{{"f16", F16, false}, {"F32", F32, false}, {"Q8_0", Q8_0, false}, {"q4_0", 0, true}, {"", 0, true}} {
		got, err := ParseType(c.in)
		if (err != nil) != c.err || err == nil && got != c.want {
			t.Errorf("ParseType(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.err)
		}
		if err == nil && got.String() != strings.ToLower(c.in) {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}

// A Q8_0 cache holds each head's row as llama.cpp's q8_0 blocks of 32 (a
// head of 40 ends in a padded block), gives them back dequantized within
// half a step of each block, and takes 34 bytes per 32 entries.
func TestQ8_0Entries(t *testing.T) {
	const hd = 40
	c := New(2, 3, 2, hd, Q8_0)
	k, v := make([]float32, 2*hd), make([]float32, 2*hd)
	for i := range k {
		k[i], v[i] = float32(i)-17.3, float32(i*i)/100
	}
	k[hd] = 127 // head 1's first block: d = 1
	c.Put(1, 2, k, v)
	keys, vals := c.HeadQ8(1, 1, 3)
	if len(keys) != 3*68 || len(vals) != 3*68 {
		t.Fatalf("HeadQ8 lengths %d, %d; want %d", len(keys), len(vals), 3*68)
	}
	if row := keys[2*68:]; row[0] != 0x00 || row[1] != 0x3c || int8(row[2]) != 127 || int8(row[3]) != 24 {
		t.Fatalf("head 1 key row at position 2 starts % x, want d = 1.0 (00 3c), q 127, 24", row[:4])
	}
	gk, gv := make([]float32, 2*hd), make([]float32, 2*hd)
	c.Rows(1, 2, 3, gk, gv)
	for i := range k {
		b := i % hd / 32
		var dk, dv float32
		for j := i - i%hd + 32*b; j < min(i-i%hd+32*b+32, i-i%hd+hd); j++ {
			dk, dv = max(dk, float32(math.Abs(float64(k[j])))/127), max(dv, v[j]/127)
		}
		if math.Abs(float64(gk[i]-k[i])) > 0.51*float64(dk) || math.Abs(float64(gv[i]-v[i])) > 0.51*float64(dv) {
			t.Fatalf("Rows [%d] = %v, %v; put %v, %v (steps %v, %v)", i, gk[i], gv[i], k[i], v[i], dk, dv)
		}
	}
	d := New(2, 3, 2, hd, Q8_0)
	d.SetRows(1, 2, 3, gk, gv)
	if dk, _ := d.HeadQ8(1, 1, 3); !slices.Equal(dk, keys) {
		t.Fatalf("SetRows of Rows changed the stored blocks")
	}
	if got, want := c.Bytes(), int64(2*3*2*68*2); got != want {
		t.Fatalf("Q8_0 Bytes = %d, want %d", got, want)
	}
}
