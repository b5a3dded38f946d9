package kvcache

import (
	"slices"
	"testing"
)

func TestPutHeadTruncate(t *testing.T) {
	c := New(2, 4, 2, 3) // 2 KV heads of 3
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
	c := New(1, 5, 3, 2)
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
	d := New(1, 5, 3, 2)
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
	New(0, 1, 1, 1)
}
