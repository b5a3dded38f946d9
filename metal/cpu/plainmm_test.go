package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMatMulPlainMatchesMatVec checks MatMul of Q8_0 and Q4_0 rows (the
// multi-token kernel where a level has one) against MatVec bit for bit at
// every level: 1 to 9 tokens (groups of 4 and a tail), odd and even row
// counts and tiles, widths the multi-token kernel takes (multiples of 256)
// and others, a token with a NaN (every token then takes floatRows), a
// matrix scale, data at odd offsets ending at an unreadable page.
func TestMatMulPlainMatchesMatVec(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(41, 42))
		used := false
		for iter := 0; iter < 48; iter++ {
			typ := []DType{Q8_0, Q4_0}[iter%2]
			cols := []int{256, 512, 2560, 768, 96, 320}[iter/2%6]
			rows := []int{1, 2, 3, 16, 17, 34, 51, 100}[iter%8]
			n := 1 + iter%9
			m := randFloatMatrix(t, r, typ, rows, cols, 1+iter%5)
			if iter%7 == 3 {
				m.Scale = 0.37
			}
			xs := make([]float32, n*cols)
			for tok := range n {
				copy(xs[tok*cols:], randActivations(r, cols, (tok+iter)%4))
			}
			if iter == 43 {
				xs[2*cols+5] = float32(math.NaN())
			}
			xs = readGuardFloats(t, xs)
			out := make([]float32, n*rows+1)
			out[n*rows] = 12345
			MatMul(out[:n*rows], m, xs, n)
			if out[n*rows] != 12345 {
				t.Fatalf("%v %dx%d n %d: MatMul wrote past dst", typ, rows, cols, n)
			}
			one := make([]float32, rows)
			for tok := range n {
				MatVec(one, m, xs[tok*cols:(tok+1)*cols])
				for i := range one {
					if got := out[tok*rows+i]; math.Float32bits(got) != math.Float32bits(one[i]) {
						t.Fatalf("%v %dx%d n %d token %d row %d: MatMul %v, MatVec %v", typ, rows, cols, n, tok, i, got, one[i])
					}
				}
			}
			used = used || kern.mm4 != nil && n >= 4 && cols%256 == 0 && iter != 43
		}
		if kern.mm4 != nil && !used {
			t.Error("the multi-token kernel was never used")
		}
	})
}

// TestMMActsPrepare checks the layout mm4 reads (the correction of the
// unsigned weights in particular) and when mmActs declines.
func TestMMActsPrepare(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(43, 44))
		for _, typ := range []DType{Q8_0, Q4_0, Q6_K, F16} {
			for _, n := range []int{3, 4, 5} {
				cols := 512
				acts := make([]*floatAct, n)
				for i := range acts {
					acts[i] = getAct(typ, randActivations(r, cols, i%4))
				}
				var a mmActs
				a.begin(typ, n, cols)
				for i, x := range acts {
					a.token(i, x)
				}
				a.end(acts)
				want := kern.mm4 != nil && kern.mmTypes&(1<<typ) != 0 && n >= 4
				if (a.n != 0) != want {
					t.Fatalf("%v n %d: prepared %v, want %v", typ, n, a.n != 0, want)
				}
				c := int32(128)
				if typ == Q4_0 {
					c = 8
				}
				for tok := 0; tok < a.n; tok++ {
					x := acts[tok]
					for b := 0; b < cols/32; b++ {
						for l := range 8 {
							var s int32
							for i := range 4 {
								s += int32(x.q[32*b+4*l+i])
							}
							if got := a.corr[tok*cols/4+8*b+l]; got != -c*s {
								t.Fatalf("%v token %d block %d lane %d: corr %d, want %d", typ, tok, b, l, got, -c*s)
							}
							if a.d8[tok*cols/4+8*b+l] != x.d[b] {
								t.Fatalf("%v token %d block %d: d8 %v, want %v", typ, tok, b, a.d8[tok*cols/4+8*b+l], x.d[b])
							}
						}
					}
					for i, v := range x.q {
						if a.q[tok*cols+i] != v {
							t.Fatalf("%v token %d: q[%d] %d, want %d", typ, tok, i, a.q[tok*cols+i], v)
						}
					}
				}
				for _, x := range acts {
					putAct(x)
				}
			}
		}
	})
}

func TestMatMulPlainNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(45, 46))
		for _, typ := range []DType{Q8_0, Q4_0} {
			m := randFloatMatrix(t, r, typ, 64, 512, 0)
			x := randActivations(r, 9*512, 0)
			dst := make([]float32, 9*64)
			MatMul(dst, m, x, 9) // warm the scratch
			if n := testing.AllocsPerRun(20, func() { MatMul(dst, m, x, 9) }); n != 0 {
				t.Errorf("MatMul %v: %v allocations", typ, n)
			}
		}
	})
}

// BenchmarkMatMulPlain times MatMul of 64 tokens at the 2B-4T shapes: the
// multi-token kernel against floatRows per token (mm4 off) at each SIMD
// level. Run with -count and interleave for an A/B.
func BenchmarkMatMulPlain(b *testing.B) {
	const n = 64
	for _, s := range [][2]int{{2560, 2560}, {6912, 2560}, {2560, 6912}} {
		for _, typ := range []DType{Q4_0, Q8_0} {
			for _, l := range Levels()[1:] {
				for _, mm := range []bool{false, true} {
					how := "pertoken"
					if mm {
						how = "mm4"
					}
					b.Run(fmt.Sprintf("%v/%dx%d/n%d/%v/%s", typ, s[0], s[1], n, l, how), func(b *testing.B) {
						defer SetLevel(l)()
						if mm && kern.mm4 == nil {
							b.Skip("no multi-token kernel at this level")
						}
						saved := kern.mm4
						if !mm {
							kern.mm4 = nil
						}
						defer func() { kern.mm4 = saved }()
						r := rand.New(rand.NewPCG(47, 48))
						src := make([]float32, s[0]*s[1])
						for i := range src {
							src[i] = float32(r.NormFloat64())
						}
						x := src[:n*s[1]]
						dst := make([]float32, n*s[0])
						data, err := Quantize(typ, s[0], s[1], src)
						if err != nil {
							b.Fatal(err)
						}
						m, _ := NewMatrix(typ, s[0], s[1], data)
						MatMul(dst, m, x, n) // warm the scratch
						for b.Loop() {
							MatMul(dst, m, x, n)
						}
						b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
					})
				}
			}
		}
	}
}
