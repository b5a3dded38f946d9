package model

import (
	"math"
	"path/filepath"
	"runtime"
	"testing"
	"time"

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

// fakeMove is a file's move for weightMove's tests: pieces that each take
// perPiece on a clock the test advances.
type fakeMove struct {
	now            time.Time
	perPiece       time.Duration
	left, moved    int
	calls, started int
	first          int // pieces asked for by the first call
	late           int // calls after the move was over
}

func (f *fakeMove) pace(pieces int) bool {
	if f.calls == 0 {
		f.first = pieces
	}
	f.calls++
	if f.left == 0 {
		f.late++
	}
	for ; pieces > 0 && f.left > 0; pieces-- {
		f.left--
		f.moved++
		f.now = f.now.Add(f.perPiece)
	}
	return f.left > 0
}

// While evaluations follow each other, the pieces moved between them take
// their share of the time (1/moveShare) and no more, the first evaluation
// moves none, and nothing is asked once the move is over.
func TestWeightMovePacesBetweenEvaluations(t *testing.T) {
	for _, perPiece := range []time.Duration{time.Millisecond, 25 * time.Millisecond} {
		f := &fakeMove{now: time.Unix(0, 0), perPiece: perPiece, left: 100}
		w := &weightMove{pace: f.pace, clock: func() time.Time { return f.now }, start: func() { f.started++ }}
		const eval = 30 * time.Millisecond
		t0 := f.now
		for i := range 2000 {
			w.begin()
			if i == 0 && (f.first != 0 || f.moved != 0) {
				t.Fatalf("piece %v: the first evaluation moved %d pieces", perPiece, f.moved)
			}
			f.now = f.now.Add(eval)
			w.end()
			if spent, share := time.Duration(f.moved)*perPiece, f.now.Sub(t0)/moveShare; spent > share+perPiece {
				t.Fatalf("piece %v, evaluation %d: moving took %v, more than its share %v and a piece", perPiece, i, spent, share)
			}
		}
		// The share of 2000 evaluations is 1.9 s: 75 pieces of 25 ms, or all 100 of 1 ms, found in ~1900.
		want := min(100, int(2000*eval/moveShare/perPiece)-1)
		if f.moved < want {
			t.Errorf("piece %v: %d pieces moved in 2000 evaluations, want at least %d", perPiece, f.moved, want)
		}
		if f.late != 0 {
			t.Errorf("piece %v: %d calls after the move was over", perPiece, f.late)
		}
		if f.started != 0 {
			t.Errorf("piece %v: the background move started without a timer", perPiece)
		}
	}
}

// Once no evaluation has begun for moveIdle, the background move starts:
// after the load, and again after each evaluation.
func TestWeightMoveStartsWhenIdle(t *testing.T) {
	defer func(d time.Duration) { moveIdle = d }(moveIdle)
	moveIdle = time.Millisecond
	started := make(chan bool, 10)
	f := &fakeMove{left: 100}
	w := &weightMove{pace: f.pace, start: func() { started <- true }}
	w.startIdle()
	<-started
	w.begin()
	w.end()
	<-started
	if f.calls != 1 || f.first != 0 {
		t.Errorf("the first evaluation asked %d times for %d pieces, want once for none", f.calls, f.first)
	}
}
