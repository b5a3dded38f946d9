package train

import (
	"math"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// acts holds the activations of one block saved for the backward pass (N = B*T tokens of a micro-batch).
type acts struct {
	x    []float32 // N x D: block input (residual stream)
	r1   []float32 // N: 1/rms of x
	a1q  []float32 // N x D: quantized attn_norm(x), input of q, k, v
	q    []float32 // N x D: queries after RoPE
	k, v []float32 // N x KVD: keys after RoPE, values
	p    []float32 // B x H x T x T: attention probabilities
	o    []float32 // N x D: attention output before attn_sub_norm
	r2   []float32 // N
	s1q  []float32 // N x D: quantized attn_sub_norm(o), input of attn_output
	h    []float32 // N x D: residual after attention
	r3   []float32 // N
	a2q  []float32 // N x D: quantized ffn_norm(h), input of gate and up
	g, u []float32 // N x F: gate and up projections
	m    []float32 // N x F: relu(g)^2 * u
	r4   []float32 // N
	s2q  []float32 // N x F: quantized ffn_sub_norm(m), input of ffn_down
}

// net is the training state of one model: the quantized weights of the current step, the activations of one
// micro-batch and the scratch of the backward pass. It is allocated once; forward and backward allocate nothing
// but the small closures they hand to the worker pool.
type net struct {
	c        ModelConfig
	quantW   bool // ternary weights (straight-through estimator)
	quantA   bool // int8 activations at every BitLinear input (straight-through estimator)
	params   []float32
	grads    []float32
	B, T, N  int
	w        weights   // latent weights (views into params)
	g        weights   // gradients (views into grads)
	qw       weights   // effective (quantized) weights, same layout as params
	qwT      []layerW  // transposes of the effective linear weights (in x out)
	qwData   []float32 // backing of qw
	qwTData  []float32
	embT     []float32 // D x V: transposed embedding (LM head)
	cos, sin []float32 // T x HD/2 RoPE tables

	layers []acts
	x0     []float32 // N x D: embeddings (input of block 0)
	xf     []float32 // N x D: output of the last block
	rf     []float32 // N
	hf     []float32 // N x D: output_norm(xf), input of the LM head
	logits []float32 // N x V, turned into dlogits by the loss
	tokens []int32   // N inputs
	target []int32   // N targets

	// backward scratch
	dx, dh, dt []float32      // N x D
	do         []float32      // N x D
	dq         []float32      // N x D
	dk, dv     []float32      // N x KVD
	df1, df2   []float32      // N x F
	tr         []float32      // max(V, F, D) x N: transposed output gradients
	att        chan []float32 // attention scratch (attScratchLen each), one per thread of cpu's pool
	dgPart     []float32      // (N/normBlock) x max(D, F): partial norm-weight gradients
	rowLosses  []float64      // N: loss of every token of the last forward pass
}

// attScratchLen is the scratch of one thread's attention: S/dP, dS (T x T), a transpose (T x T), and K^T or V^T (HD x T).
func attScratchLen(T, hd int) int { return 3*T*T + hd*T }

func newNet(c ModelConfig, quant bool, B, T int, params, grads []float32) *net {
	n := &net{c: c, quantW: quant, quantA: quant, B: B, T: T, N: B * T, params: params, grads: grads}
	N, D, F, V := n.N, c.Dim, c.FFN, c.Vocab
	hd, kvd := c.HeadDim(), c.KVHeads*c.HeadDim()
	n.w = view(c, params)
	n.g = view(c, grads)
	n.qwData = make([]float32, len(params))
	n.qw = view(c, n.qwData)
	n.qwTData = make([]float32, len(params))
	qt := view(c, n.qwTData)
	n.qwT = qt.layers
	n.embT = make([]float32, D*V)
	n.cos = make([]float32, T*hd/2)
	n.sin = make([]float32, T*hd/2)
	for p := 0; p < T; p++ {
		for i := 0; i < hd/2; i++ {
			f := math.Pow(float64(c.RopeTheta), -2*float64(i)/float64(hd))
			a := float64(p) * f
			n.cos[p*hd/2+i] = float32(math.Cos(a))
			n.sin[p*hd/2+i] = float32(math.Sin(a))
		}
	}
	mk := func(k int) []float32 { return make([]float32, k) }
	for l := 0; l < c.Layers; l++ {
		n.layers = append(n.layers, acts{
			x: mk(N * D), r1: mk(N), a1q: mk(N * D), q: mk(N * D), k: mk(N * kvd), v: mk(N * kvd),
			p: mk(B * c.Heads * T * T), o: mk(N * D), r2: mk(N), s1q: mk(N * D), h: mk(N * D), r3: mk(N),
			a2q: mk(N * D), g: mk(N * F), u: mk(N * F), m: mk(N * F), r4: mk(N), s2q: mk(N * F),
		})
	}
	n.x0, n.xf, n.rf, n.hf = mk(N*D), mk(N*D), mk(N), mk(N*D)
	n.logits = mk(N * V)
	n.tokens, n.target = make([]int32, N), make([]int32, N)
	n.dx, n.dh, n.dt, n.dq, n.do = mk(N*D), mk(N*D), mk(N*D), mk(N*D), mk(N*D)
	n.dk, n.dv = mk(N*kvd), mk(N*kvd)
	n.df1, n.df2 = mk(N*F), mk(N*F)
	n.tr = mk(max(V, F, D) * N)
	// One buffer per thread of the pool now; were the threads raised later, a thread waits for a buffer.
	nt := max(cpu.Threads(), 1)
	n.att = make(chan []float32, nt)
	for range nt {
		n.att <- mk(attScratchLen(T, hd))
	}
	n.dgPart = mk((N + normBlock - 1) / normBlock * max(D, F))
	n.rowLosses = make([]float64, N)
	return n
}

// prepare computes the effective weights of the step (ternary when quant is on) and their transposes. Call it
// after every optimizer update.
func (n *net) prepare() {
	ts := layout(n.c)
	cpu.ParallelPark(len(ts), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			t := ts[i]
			if !t.Linear {
				continue
			}
			sz := t.Rows * t.Cols
			lat := n.params[t.Off : t.Off+sz]
			dst := n.qwData[t.Off : t.Off+sz]
			if n.quantW {
				quantWeight(dst, lat)
			} else {
				copy(dst, lat)
			}
			transpose(n.qwTData[t.Off:t.Off+sz], t.Rows, dst, t.Cols, t.Rows, t.Cols)
		}
	})
	transpose(n.embT, n.c.Vocab, n.w.embd, n.c.Dim, n.c.Vocab, n.c.Dim)
}

