// kernels.metal: the Metal compute kernels of bitrepl's GPU backend.
//
// Every kernel's reference is a Go kernel of package metal/cpu (named in its
// comment). On Linux the test harness compiles this file as C++17 against
// testdata/shim/metal_stdlib and runs every kernel over its whole grid, so the
// file keeps to rules the shim can check:
//
//   - threadgroup memory is a [[threadgroup(0)]] parameter sized by the host,
//     never a local threadgroup array;
//   - every thread of a threadgroup reaches every threadgroup_barrier, and every
//     live lane of a simdgroup reaches every simd_* call (no early return
//     before them);
//   - simdgroups are 32 threads wide (the host checks threadExecutionWidth);
//   - parameters arrive in a constant struct (mirrored by params.go, checked by
//     the tests), and #define'd sizes are mirrored by Go constants (checked).
//
// Exactness. The integer part is exact: int8 activations (QuantizeInt8, with a
// correctly rounded division whatever the GPU's division does) and ternary dot
// products, accumulated in float32 as integers below 2^24 (so in any order:
// the host refuses rows wider than 65536), scaled as the Go reference does
// (TQ2_0 block scales included, written so that no contraction into an FMA
// can change them). Elsewhere products that Go rounds separately are
// separate statements and FP contraction is asked off; a compiler that fuses
// anyway changes those float results in the last bit (the tests allow it on
// Metal: only the residual add after a ternary product, RoPE and the float
// kernels are affected).

#include <metal_stdlib>
using namespace metal;

#pragma clang fp contract(off)

// ---- shared sizes (mirrored in params.go) ----------------------------------

#define SIMD 32          // threads per simdgroup
#define NORM_THREADS 256 // threads of a norm_quant threadgroup (one row each)
#define TERN_SG 2        // simdgroups per ternary threadgroup
#define I2S_ROWS 4       // rows per simdgroup, I2_S kernels
#define TQ2_ROWS 2       // rows per simdgroup, TQ2_0 kernels
#define TERN_TOKENS 8    // tokens per threadgroup, ternary_*_mat
#define FLOAT_SG 2       // simdgroups per float-weight threadgroup
#define FLOAT_ROWS 2     // rows per simdgroup, float-weight kernels
#define FLOAT_TOKENS 4   // tokens per threadgroup, float-weight kernels
#define ATT_THREADS 128  // threads of an attention threadgroup
#define ATT_SG 4         // simdgroups of an attention threadgroup
#define ATT_CHUNK 128    // positions scored per step (threadgroup floats)
#define ATT_MAX_DIM 256  // largest head dimension (2 output dims per thread)
#define ELEM_THREADS 256 // threads of an elementwise threadgroup

// norm_quant flags
#define NORM_RMS 1u    // RMSNorm the row first
#define NORM_WEIGHT 2u // multiply by the weight vector
#define NORM_FLOAT 4u  // write the float result to y
#define NORM_INT8 8u   // quantize to int8 (xq, inv)

// ---- parameter structs (mirrored in params.go) -----------------------------

struct NormArgs {
    uint width;  // elements per row
    uint stride; // row stride of xq (>= width; the pad is zeroed)
    uint flags;  // NORM_*
    float eps;   // RMSNorm epsilon
};

struct TernaryArgs {
    uint rows;       // matrix rows = outputs per token
    uint cols;       // matrix columns = activation row stride
    uint n;          // tokens
    uint accumulate; // 1: dst += result (residual add)
    float scale;     // the matrix's per-tensor scale
};

struct FloatArgs {
    uint rows;       // matrix rows = outputs per token
    uint cols;       // matrix columns = activation row stride
    uint n;          // tokens
    uint accumulate; // 1: dst += result
    uint row_bytes;  // bytes per matrix row
    float scale;     // the matrix's per-tensor scale
};

struct RopeArgs {
    uint heads;       // heads per row
    uint head_dim;    // values per head
    uint n;           // rows (tokens)
    uint pos0;        // position of row 0
    uint stride;      // floats between rows
    uint interleaved; // 1: pairs (2i, 2i+1); 0: rotate-half pairs (i, i+head_dim/2)
};

struct AttnArgs {
    uint heads;     // query heads
    uint kv_heads;  // key/value heads
    uint head_dim;  // values per head
    uint pos0;      // position of token 0
    uint q_stride;  // floats between tokens in q and out
    uint kv_stride; // floats between positions in the caches
    float scale;    // 1/sqrt(head_dim)
};

struct ActArgs {
    uint count; // elements
    uint relu2; // 1: relu(g)^2 * u; 0: silu(g) * u
};

