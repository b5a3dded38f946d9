package model

// The decoder block, written once as a sequence of operations on a backend.
// A backend runs each operation on its own kernels and buffers: the CPU one
// (cpuBackend, backend_cpu.go) at once on package metal/cpu's kernels,
// reporting to the session's hook; the Metal one (gpuState, device.go)
// records it into a command buffer of package metal/gpu, run when the batch
// is complete. The operations are coarse (a handful per layer) so that each
// backend keeps its fused kernels.
//
// A batch is n token rows: the embeddings are in Session.x when it starts.
// Between operations the rows live in the backend's buffers, named here as
// on the CPU: x (residual stream), xb (normed input), q, k, v, mix
// (attention output), gate and up, xq and inv (int8 activations of the next
// projection and their scales).

// normID names the RMSNorms of a block, each the input of a projection.
type normID uint8

const (
	attnNorm    normID = iota // x -> xb, the input of Q, K and V
	attnSubNorm               // mix in place (only reported without a sub-norm), the input of O
	ffnNorm                   // x -> xb, the input of gate and up
	ffnSubNorm                // gate in place (only reported without a sub-norm), the input of down
)

// backend runs the operations of a forward pass on one batch of rows.
type backend interface {
	// normQuant applies norm to the batch's rows (the hook sees them) and
	// quantizes them to int8 as the input of projection p, applying p's
	// own RMSNorm first when the BitLinear has one (use_rms_norm).
	normQuant(layer int, norm normID, p int)
	// qkv computes q, k and v from xb's quantized rows (K and V requantize
	// with their own RMSNorm when they have one), rotates q and k (RoPE)
	// and stores k and v in the KV cache at each row's position.
	qkv(layer int)
	// attend computes mix, each row attending over the cached positions
	// of its own sequence up to its own.
	attend(layer int)
	// gateUp computes gate = act(Gate·xq) * Up·xq.
	gateUp(layer int)
	// addProject adds W·xq to x for projection p (O or down).
	addProject(layer int, p int)
	// output computes the logits of rows [first, n): final RMSNorm, then
	// the LM head.
	output(first int)
}

// block runs decoder block li on the batch:
//
//	x += O(subnorm(attention(RoPE(Q xn), RoPE(K xn), V xn)))   xn = RMSNorm(x)
//	x += Down(subnorm(act(Gate xn) * Up xn))                   xn = RMSNorm(x)
func (m *Model) block(b backend, li int) {
	b.normQuant(li, attnNorm, projQ)
	b.qkv(li)
	b.attend(li)
	b.normQuant(li, attnSubNorm, projO)
	b.addProject(li, projO)

	b.normQuant(li, ffnNorm, projGate)
	b.gateUp(li)
	b.normQuant(li, ffnSubNorm, projDown)
	b.addProject(li, projDown)
}

// blocks runs the batch, whose embeddings are in x, through every block.
func (m *Model) blocks(b backend) {
	for li := range m.layers {
		m.block(b, li)
	}
}

// embedRows looks up the embeddings of ids into x (len(ids) rows of Dim).
func (m *Model) embedRows(x []float32, ids []int32) {
	dim := m.Config.Dim
	for t, id := range ids {
		m.embed.Row(x[t*dim:(t+1)*dim], int(id))
	}
}