func meanAbs(w []float32) float32 {
	var s float64
	for _, v := range w {
		s += math.Abs(float64(v))
	}
	return float32(max(s/float64(len(w)), 1e-5))
}

// rmsnorm: dst[t] = x[t] * r[t] * g, r[t] = 1/sqrt(mean(x[t]^2) + eps), then (quant) per-token int8 fake
// quantization. rows of width d.
func (n *net) rmsnorm(dst, r, x, g []float32, d int, quant bool) {
	eps := float64(n.c.NormEps)
	cpu.ParallelPark(len(r), 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			xt := x[t*d : t*d+d]
			var ss float64
			for _, v := range xt {
				ss += float64(v) * float64(v)
			}
			rt := float32(1 / math.Sqrt(ss/float64(d)+eps))
			r[t] = rt
			dt := dst[t*d : t*d+d]
			for i, v := range xt {
				dt[i] = v * rt * g[i]
			}
			if quant {
				quantAct(dt, dt)
			}
		}
	})
}

// normBlock is the number of tokens whose norm-weight gradients are summed together before the blocks are added
// in order: the result does not depend on the number of workers.
const normBlock = 32

// rmsnormBack adds to dx the gradient through y = x*r*g given dy (dx may not alias dy), and adds dg.
//
//	dx_i += r*g_i*dy_i - x_i * r^3/d * sum_j g_j*dy_j*x_j;  dg_i += dy_i*x_i*r
func (n *net) rmsnormBack(dx, dy, x, r, g, dg []float32, d int, acc bool) {
	rows := len(r)
	nb := (rows + normBlock - 1) / normBlock
	cpu.ParallelPark(nb, 1, func(lo, hi int) {
		for blk := lo; blk < hi; blk++ {
			part := n.dgPart[blk*d : blk*d+d]
			clear(part)
			for t := blk * normBlock; t < min((blk+1)*normBlock, rows); t++ {
				xt, dyt, dxt := x[t*d:t*d+d], dy[t*d:t*d+d], dx[t*d:t*d+d]
				rt := r[t]
				var dot float64
				for i := range xt {
					dot += float64(g[i] * dyt[i] * xt[i])
				}
				c := float32(dot) * rt * rt * rt / float32(d)
				for i := range xt {
					v := rt*g[i]*dyt[i] - xt[i]*c
					if acc {
						dxt[i] += v
					} else {
						dxt[i] = v
					}
					part[i] += dyt[i] * xt[i] * rt
				}
			}
		}
	})
	for blk := 0; blk < nb; blk++ {
		for i, v := range n.dgPart[blk*d : blk*d+d] {
			dg[i] += v
		}
	}
}

