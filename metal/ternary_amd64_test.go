//go:build !noasm

package metal

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"unsafe"
)

// TestTernArgsLayout checks that ternArgs has the field offsets the
// generator (internal/asmgen, argDst ... argDNext) compiles into the
// kernels: every field 8 bytes, in order.
func TestTernArgsLayout(t *testing.T) {
	var a ternArgs
	offs := []uintptr{
		unsafe.Offsetof(a.dst), unsafe.Offsetof(a.dstT), unsafe.Offsetof(a.w), unsafe.Offsetof(a.rb),
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
