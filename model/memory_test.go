package model

import (
	"math"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// TestLoadMemoryModes loads one GGUF file mapped, in huge pages and by the
// automatic choice: the logits are the same bits, and Memory says which.
func TestLoadMemoryModes(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 71, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "m.gguf")
	if err := m.Save(p, SaveOptions{Format: "gguf", Ternary: cpu.I2_S, Embed: cpu.F16}); err != nil {
		t.Fatal(err)
	}
	var want []float32
	for _, c := range []struct {
		mode Memory
		name string
	}{
		{MemoryMapped, "mapped"},
		{MemoryHugePages, "huge pages"},
		{MemoryAuto, "mapped"}, // a small file is mapped
	} {
		if c.mode == MemoryHugePages && runtime.GOOS != "linux" {
			c.name = "mapped"
		}
		got, err := Load(p, WithMemory(c.mode))
		if err != nil {
			t.Fatal(err)
		}
		if got.Memory() != c.name {
			t.Errorf("memory %v: Memory() = %q, want %q", c.mode, got.Memory(), c.name)
		}
		logits, err := got.NewSession(16).Forward([]int32{3, 1, 4, 1, 5})
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = append([]float32(nil), logits...)
		}
		for i := range want {
			if math.Float32bits(logits[i]) != math.Float32bits(want[i]) {
				t.Fatalf("memory %v: logit %d = %v, want %v", c.mode, i, logits[i], want[i])
			}
		}
		if err := got.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if m.Memory() != "in memory" {
		t.Errorf("a built model's Memory() = %q", m.Memory())
	}
}

func TestParseMemory(t *testing.T) {
	for s, want := range map[string]Memory{"": MemoryAuto, "auto": MemoryAuto, "mmap": MemoryMapped, "mapped": MemoryMapped, "HugePages": MemoryHugePages} {
		if got, err := ParseMemory(s); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	if _, err := ParseMemory("swap"); err == nil {
		t.Error("ParseMemory(swap) did not fail")
	}
}