// linear: y (N x out) = x (N x in) · W^T, with W^T given as in x out.
func (n *net) linear(y, x, wT []float32, in, out int) {
	pgemm(n.N, out, in, x, in, wT, out, y, out, false)
}

// linearBack: dx (+)= dy · W (W out x in); dW += dy^T · x.
func (n *net) linearBack(dx, dy, x, w, dw []float32, in, out int, acc bool) {
	N := n.N
	if dx != nil {
		pgemm(N, in, out, dy, out, w, in, dx, in, acc)
	}
	tr := n.tr[:out*N]
	cpu.ParallelPark(out, 32, func(lo, hi int) {
		transpose(tr[lo*N:], N, dy[lo:], out, N, hi-lo)
	})
	pgemm(out, in, N, tr, N, x, in, dw, in, true)
}

// rope rotates pairs (i, i+hd/2) of every head of x (N x nh*hd) by the angle of the token's position.
func (n *net) rope(x []float32, nh int, inverse bool) {
	hd := n.c.HeadDim()
	half := hd / 2
	T := n.T
	cpu.ParallelPark(n.N, 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			p := t % T
			cs, sn := n.cos[p*half:p*half+half], n.sin[p*half:p*half+half]
			row := x[t*nh*hd : (t+1)*nh*hd]
			for h := 0; h < nh; h++ {
				v := row[h*hd : h*hd+hd]
				for i := 0; i < half; i++ {
					a, b := v[i], v[i+half]
					s := sn[i]
					if inverse {
						s = -s
					}
					v[i] = a*cs[i] - b*s
					v[i+half] = a*s + b*cs[i]
				}
			}
		}
	})
}

// attention computes o from q, k, v and saves the probabilities, per (sequence, kv head) unit.
func (n *net) attention(a *acts) {
	c := n.c
	T, D, hd, H, KV := n.T, c.Dim, c.HeadDim(), c.Heads, c.KVHeads
	kvd := KV * hd
	group := H / KV
	scale := float32(1 / math.Sqrt(float64(hd)))
	cpu.ParallelPark(n.B*KV, 1, func(lo, hi int) {
		s := <-n.att
		defer func() { n.att <- s }()
		kT := s[3*T*T:]
		for u := lo; u < hi; u++ {
			b, kh := u/KV, u%KV
			kb := a.k[b*T*kvd+kh*hd:]
			vb := a.v[b*T*kvd+kh*hd:]
			transpose(kT, T, kb, kvd, T, hd)
			for h := kh * group; h < (kh+1)*group; h++ {
				qb := a.q[b*T*D+h*hd:]
				p := a.p[(b*H+h)*T*T : (b*H+h+1)*T*T]
				gemm(T, T, hd, qb, D, kT, T, p, T, false)
				for i := 0; i < T; i++ {
					row := p[i*T : i*T+T]
					mx := float32(math.Inf(-1))
					for j := 0; j <= i; j++ {
						row[j] *= scale
						mx = max(mx, row[j])
					}
					var sum float32
					for j := 0; j <= i; j++ {
						e := float32(math.Exp(float64(row[j] - mx)))
						row[j] = e
						sum += e
					}
					inv := 1 / sum
					for j := 0; j <= i; j++ {
						row[j] *= inv
					}
					clear(row[i+1:])
				}
				gemm(T, hd, T, p, T, vb, kvd, a.o[b*T*D+h*hd:], D, false)
			}
		}
	})
}

