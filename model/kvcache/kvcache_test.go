package kvcache

import "testing"

func TestPutKeysValuesTruncate(t *testing.T) {
	c := New(2, 4, 3)
	c.Put(1, 0, []float32{1, 2, 3}, []float32{4, 5, 6})
	c.Put(1, 1, []float32{7, 8, 9}, []float32{10, 11, 12})
	c.Commit(2)
	if c.Len() != 2 {
		t.Fatalf("Len = %d, want 2", c.Len())
	}
	k := c.Keys(1, 2)
	if len(k) != 6 || k[3] != 7 || k[5] != 9 {
		t.Fatalf("Keys = %v", k)
	}
	if v := c.Values(1, 2); v[0] != 4 || v[5] != 12 {
		t.Fatalf("Values = %v", v)
	}
	if got := c.Keys(0, 2); got[0] != 0 {
		t.Fatalf("layer 0 written by layer 1 Put: %v", got)
	}
	c.Truncate(1)
	if c.Len() != 1 {
		t.Fatalf("after Truncate(1) Len = %d", c.Len())
	}
	c.Truncate(3)
	if c.Len() != 1 {
		t.Fatalf("Truncate past Len changed it to %d", c.Len())
	}
	if c.Bytes() != 2*4*3*4*2 {
		t.Fatalf("Bytes = %d", c.Bytes())
	}
}

func TestNewPanicsOnBadSize(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New(0, ...) did not panic")
		}
	}()
	New(0, 1, 1)
}
