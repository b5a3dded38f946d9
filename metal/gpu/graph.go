package gpu

// A graph is one command buffer: the dispatches of a forward pass, in order,
// with the bytes of their parameter structs. The runner builds it with the
// same code on every platform; Metal encodes it into a compute encoder
// (serial dispatch: each dispatch sees the writes of the previous ones), and
// the Linux test harness runs it on the CPU.

// bufID names a buffer of a backend (0 is never a buffer).
type bufID uint32

// ref is a position in a buffer.
type ref struct {
	buf bufID
	off int // bytes
}

// at returns the position off bytes further.
func (r ref) at(off int) ref { return ref{r.buf, r.off + off} }

type argKind uint8

const (
	argNone  argKind = iota // unbound
	argBuf                  // setBuffer:offset:atIndex:
	argBytes                // setBytes:length:atIndex: (graph.bytes[off:off+n])
)

// arg is one [[buffer(i)]] argument of a dispatch.
type arg struct {
	kind argKind
	buf  bufID
	off  int
	n    int
}

func bufArg(r ref) arg { return arg{kind: argBuf, buf: r.buf, off: r.off} }

const maxArgs = 6

// dispatch is one dispatchThreadgroups:threadsPerThreadgroup: call.
type dispatch struct {
	kernel  kernelID
	args    [maxArgs]arg
	nargs   int
	groups  [3]int
	threads [3]int
	shared  int // bytes of [[threadgroup(0)]] memory (a multiple of 16)
}

type graph struct {
	ds    []dispatch
	bytes []byte
}

func (g *graph) reset() {
	g.ds = g.ds[:0]
	g.bytes = g.bytes[:0]
}

// add appends a dispatch of kernel k over groups threadgroups of threads
// threads each.
func (g *graph) add(k kernelID, groups, threads [3]int, shared int, args ...arg) {
	if len(args) > maxArgs {
		panic("gpu: too many kernel arguments")
	}
	d := dispatch{kernel: k, nargs: len(args), groups: groups, threads: threads, shared: shared}
	copy(d.args[:], args)
	g.ds = append(g.ds, d)
}

// paramArg appends the bytes of p for setBytes.
func paramArg[P params](g *graph, p P) arg {
	b := paramBytes(&p)
	off := len(g.bytes)
	g.bytes = append(g.bytes, b...)
	return arg{kind: argBytes, off: off, n: len(b)}
}

// argBytes returns the setBytes payload of a.
func (g *graph) argBytes(a arg) []byte { return g.bytes[a.off : a.off+a.n] }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func grid1(n int) [3]int { return [3]int{n, 1, 1} }