// attentionBack turns do (N x D, in n.dt) into n.dq (before the inverse RoPE), n.dk and n.dv.
func (n *net) attentionBack(a *acts, do []float32) {
	c := n.c
	T, D, hd, H, KV := n.T, c.Dim, c.HeadDim(), c.Heads, c.KVHeads
	kvd := KV * hd
	group := H / KV
	scale := float32(1 / math.Sqrt(float64(hd)))
	cpu.ParallelPark(n.B*KV, 1, func(lo, hi int) {
		s := <-n.att
		defer func() { n.att <- s }()
		dp, tt, vT := s[:T*T], s[T*T:2*T*T], s[3*T*T:]
		for u := lo; u < hi; u++ {
			b, kh := u/KV, u%KV
			kb := a.k[b*T*kvd+kh*hd:]
			vb := a.v[b*T*kvd+kh*hd:]
			dkb := n.dk[b*T*kvd+kh*hd:]
			dvb := n.dv[b*T*kvd+kh*hd:]
			transpose(vT, T, vb, kvd, T, hd)
			for h := kh * group; h < (kh+1)*group; h++ {
				first := h == kh*group
				qb := a.q[b*T*D+h*hd:]
				dob := do[b*T*D+h*hd:]
				p := a.p[(b*H+h)*T*T : (b*H+h+1)*T*T]
				// dV += P^T · dO
				transpose(tt, T, p, T, T, T)
				gemm(T, hd, T, tt, T, dob, D, dvb, kvd, !first)
				// dP = dO · V^T; dS = P * (dP - sum_j P dP) * scale
				gemm(T, T, hd, dob, D, vT, T, dp, T, false)
				for i := 0; i < T; i++ {
					pr, dr := p[i*T:i*T+i+1], dp[i*T:i*T+T]
					var dot float32
					for j, pv := range pr {
						dot += pv * dr[j]
					}
					for j, pv := range pr {
						dr[j] = pv * (dr[j] - dot) * scale
					}
					clear(dr[i+1:])
				}
				// dQ = dS · K; dK += dS^T · Q
				gemm(T, hd, T, dp, T, kb, kvd, n.dq[b*T*D+h*hd:], D, false)
				transpose(tt, T, dp, T, T, T)
				gemm(T, hd, T, tt, T, qb, D, dkb, kvd, !first)
			}
		}
	})
}

// forward runs the model on n.tokens and returns the summed cross-entropy against n.target (nats); when
// backward will follow, logits hold dlogits = (softmax - onehot) * gradScale afterwards.
func (n *net) forward(gradScale float32) float64 {
	c := n.c
	N, D, F, V := n.N, c.Dim, c.FFN, c.Vocab
	kvd := c.KVHeads * c.HeadDim()
	for t, tok := range n.tokens {
		copy(n.x0[t*D:t*D+D], n.w.embd[int(tok)*D:int(tok)*D+D])
	}
	x := n.x0
	for l := range n.layers {
		a := &n.layers[l]
		w, wT := &n.w.layers[l], &n.qwT[l]
		copy(a.x, x)
		n.rmsnorm(a.a1q, a.r1, a.x, w.attnNorm, D, n.quantA)
		n.linear(a.q, a.a1q, wT.wq, D, D)
		n.linear(a.k, a.a1q, wT.wk, D, kvd)
		n.linear(a.v, a.a1q, wT.wv, D, kvd)
		n.rope(a.q, c.Heads, false)
		n.rope(a.k, c.KVHeads, false)
		n.attention(a)
		n.rmsnorm(a.s1q, a.r2, a.o, w.attnSubNorm, D, n.quantA)
		n.linear(a.h, a.s1q, wT.wo, D, D)
		add(a.h, a.x)
		n.rmsnorm(a.a2q, a.r3, a.h, w.ffnNorm, D, n.quantA)
		n.linear(a.g, a.a2q, wT.wg, D, F)
		n.linear(a.u, a.a2q, wT.wu, D, F)
		cpu.ParallelPark(N*F, 256, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				g := max(a.g[i], 0)
				a.m[i] = g * g * a.u[i]
			}
		})
		n.rmsnorm(a.s2q, a.r4, a.m, w.ffnSubNorm, F, n.quantA)
		n.linear(n.xf, a.s2q, wT.wd, F, D) // block output, kept in xf until the next block copies it
		add(n.xf, a.h)
		x = n.xf
	}
	n.rmsnorm(n.hf, n.rf, n.xf, n.w.outNorm, D, false)
	pgemm(N, V, D, n.hf, D, n.embT, V, n.logits, V, false)
	cpu.ParallelPark(N, 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			row := n.logits[t*V : t*V+V]
			mx := row[0]
			for _, v := range row {
				mx = max(mx, v)
			}
			var z float64
			for _, v := range row {
				z += math.Exp(float64(v - mx))
			}
			tg := n.target[t]
			n.rowLosses[t] = math.Log(z) - float64(row[tg]-mx)
			if gradScale != 0 {
				iz := 1 / z
				for i, v := range row {
					row[i] = float32(math.Exp(float64(v-mx))*iz) * gradScale
				}
				row[tg] -= gradScale
			}
		}
	})
	var loss float64
	for _, v := range n.rowLosses {
		loss += v
	}
	return loss
}