struct DequantArgs {
    uint cols;  // elements per token
    uint count; // elements in all
};

// ---- helpers ----------------------------------------------------------------

// div_rn returns a/b correctly rounded (a, b > 0 finite, a/b a normal float):
// a first guess through the reciprocal, then two steps to the neighbour with
// the smallest remainder |a - q*b| (computed with one rounding by fma), so
// the result does not depend on how the GPU divides.
inline float div_rn(float a, float b) {
    float q = a * (1.0f / b);
    for (int it = 0; it < 2; it++) {
        float lo = as_type<float>(as_type<uint>(q) - 1u);
        float hi = as_type<float>(as_type<uint>(q) + 1u);
        float rq = fabs(fma(-q, b, a));
        float rl = fabs(fma(-lo, b, a));
        float rh = fabs(fma(-hi, b, a));
        if (rl < rq) {
            q = lo;
        } else if (rh < rq) {
            q = hi;
        }
    }
    return q;
}

// quant_scale computes QuantizeInt8's s = 127/amax and inv = 1/s.
inline void quant_scale(float amax, thread float &s, thread float &inv) {
    if (isinf(amax)) {
        s = 0.0f;
        inv = INFINITY;
        return;
    }
    s = div_rn(127.0f, amax);
    inv = div_rn(1.0f, s);
}

// quant1 is QuantizeInt8's rounding of y = x*s.
inline char quant1(float y) {
    if (y >= 127.0f) {
        return 127;
    }
    if (y <= -128.0f) {
        return -128;
    }
    if (y == y) {
        return char(int(rint(y)));
    }
    return 0; // NaN
}

