package model

import (
	"math"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// This file is an independent float64 implementation of BitNet b1.58, written
// from the papers and the HF modeling code, not from the engine: the interop
// tests compare the engine against it, block by block and end to end, at the
// tolerances of the original MLX project's test_interop (1e-6 elementwise,
// 1e-4 for blocks and logits).

type refLinear struct {
	codes      []int8 // (rows, cols)
	scale      float64
	rows, cols int
	plain      [][]float64 // (rows, cols) weights of a float or plain layer
	quantIn    bool        // plain weights that see the int8 activations, dequantized (float weights of a BitNet model)
}

type refLayer struct {
	attnNorm, attnSub, ffnNorm, ffnSub []float64
	q, k, v, o, gate, up, down         refLinear
}

type refModel struct {
	cfg     Config
	embed   [][]float64 // (vocab, dim)
	head    [][]float64
	outNorm []float64
	layers  []refLayer
}

func f64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func refFromModel(t testing.TB, m *Model) *refModel {
	t.Helper()
	dense := func(mat *cpu.Matrix) [][]float64 {
		out := make([][]float64, mat.Rows)
		row := make([]float32, mat.Cols)
		for r := range out {
			mat.Row(row, r)
			out[r] = f64s(row)
		}
		return out
	}
	lin := func(mat *cpu.Matrix) refLinear {
		if !mat.Type.Ternary() {
			return refLinear{plain: dense(mat), quantIn: !PlainLayer(mat.Type), rows: mat.Rows, cols: mat.Cols}
		}
		codes, scale, err := ternaryOf("test", mat)
		if err != nil {
			t.Fatal(err)
		}
		return refLinear{codes: codes, scale: float64(scale), rows: mat.Rows, cols: mat.Cols}
	}
	r := &refModel{cfg: m.Config, embed: dense(m.embed), head: dense(m.output), outNorm: f64s(m.outNorm)}
	for _, l := range m.layers {
		rl := refLayer{attnNorm: f64s(l.AttnNorm), ffnNorm: f64s(l.FFNNorm),
			q: lin(l.Q), k: lin(l.K), v: lin(l.V), o: lin(l.O), gate: lin(l.Gate), up: lin(l.Up), down: lin(l.Down)}
		if l.AttnSubNorm != nil {
			rl.attnSub, rl.ffnSub = f64s(l.AttnSubNorm), f64s(l.FFNSubNorm)
		}
		r.layers = append(r.layers, rl)
	}
	return r
}

// refRMSNorm is x / sqrt(mean(x^2) + eps) * w.
func refRMSNorm(x, w []float64, eps float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	inv := 1 / math.Sqrt(ss/float64(len(x))+eps)
	out := make([]float64, len(x))
	for i := range x {
		out[i] = x[i] * inv * w[i]
	}
	return out
}

// refActQuant is BitNet's per-token absmax quantization: it returns the int8
// values (as floats) and the scale s (x ~ q / s).
func refActQuant(x []float64) ([]float64, float64) {
	var amax float64
	for _, v := range x {
		amax = math.Max(amax, math.Abs(v))
	}
	s := 127 / math.Max(amax, 1e-5)
	q := make([]float64, len(x))
	for i, v := range x {
		q[i] = math.Max(-128, math.Min(127, math.RoundToEven(v*s)))
	}
	return q, s
}

// refBitLinear is y = (W_codes · q(x)) * w_scale / s_x, or W · x for a
// plain layer.
func refBitLinear(l refLinear, x []float64) []float64 {
	y := make([]float64, l.rows)
	if l.plain != nil {
		if l.quantIn {
			q, s := refActQuant(x)
			x = make([]float64, len(q))
			for i := range q {
				x[i] = q[i] / s
			}
		}
		for r, row := range l.plain {
			for c, w := range row[:len(x)] {
				y[r] += w * x[c]
			}
		}
		return y
	}
	q, s := refActQuant(x)
	for r := range l.rows {
		var acc float64
		for c := range l.cols {
			acc += float64(l.codes[r*l.cols+c]) * q[c]
		}
		y[r] = acc * l.scale / s
	}
	return y
}

// refRoPE rotates each head's halves (HF rotate_half) at position pos.
func refRoPE(x []float64, heads, hd int, pos int, theta float64) []float64 {
	out := make([]float64, len(x))
	half := hd / 2
	for h := range heads {
		v := x[h*hd : (h+1)*hd]
		for i := range half {
			a := float64(pos) * math.Pow(theta, -float64(2*i)/float64(hd))
			c, s := math.Cos(a), math.Sin(a)
			out[h*hd+i] = v[i]*c - v[i+half]*s
			out[h*hd+i+half] = v[i+half]*c + v[i]*s
		}
	}
	return out
}

func refSoftmax(x []float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, v)
	}
	out := make([]float64, len(x))
	var sum float64
	for i, v := range x {
		out[i] = math.Exp(v - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// refAttention is causal GQA attention of the query rows over keys and values
// of positions 0..len-1 (row t attends to 0..t).
func refAttention(q, k, v [][]float64, heads, kvHeads, hd int) [][]float64 {
	out := make([][]float64, len(q))
	group := heads / kvHeads
	for t := range q {
		out[t] = make([]float64, heads*hd)
		for h := range heads {
			kh := h / group
			scores := make([]float64, t+1)
			for j := 0; j <= t; j++ {
				var d float64
				for i := range hd {
					d += q[t][h*hd+i] * k[j][kh*hd+i]
				}
				scores[j] = d / math.Sqrt(float64(hd))
			}
			p := refSoftmax(scores)
			for j := 0; j <= t; j++ {
				for i := range hd {
					out[t][h*hd+i] += p[j] * v[j][kh*hd+i]
				}
			}
		}
	}
	return out
}

// refFFN is down(subnorm(act(gate x) * up x)).
func refFFN(l refLayer, x []float64, act Activation, eps float64) []float64 {
	g, u := refBitLinear(l.gate, x), refBitLinear(l.up, x)
	h := make([]float64, len(g))
	for i := range g {
		switch act {
		case ReLU2:
			r := math.Max(g[i], 0)
			h[i] = r * r * u[i]
		default:
			h[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
		}
	}
	if l.ffnSub != nil {
		h = refRMSNorm(h, l.ffnSub, eps)
	}
	return refBitLinear(l.down, h)
}

// refDecoderLayer runs one block over all positions of xs.
func refDecoderLayer(l refLayer, c Config, xs [][]float64) [][]float64 {
	eps := float64(c.NormEps)
	n := len(xs)
	q, k, v := make([][]float64, n), make([][]float64, n), make([][]float64, n)
	for t, x := range xs {
		xn := refRMSNorm(x, l.attnNorm, eps)
		q[t] = refRoPE(refBitLinear(l.q, xn), c.Heads, c.HeadDim, t, c.RopeTheta)
		k[t] = refRoPE(refBitLinear(l.k, xn), c.KVHeads, c.HeadDim, t, c.RopeTheta)
		v[t] = refBitLinear(l.v, xn)
	}
	att := refAttention(q, k, v, c.Heads, c.KVHeads, c.HeadDim)
	out := make([][]float64, n)
	for t, x := range xs {
		a := att[t]
		if l.attnSub != nil {
			a = refRMSNorm(a, l.attnSub, eps)
		}
		o := refBitLinear(l.o, a)
		h := make([]float64, len(x))
		for i := range x {
			h[i] = x[i] + o[i]
		}
		f := refFFN(l, refRMSNorm(h, l.ffnNorm, eps), c.Act, eps)
		for i := range h {
			h[i] += f[i]
		}
		out[t] = h
	}
	return out
}

// logits runs the whole model and returns the logits at every position.
func (r *refModel) logits(tokens []int32) [][]float64 {
	xs := make([][]float64, len(tokens))
	for t, id := range tokens {
		xs[t] = append([]float64(nil), r.embed[id]...)
	}
	for _, l := range r.layers {
		xs = refDecoderLayer(l, r.cfg, xs)
	}
	out := make([][]float64, len(tokens))
	for t, x := range xs {
		xn := refRMSNorm(x, r.outNorm, float64(r.cfg.NormEps))
		out[t] = make([]float64, len(r.head))
		for v, row := range r.head {
			var d float64
			for i := range row {
				d += row[i] * xn[i]
			}
			out[t][v] = d
		}
	}
	return out
}