func add(dst, src []float32) {
	for i, v := range src {
		dst[i] += v
	}
}

// backward accumulates the gradients of the loss whose dlogits forward left in n.logits.
func (n *net) backward() {
	c := n.c
	N, D, F, V := n.N, c.Dim, c.FFN, c.Vocab
	kvd := c.KVHeads * c.HeadDim()
	// LM head (tied): dhf = dlogits · E; dE += dlogits^T · hf
	pgemm(N, D, V, n.logits, V, n.w.embd, D, n.dt, D, false)
	tr := n.tr[:V*N]
	cpu.ParallelPark(V, 32, func(lo, hi int) { transpose(tr[lo*N:], N, n.logits[lo:], V, N, hi-lo) })
	pgemm(V, D, N, tr, N, n.hf, D, n.g.embd, D, true)
	n.rmsnormBack(n.dx, n.dt, n.xf, n.rf, n.w.outNorm, n.g.outNorm, D, false)
	// n.dx is the gradient w.r.t. the output of the last block.
	for l := len(n.layers) - 1; l >= 0; l-- {
		a := &n.layers[l]
		w, qw, g := &n.w.layers[l], &n.qw.layers[l], &n.g.layers[l]
		// out = h + down(s2q): dh = dout; ds2q = dout · Wd
		copy(n.dh, n.dx)
		n.linearBack(n.df1, n.dx, a.s2q, qw.wd, g.wd, F, D, false)
		// through ffn_sub_norm (STE: ds2 = ds2q)
		n.rmsnormBack(n.df2, n.df1, a.m, a.r4, w.ffnSubNorm, g.ffnSubNorm, F, false)
		// m = relu(g)^2 * u
		cpu.ParallelPark(N*F, 256, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gv := max(a.g[i], 0)
				dm := n.df2[i]
				n.df1[i] = dm * a.u[i] * 2 * gv // dg
				n.df2[i] = dm * gv * gv         // du
			}
		})
		n.linearBack(n.dt, n.df1, a.a2q, qw.wg, g.wg, D, F, false)
		n.linearBack(n.dt, n.df2, a.a2q, qw.wu, g.wu, D, F, true)
		n.rmsnormBack(n.dh, n.dt, a.h, a.r3, w.ffnNorm, g.ffnNorm, D, true)
		// h = x + wo(s1q)
		copy(n.dx, n.dh)
		n.linearBack(n.dt, n.dh, a.s1q, qw.wo, g.wo, D, D, false)
		do := n.do
		n.rmsnormBack(do, n.dt, a.o, a.r2, w.attnSubNorm, g.attnSubNorm, D, false)
		n.attentionBack(a, do)
		n.rope(n.dq, c.Heads, true)
		n.rope(n.dk, c.KVHeads, true)
		n.linearBack(n.dt, n.dq, a.a1q, qw.wq, g.wq, D, D, false)
		n.linearBack(n.dt, n.dk, a.a1q, qw.wk, g.wk, D, kvd, true)
		n.linearBack(n.dt, n.dv, a.a1q, qw.wv, g.wv, D, kvd, true)
		n.rmsnormBack(n.dx, n.dt, a.x, a.r1, w.attnNorm, g.attnNorm, D, true)
	}
	for t, tok := range n.tokens {
		add(n.g.embd[int(tok)*D:int(tok)*D+D], n.dx[t*D:t*D+D])
	}
}