// block_sum adds v over the threadgroup (nsg simdgroups), the same float on
// every thread. part holds nsg floats.
inline float block_sum(float v, threadgroup float *part, uint sg, uint lane, uint nsg) {
    v = simd_sum(v);
    if (lane == 0) {
        part[sg] = v;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    float t = 0.0f;
    for (uint i = 0; i < nsg; i++) {
        t += part[i];
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    return t;
}

// block_max is block_sum for the maximum (NaN ignored, as QuantizeInt8's max).
inline float block_max(float v, threadgroup float *part, uint sg, uint lane, uint nsg) {
    v = simd_max(v);
    if (lane == 0) {
        part[sg] = v;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    float t = part[0];
    for (uint i = 1; i < nsg; i++) {
        t = part[i] > t ? part[i] : t;
    }
    threadgroup_barrier(mem_flags::mem_threadgroup);
    return t;
}

inline float normed(device const float *xr, device const float *w, float s, uint i, uint flags) {
    float v = xr[i];
    if (flags & NORM_RMS) {
        v = v * s;
    }
    if (flags & NORM_WEIGHT) {
        v = v * w[i];
    }
    return v;
}

// ---- kernels ----------------------------------------------------------------

// norm_quant: one threadgroup (NORM_THREADS threads) per row of x. Reference:
// cpu.RMSNorm then cpu.QuantizeInt8 (the session's norm + quantize):
//
//	s = 1/sqrt(Σ x[i]^2 / width + eps)            // NORM_RMS (float32 sum here)
//	v[i] = (x[i]*s)*weight[i]                     // NORM_WEIGHT; else x[i]*s, or x[i]
//	y[row][i] = v[i]                              // NORM_FLOAT
//	xq[row][i] = QuantizeInt8(v)[i], inv[row]     // NORM_INT8; xq[row][width:stride] = 0
kernel void norm_quant(
    device const float *x [[buffer(0)]],
    device const float *weight [[buffer(1)]],
    device char *xq [[buffer(2)]],
    device float *inv [[buffer(3)]],
    device float *y [[buffer(4)]],
    constant NormArgs &a [[buffer(5)]],
    threadgroup float *part [[threadgroup(0)]],
    uint row [[threadgroup_position_in_grid]],
    uint tid [[thread_index_in_threadgroup]],
    uint nthreads [[threads_per_threadgroup]],
    uint sg [[simdgroup_index_in_threadgroup]],
    uint lane [[thread_index_in_simdgroup]])
{
    uint nsg = nthreads / SIMD;
    device const float *xr = x + row * a.width;
    float s = 1.0f;
    if (a.flags & NORM_RMS) {
        float ss = 0.0f;
        for (uint i = tid; i < a.width; i += nthreads) {
            float v = xr[i];
            float sq = v * v;
            ss += sq;
        }
        float mean = block_sum(ss, part, sg, lane, nsg) / float(a.width);
        s = 1.0f / sqrt(mean + a.eps);
    }
    float amax = 1e-5f;
    for (uint i = tid; i < a.width; i += nthreads) {
        float v = normed(xr, weight, s, i, a.flags);
        if (a.flags & NORM_FLOAT) {
            y[row * a.width + i] = v;
        }
        float av = fabs(v);
        amax = av > amax ? av : amax;
    }
    if (a.flags & NORM_INT8) {
        amax = block_max(amax, part, sg, lane, nsg);
        float qs, qi;
        quant_scale(amax, qs, qi);
        device char *q = xq + row * a.stride;
        for (uint i = tid; i < a.width; i += nthreads) {
            float v = normed(xr, weight, s, i, a.flags);
            q[i] = quant1(v * qs);
        }
        for (uint i = a.width + tid; i < a.stride; i += nthreads) {
            q[i] = 0;
        }
        if (tid == 0) {
            inv[row] = qi;
        }
    }
}

// i2s_rows computes I2_S rows x int8 tokens for one simdgroup: I2S_ROWS rows
// from r0, NT tokens from t0. Reference: cpu.MatVecTernary / MatMulTernary:
//
//	dst[t][r] = (scale*inv[t]) * Σ_j (code(r,j)-1) * xq[t][j]   (+ dst[t][r] when accumulate)
//
// Each lane reads 4-byte words: word wi of a row holds bytes 4wi..4wi+3 of
// block b = wi/8, i.e. elements 128b + j + {0, 32, 64, 96} for j = 4(wi%8)..+3
// at bits 7-6, 5-4, 3-2, 1-0.
template <int NT>
inline void i2s_rows(device const uchar *w, device const char *xq, device const float *inv,
                     device float *dst, constant TernaryArgs &a, uint r0, uint t0, uint lane)
{
    uint rb = a.cols / 4;
    uint nw = rb / 4;
    float acc[NT][I2S_ROWS];
    for (int t = 0; t < NT; t++) {
        for (int r = 0; r < I2S_ROWS; r++) {
            acc[t][r] = 0.0f;
        }
    }
    for (uint wi = lane; wi < nw; wi += SIMD) {
        uint xo = (wi / 8) * 128 + (wi % 8) * 4;
        float4 x0[NT], x1[NT], x2[NT], x3[NT];
        for (int t = 0; t < NT; t++) {
            if (t0 + t < a.n) {
                device const char *xt = xq + (t0 + t) * a.cols + xo;
                x0[t] = float4(*(device const char4 *)(xt));
                x1[t] = float4(*(device const char4 *)(xt + 32));
                x2[t] = float4(*(device const char4 *)(xt + 64));
                x3[t] = float4(*(device const char4 *)(xt + 96));
            } else {
                x0[t] = x1[t] = x2[t] = x3[t] = float4(0.0f);
            }
        }
        for (int r = 0; r < I2S_ROWS; r++) {
            if (r0 + r < a.rows) {
                uint word = *(device const uint *)(w + (r0 + r) * rb + 4 * wi);
                uint4 by = uint4(word, word >> 8, word >> 16, word >> 24) & 0xffu;
                float4 c0 = float4(by >> 6) - 1.0f;
                float4 c1 = float4((by >> 4) & 3u) - 1.0f;
                float4 c2 = float4((by >> 2) & 3u) - 1.0f;
                float4 c3 = float4(by & 3u) - 1.0f;
                for (int t = 0; t < NT; t++) {
                    acc[t][r] += dot(c0, x0[t]) + dot(c1, x1[t]) + dot(c2, x2[t]) + dot(c3, x3[t]);
                }
            }
        }
    }
    for (int t = 0; t < NT; t++) {
        for (int r = 0; r < I2S_ROWS; r++) {
            float sum = simd_sum(acc[t][r]);
            if (lane == 0 && r0 + r < a.rows && t0 + t < a.n) {
                float sc = a.scale * inv[t0 + t];
                float o = sc * sum;
                device float *d = dst + (t0 + t) * a.rows + r0 + r;
                if (a.accumulate != 0) {
                    o = *d + o;
                }
                *d = o;
            }
        }
    }
}

// ternary_i2s_vec: I2_S matrix x one token (decode). Grid: ceil(rows /
// (TERN_SG*I2S_ROWS)) threadgroups of TERN_SG*SIMD threads. See i2s_rows.
kernel void ternary_i2s_vec(
    device const uchar *w [[buffer(0)]],
    device const char *xq [[buffer(1)]],
    device const float *inv [[buffer(2)]],
    device float *dst [[buffer(3)]],
    constant TernaryArgs &a [[buffer(4)]],
    uint2 tg [[threadgroup_position_in_grid]],
    uint sg [[simdgroup_index_in_threadgroup]],
    uint lane [[thread_index_in_simdgroup]])
{
    i2s_rows<1>(w, xq, inv, dst, a, (tg.x * TERN_SG + sg) * I2S_ROWS, 0, lane);
}

// ternary_i2s_mat: I2_S matrix x n tokens (prompt). Grid: (ceil(rows /
// (TERN_SG*I2S_ROWS)), ceil(n / TERN_TOKENS)). See i2s_rows.
kernel void ternary_i2s_mat(
    device const uchar *w [[buffer(0)]],
    device const char *xq [[buffer(1)]],
    device const float *inv [[buffer(2)]],
    device float *dst [[buffer(3)]],
    constant TernaryArgs &a [[buffer(4)]],
    uint2 tg [[threadgroup_position_in_grid]],
    uint sg [[simdgroup_index_in_threadgroup]],
    uint lane [[thread_index_in_simdgroup]])
{
    i2s_rows<TERN_TOKENS>(w, xq, inv, dst, a, (tg.x * TERN_SG + sg) * I2S_ROWS, tg.y * TERN_TOKENS, lane);
}

// tq2_rows computes TQ2_0 rows x int8 tokens for one simdgroup (TQ2_ROWS
// rows). Reference: cpu.MatVecTernary on TQ2_0 (and on TQ1_0, which the
// host repacks to TQ2_0 with the same codes and block scales):
//
//	acc = 0; for each 256-block b: acc += d_b * float(Σ_{j in b} (code(j)-1)*xq[t][j])
//	dst[t][r] = (scale*inv[t]) * acc   (+ dst[t][r] when accumulate)
//
// Lane m reads bytes qs[m] and qs[32+m] of each 66-byte block: elements
// 256b + 128h + m + 32k at bits 2k..2k+1 of qs[32h+m].
template <int NT>
inline void tq2_rows(device const uchar *w, device const char *xq, device const float *inv,
                     device float *dst, constant TernaryArgs &a, uint r0, uint t0, uint lane)
{
    uint nb = a.cols / 256;
    uint rb = nb * 66;
    float acc[NT][TQ2_ROWS];
    for (int t = 0; t < NT; t++) {
        for (int r = 0; r < TQ2_ROWS; r++) {
            acc[t][r] = 0.0f;
        }
    }
    for (uint b = 0; b < nb; b++) {
        float xv[NT][8];
        for (int t = 0; t < NT; t++) {
            for (int k = 0; k < 8; k++) {
                xv[t][k] = 0.0f;
                if (t0 + t < a.n) {
                    xv[t][k] = float(xq[(t0 + t) * a.cols + 256 * b + 128 * (k / 4) + lane + 32 * (k % 4)]);
                }
            }
        }
        for (int r = 0; r < TQ2_ROWS; r++) {
            uint q0 = 0x55u, q1 = 0x55u; // codes 1 = weight 0 for rows past the end
            float d = 0.0f;
            if (r0 + r < a.rows) {
                device const uchar *blk = w + (r0 + r) * rb + 66 * b;
                q0 = blk[lane];
                q1 = blk[32 + lane];
                d = float(*(device const half *)(blk + 64));
            }
            for (int t = 0; t < NT; t++) {
                float s = 0.0f;
                for (int k = 0; k < 4; k++) {
                    float c0 = float((q0 >> (2 * k)) & 3u) - 1.0f;
                    float c1 = float((q1 >> (2 * k)) & 3u) - 1.0f;
                    s += c0 * xv[t][k] + c1 * xv[t][4 + k];
                }
                s = simd_sum(s);
                // acc += float(d*s), the product rounded before the add as in
                // Go. |s| <= 2^16, so with s = hi + lo (lo = s mod 64) both
                // d*hi and d*lo are exact and the one rounding is their sum's:
                // the add into acc cannot be fused with a multiply (clang's
                // fp-contract=fast would ignore the pragma above).
                int si = int(s);
                float lo = float(si & 63), hi = float(si - (si & 63));
                float p = d * hi + d * lo;
                acc[t][r] = acc[t][r] + p;
            }
        }
    }
    if (lane == 0) {
        for (int t = 0; t < NT; t++) {
            for (int r = 0; r < TQ2_ROWS; r++) {
                if (r0 + r < a.rows && t0 + t < a.n) {
                    float sc = a.scale * inv[t0 + t];
                    float o = sc * acc[t][r];
                    device float *dd = dst + (t0 + t) * a.rows + r0 + r;
                    if (a.accumulate != 0) {
                        o = *dd + o;
                    }
                    *dd = o;
                }
            }
        }
    }
}

// ternary_tq2_vec: TQ2_0 matrix x one token. Grid: ceil(rows /
// (TERN_SG*TQ2_ROWS)) threadgroups of TERN_SG*SIMD threads. See tq2_rows.
kernel void ternary_tq2_vec(
    device const uchar *w [[buffer(0)]],
    device const char *xq [[buffer(1)]],
    device const float *inv [[buffer(2)]],
    device float *dst [[buffer(3)]],
    constant TernaryArgs &a [[buffer(4)]],
    uint2 tg [[threadgroup_position_in_grid]],
    uint sg [[simdgroup_index_in_threadgroup]],
    uint lane [[thread_index_in_simdgroup]])
{
    tq2_rows<1>(w, xq, inv, dst, a, (tg.x * TERN_SG + sg) * TQ2_ROWS, 0, lane);
}

// ternary_tq2_mat: TQ2_0 matrix x n tokens. Grid: (ceil(rows /
// (TERN_SG*TQ2_ROWS)), ceil(n / TERN_TOKENS)). See tq2_rows.
kernel void ternary_tq2_mat(
    device const uchar *w [[buffer(0)]],
    device const char *xq [[buffer(1)]],
    device const float *inv [[buffer(2)]],
    device float *dst [[buffer(3)]],
    constant TernaryArgs &a [[buffer(4)]],
    uint2 tg [[threadgroup_position_in_grid]],
    uint sg [[simdgroup_index_in_threadgroup]],
    uint lane [[thread_index_in_simdgroup]])
{
    tq2_rows<TERN_TOKENS>(w, xq, inv, dst, a, (tg.x * TERN_SG + sg) * TQ2_ROWS, tg.y * TERN_TOKENS, lane);
}

// ---- float-weight matrices (LM head; float projections) ---------------------
//
// Each type dequantizes one unit of U consecutive elements of a row (as
// cpu's Row does, without the matrix scale); lanes take units in turn.

struct WF32 {
    enum { U = 4 };
    static inline void unit(device const uchar *row, uint u, thread float *v) {
        device const float *p = (device const float *)(row) + 4 * u;
        for (uint i = 0; i < 4; i++) {
            v[i] = p[i];
        }
    }
};

struct WF16 {
    enum { U = 4 };
    static inline void unit(device const uchar *row, uint u, thread float *v) {
        device const half *p = (device const half *)(row) + 4 * u;
        for (uint i = 0; i < 4; i++) {
            v[i] = float(p[i]);
        }
    }
};

struct WBF16 {
    enum { U = 4 };
    static inline void unit(device const uchar *row, uint u, thread float *v) {
        device const ushort *p = (device const ushort *)(row) + 4 * u;
        for (uint i = 0; i < 4; i++) {
            v[i] = as_type<float>(uint(p[i]) << 16);
        }
    }
};

// Q8_0: 34-byte blocks of 32: f16 d, int8 q[32]; v = q*d.
struct WQ8_0 {
    enum { U = 32 };
    static inline void unit(device const uchar *row, uint u, thread float *v) {
        device const uchar *b = row + 34 * u;
        float d = float(*(device const half *)(b));
        for (uint i = 0; i < 32; i++) {
            v[i] = float(((device const char *)(b))[2 + i]) * d;
        }
    }
};

// Q4_0: 18-byte blocks of 32: f16 d, qs[16] (x[j] low nibble, x[j+16] high); v = (q-8)*d.
struct WQ4_0 {
    enum { U = 32 };
    static inline void unit(device const uchar *row, uint u, thread float *v) {
        device const uchar *b = row + 18 * u;
        float d = float(*(device const half *)(b));
        for (uint i = 0; i < 16; i++) {
            uint q = b[2 + i];
            v[i] = float(int(q & 15u) - 8) * d;
            v[i + 16] = float(int(q >> 4) - 8) * d;
        }
    }
};

// Q6_K: 210-byte blocks of 256 (ql[128], qh[64], int8 scales[16], f16 d);
// a unit is 16 elements sharing one scale. Element e = 128H + 32Q + l:
// low 4 bits in ql[64H + l + 32(Q&1)] (high nibble when Q >= 2), high 2
// bits at bit 2Q of qh[32H + l], scale scales[8H + l/16 + 2Q];
// v = (d*scale) * (q-32).
struct WQ6_K {
    enum { U = 16 };
    static inline void unit(device const uchar *row, uint u, thread float *v) {
        device const uchar *b = row + 210 * (u / 16);
        uint e0 = 16 * (u % 16);
        uint H = e0 / 128, Q = (e0 % 128) / 32, l0 = e0 % 32;
        float d = float(*(device const half *)(b + 208));
        float ds = d * float(((device const char *)(b))[192 + 8 * H + l0 / 16 + 2 * Q]);
        for (uint i = 0; i < 16; i++) {
            uint l = l0 + i;
            uint ql = b[64 * H + l + 32 * (Q & 1u)];
            uint lo = Q >= 2 ? ql >> 4 : ql & 15u;
            uint hi = (b[128 + 32 * H + l] >> (2 * Q)) & 3u;
            v[i] = ds * float(int(lo | (hi << 4)) - 32);
        }
    }
};

// float_rows: FLOAT_ROWS rows from r0 x NT float tokens from t0, for one
// simdgroup. Reference: cpu.MatVec / MatMul (float32 sums in another order):
//
//	dst[t][r] = scale * Σ_j w[r,j]*x[t][j]   (+ dst[t][r] when accumulate)
template <typename W, int NT>
inline void float_rows(device const uchar *w, device const float *x, device float *dst,
                       constant FloatArgs &a, uint r0, uint t0, uint lane)
{
    float acc[NT][FLOAT_ROWS];
    for (int t = 0; t < NT; t++) {
        for (int r = 0; r < FLOAT_ROWS; r++) {
            acc[t][r] = 0.0f;
        }
    }
    uint nu = a.cols / W::U;
    for (uint u = lane; u < nu; u += SIMD) {
        for (int r = 0; r < FLOAT_ROWS; r++) {
            if (r0 + r < a.rows) {
                float v[W::U];
                W::unit(w + (r0 + r) * a.row_bytes, u, v);
                for (int t = 0; t < NT; t++) {
                    if (t0 + t < a.n) {
                        device const float *xt = x + (t0 + t) * a.cols + u * W::U;
                        float s = 0.0f;
                        for (uint i = 0; i < W::U; i++) {
                            float p = v[i] * xt[i];
                            s += p;
                        }
                        acc[t][r] += s;
                    }
                }
            }
        }
    }
    for (int t = 0; t < NT; t++) {
        for (int r = 0; r < FLOAT_ROWS; r++) {
            float sum = simd_sum(acc[t][r]);
            if (lane == 0 && r0 + r < a.rows && t0 + t < a.n) {
                float o = a.scale * sum;
                device float *d = dst + (t0 + t) * a.rows + r0 + r;
                if (a.accumulate != 0) {
                    o = *d + o;
                }
                *d = o;
            }
        }
    }
}

// The float-weight kernels: buffer 0 the matrix, 1 the tokens (n x cols
// floats), 2 the outputs (n x rows), 3 FloatArgs. Grid: (ceil(rows /
// (FLOAT_SG*FLOAT_ROWS)), ceil(n / FLOAT_TOKENS)) threadgroups of
// FLOAT_SG*SIMD threads. See float_rows.

// matmul_f32: F32 matrix x n float tokens.
kernel void matmul_f32(
    device const uchar *w [[buffer(0)]],
    device const float *x [[buffer(1)]],
    device float *dst [[buffer(2)]],
    constant FloatArgs &a [[buffer(3)]],
    uint2 tg [[threadgroup_position_in_grid]],
    uint sg [[simdgroup_index_in_threadgroup]],
    uint lane [[thread_index_in_simdgroup]])
{
    float_rows<WF32, FLOAT_TOKENS>(w, x, dst, a, (tg.x * FLOAT_SG + sg) * FLOAT_ROWS, tg.y * FLOAT_TOKENS, lane);
}

// matmul_f16: F16 matrix x n float tokens.
kernel void matmul_f16(
    device const uchar *w [[buffer(0)]],
    device const float *x [[buffer(1)]],
    device float *dst [[buffer(2)]],
    constant FloatArgs &a [[buffer(3)]],
    uint2 tg [[threadgroup_position_in_grid]],
    uint sg [[simdgroup_index_in_threadgroup]],
    uint lane [[thread_index_in_simdgroup]])
{
    float_rows<WF16, FLOAT_TOKENS>(w, x, dst, a, (tg.x * FLOAT_SG + sg) * FLOAT_ROWS, tg.y * FLOAT_TOKENS, lane);
}

// matmul_bf16: BF16 matrix x n float tokens.
kernel void matmul_bf16(
    device const uchar *w [[buffer(0)]],
    device const float *x [[buffer(1)]],
    device float *dst [[buffer(2)]],
    constant FloatArgs &a [[buffer(3)]],
    uint2 tg [[threadgroup_position_in_grid]],
    uint sg [[simdgroup_index_in_threadgroup]],
    uint lane [[thread_index_in_simdgroup]])
{
    float_rows<WBF16, FLOAT_TOKENS>(w, x, dst, a, (tg.x * FLOAT_SG + sg) * FLOAT_ROWS, tg.y * FLOAT_TOKENS, lane);
}

// matmul_q8_0: Q8_0 matrix x n float tokens.
kernel void matmul_q8_0(
    device const uchar *w [[buffer(0)]],
    device const float *x [[buffer(1)]],
    device float *dst [[buffer(2)]],
    constant FloatArgs &a [[buffer(3)]],
    uint2 tg [[threadgroup_position_in_grid]],
    uint sg [[simdgroup_index_in_threadgroup]],
    uint lane [[thread_index_in_simdgroup]])
{
    float_rows<WQ8_0, FLOAT_TOKENS>(w, x, dst, a, (tg.x * FLOAT_SG + sg) * FLOAT_ROWS, tg.y * FLOAT_TOKENS, lane);
}

// matmul_q4_0: Q4_0 matrix x n float tokens.
kernel void matmul_q4_0(
    device const uchar *w [[buffer(0)]],
    device const float *x [[buffer(1)]],
    device float *dst [[buffer(2)]],
    constant FloatArgs &a [[buffer(3)]],
    uint2 tg [[threadgroup_position_in_grid]],
    uint sg [[simdgroup_index_in_threadgroup]],
    uint lane [[thread_index_in_simdgroup]])
{
    float_rows<WQ4_0, FLOAT_TOKENS>(w, x, dst, a, (tg.x * FLOAT_SG + sg) * FLOAT_ROWS, tg.y * FLOAT_TOKENS, lane);
}

// matmul_q6_k: Q6_K matrix x n float tokens.
kernel void matmul_q6_k(
    device const uchar *w [[buffer(0)]],
    device const float *x [[buffer(1)]],
    device float *dst [[buffer(2)]],
    constant FloatArgs &a [[buffer(3)]],
    uint2 tg [[threadgroup_position_in_grid]],
    uint sg [[simdgroup_index_in_threadgroup]],
    uint lane [[thread_index_in_simdgroup]])
{
    float_rows<WQ6_K, FLOAT_TOKENS>(w, x, dst, a, (tg.x * FLOAT_SG + sg) * FLOAT_ROWS, tg.y * FLOAT_TOKENS, lane);
}


// ---- the rest of a layer ------------------------------------------------------

// rope: one thread per (row, head, pair), in place. Reference: cpu.RoPE
// (rotate-half) and the session's ropeInterleaved, at position pos0+row:
//
//	(a, b) = (v[i], v[i+head_dim/2])  or  (v[2i], v[2i+1]) when interleaved
//	rotate-half: v[i] = a*cos - b*sin;   v[i+head_dim/2] = a*sin + b*cos
//	interleaved: v[2i] = a*cos - b*sin;  v[2i+1] = b*cos + a*sin
//
// cos and sin hold head_dim/2 values per position. Grid: 1-D, ELEM_THREADS
// threads per threadgroup.
kernel void rope(
    device float *x [[buffer(0)]],
    device const float *cosv [[buffer(1)]],
    device const float *sinv [[buffer(2)]],
    constant RopeArgs &a [[buffer(3)]],
    uint gid [[thread_position_in_grid]])
{
    uint hp = a.head_dim / 2;
    if (gid >= a.n * a.heads * hp) {
        return;
    }
    uint i = gid % hp;
    uint h = (gid / hp) % a.heads;
    uint t = gid / (hp * a.heads);
    device float *v = x + t * a.stride + h * a.head_dim;
    float c = cosv[(a.pos0 + t) * hp + i];
    float s = sinv[(a.pos0 + t) * hp + i];
    if (a.interleaved != 0) {
        float va = v[2 * i], vb = v[2 * i + 1];
        float ac = va * c, bs = vb * s, bc = vb * c, sa = va * s;
        v[2 * i] = ac - bs;
        v[2 * i + 1] = bc + sa;
    } else {
        float va = v[i], vb = v[i + hp];
        float ac = va * c, bs = vb * s, sa = va * s, bc = vb * c;
        v[i] = ac - bs;
        v[i + hp] = sa + bc;
    }
}

// attention: one threadgroup (ATT_THREADS threads) per (head, token). Token
// t at position p = pos0+t attends to positions 0..p of the caches (keys and
// values of kv head h / (heads/kv_heads)). Reference: the session's attend
// (cpu.Dot, cpu.Softmax, cpu.AxpyTo):
//
//	a[j] = (q · k[j]) * scale; a = softmax(a); out = Σ_j a[j] * v[j]
//
// computed in chunks of ATT_CHUNK positions with a running maximum (online
// softmax); each thread owns output dims tid and tid+ATT_THREADS.
kernel void attention(
    device const float *q [[buffer(0)]],
    device const float *kc [[buffer(1)]],
    device const float *vc [[buffer(2)]],
    device float *out [[buffer(3)]],
    constant AttnArgs &a [[buffer(4)]],
    threadgroup float *sc [[threadgroup(0)]],
    uint2 tg [[threadgroup_position_in_grid]],
    uint tid [[thread_index_in_threadgroup]],
    uint sg [[simdgroup_index_in_threadgroup]],
    uint lane [[thread_index_in_simdgroup]])
{
    uint h = tg.x, t = tg.y;
    uint hd = a.head_dim;
    uint kvh = h / (a.heads / a.kv_heads);
    uint npos = a.pos0 + t + 1;
    device const float *qh = q + t * a.q_stride + h * hd;
    device const float *kb = kc + kvh * hd;
    device const float *vb = vc + kvh * hd;
    float m = -INFINITY, l = 0.0f, acc0 = 0.0f, acc1 = 0.0f;
    for (uint c0 = 0; c0 < npos; c0 += ATT_CHUNK) {
        uint cn = min(uint(ATT_CHUNK), npos - c0);
        for (uint j = sg; j < cn; j += ATT_SG) {
            device const float *kr = kb + (c0 + j) * a.kv_stride;
            float d = 0.0f;
            for (uint i = lane; i < hd; i += SIMD) {
                float p = qh[i] * kr[i];
                d += p;
            }
            d = simd_sum(d);
            if (lane == 0) {
                sc[j] = d * a.scale;
            }
        }
        threadgroup_barrier(mem_flags::mem_threadgroup);
        float cm = -INFINITY;
        for (uint j = 0; j < cn; j++) {
            cm = sc[j] > cm ? sc[j] : cm;
        }
        float mn = cm > m ? cm : m;
        float alpha = exp(m - mn);
        threadgroup_barrier(mem_flags::mem_threadgroup);
        for (uint j = tid; j < cn; j += ATT_THREADS) {
            sc[j] = exp(sc[j] - mn);
        }
        threadgroup_barrier(mem_flags::mem_threadgroup);
        float ls = 0.0f;
        acc0 = acc0 * alpha;
        acc1 = acc1 * alpha;
        for (uint j = 0; j < cn; j++) {
            float p = sc[j];
            ls += p;
            device const float *vr = vb + (c0 + j) * a.kv_stride;
            if (tid < hd) {
                float pv = p * vr[tid];
                acc0 += pv;
            }
            if (tid + ATT_THREADS < hd) {
                float pv = p * vr[tid + ATT_THREADS];
                acc1 += pv;
            }
        }
        l = l * alpha + ls;
        m = mn;
        threadgroup_barrier(mem_flags::mem_threadgroup);
    }
    device float *o = out + t * a.q_stride + h * hd;
    if (tid < hd) {
        o[tid] = acc0 / l;
    }
    if (tid + ATT_THREADS < hd) {
        o[tid + ATT_THREADS] = acc1 / l;
    }
}

// act_mul: gate = act(gate) * up elementwise. Reference: the session's
// activate: relu2 g' = max(g, 0); g'*g'*u; silu g/(1+exp(-g))*u. Grid: 1-D,
// ELEM_THREADS threads per threadgroup.
kernel void act_mul(
    device float *gate [[buffer(0)]],
    device const float *up [[buffer(1)]],
    constant ActArgs &a [[buffer(2)]],
    uint gid [[thread_position_in_grid]])
{
    if (gid >= a.count) {
        return;
    }
    float g = gate[gid];
    float u = up[gid];
    if (a.relu2 != 0) {
        g = g < 0.0f ? 0.0f : g;
        float gg = g * g;
        gate[gid] = gg * u;
    } else {
        float sg = g / (1.0f + exp(-g));
        gate[gid] = sg * u;
    }
}

// dequant_int8: xf[t][i] = float(xq[t][i]) * inv[t], the input of a float
// projection (the session's project for non-ternary weights). Grid: 1-D,
// ELEM_THREADS threads per threadgroup.
kernel void dequant_int8(
    device const char *xq [[buffer(0)]],
    device const float *inv [[buffer(1)]],
    device float *xf [[buffer(2)]],
    constant DequantArgs &a [[buffer(3)]],
    uint gid [[thread_position_in_grid]])
{
    if (gid >= a.count) {
        return;
    }
    xf[gid] = float(xq[gid]) * inv[gid / a.cols];
}
