//go:build !noasm

package cpu

import (
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"unsafe"

	xcpu "golang.org/x/sys/cpu"
)

// TestTernArgsLayout checks that ternArgs has the field offsets the
// generator (internal/asmgen, argDst ... argDNext) compiles into the
// kernels: every field 8 bytes, in order.
func TestTernArgsLayout(t *testing.T) {
	var a ternArgs
	offs := []uintptr{
		unsafe.Offsetof(a.dst), unsafe.Offsetof(a.dstT), unsafe.Offsetof(a.w),
		unsafe.Offsetof(a.rows), unsafe.Offsetof(a.nb), unsafe.Offsetof(a.xp), unsafe.Offsetof(a.xpT),
		unsafe.Offsetof(a.bsum), unsafe.Offsetof(a.bsumB), unsafe.Offsetof(a.scale), unsafe.Offsetof(a.tail),
		unsafe.Offsetof(a.rs), unsafe.Offsetof(a.radv), unsafe.Offsetof(a.ds), unsafe.Offsetof(a.dnext),
	}
	for i, o := range offs {
		if o != uintptr(8*i) {
			t.Errorf("field %d at offset %d, want %d", i, o, 8*i)
		}
	}
	if unsafe.Sizeof(a) != 8*ternArgsLen || len(offs) != ternArgsLen {
		t.Errorf("ternArgs is %d bytes, %d fields; want %d", unsafe.Sizeof(a), len(offs), ternArgsLen)
	}
}

// TestAVX2RegistersVEX checks that the AVX2 kernels use only the 16 vector
// registers VEX can encode (avo allocates from all 32).
func TestAVX2RegistersVEX(t *testing.T) {
	src, err := os.ReadFile("ternary_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	high := regexp.MustCompile(`\b[XYZ](1[6-9]|2[0-9]|3[01])\b|\bZ[0-9]+\b|\bK[0-7]\b`)
	fn := ""
	for i, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(line, "TEXT ") {
			fn = line
		}
		if (strings.Contains(fn, "AVX2") || strings.Contains(fn, "readAVX2")) && high.MatchString(line) {
			t.Errorf("line %d in %s: %s", i+1, fn, strings.TrimSpace(line))
		}
	}
}

// TestPrepAVX2 checks the activation layouts and block sums of prep2AVX2
// and prep1AVX2 against plain loops.
func TestPrepAVX2(t *testing.T) {
	if !xcpu.X86.HasAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(41, 42))
	for iter := 0; iter < 50; iter++ {
		nb := 1 + r.IntN(30)
		x := randXQ(r, 256*nb)
		for _, tq1 := range []bool{false, true} {
			size := 256
			if tq1 {
				size = 320
			}
			got := make([]int8, size*nb)
			for i := range got {
				got[i] = 99 // every byte must be written
			}
			sums := make([]int32, 3*nb)
			var total int32
			if tq1 {
				total = prep1AVX2(&got[0], &x[0], nb, &sums[1], 12)
			} else {
				total = prep2AVX2(&got[0], &x[0], nb, &sums[1], 12)
			}
			var wantTotal int32
			for b := 0; b < nb; b++ {
				xb := x[256*b : 256*b+256]
				want := make([]int8, size)
				if tq1 {
					prepTQ1(want, xb)
				} else {
					for j := 0; j < 4; j++ {
						copy(want[64*j:], xb[32*j:32*j+32])
						copy(want[64*j+32:], xb[128+32*j:128+32*j+32])
					}
				}
				for i := range want {
					if got[size*b+i] != want[i] {
						t.Fatalf("tq1 %v block %d byte %d: %d, want %d", tq1, b, i, got[size*b+i], want[i])
					}
				}
				s := sumInt8(xb)
				wantTotal += s
				if sums[1+3*b] != s || sums[3*b] != 0 || sums[2+3*b] != 0 {
					t.Fatalf("tq1 %v block %d: sums %v, want %d", tq1, b, sums[3*b:3*b+3], s)
				}
			}
			if total != wantTotal {
				t.Fatalf("tq1 %v: total %d, want %d", tq1, total, wantTotal)
			}
		}
	}
}
