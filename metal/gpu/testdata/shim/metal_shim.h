// metal_shim.h: just enough of the Metal Shading Language, in C++17, to
// compile kernels.metal on Linux and run it on the CPU (see harness.cpp).
//
// - Address-space qualifiers (device, constant, thread, threadgroup) and the
//   kernel specifier are empty; [[buffer(n)]]-style attributes are ignored by
//   the compiler (-Wno-attributes) and read by the Go glue generator instead.
// - Scalar and vector types: uchar, ushort, uint, half (storage only, exact
//   conversion to float), and vec<T, N> for the vector types the kernels use
//   (float4, char4, uint4, uint2, uint3, ...), elementwise operators,
//   conversions and dot.
// - Math: the float functions the kernels call, through the compiler's
//   builtins, correctly rounded where IEEE says so (exp is libm's expf).
// - threadgroup_barrier and simd_sum / simd_max suspend the calling thread
//   (a ucontext coroutine in the harness) until its threadgroup, or the live
//   lanes of its simdgroup, arrive.
//
// The shim deliberately includes no <cmath>: kernel code calling a function
// the shim lacks fails to compile here instead of silently using a double
// version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "shim_abi.h"

typedef unsigned char uchar;
typedef unsigned short ushort;
typedef unsigned int uint;

#define kernel
#define device
#define constant
#define thread
#define threadgroup

#ifndef INFINITY
#define INFINITY __builtin_inff()
#endif

// half: IEEE binary16 storage; reading converts exactly to float.
struct half {
    uint16_t bits;
    operator float() const {
        uint32_t sign = uint32_t(bits & 0x8000u) << 16;
        uint32_t exp = (bits >> 10) & 0x1fu;
        uint32_t man = bits & 0x3ffu;
        uint32_t f;
        if (exp == 0x1f) {
            f = sign | 0x7f800000u | man << 13;
        } else if (exp != 0) {
            f = sign | (exp + 112) << 23 | man << 13;
        } else if (man == 0) {
            f = sign;
        } else {
            float v = float(man) * (1.0f / 16777216.0f);
            return sign ? -v : v;
        }
        float out;
        std::memcpy(&out, &f, 4);
        return out;
    }
};
static_assert(sizeof(half) == 2, "half is 2 bytes");

// ---- vectors -----------------------------------------------------------------

template <class T, int N> struct vec;

template <class T> struct vec<T, 2> {
    T x, y;
    vec() : x(), y() {}
    explicit vec(T s) : x(s), y(s) {}
    vec(T a, T b) : x(a), y(b) {}
    template <class U> explicit vec(const vec<U, 2> &o) : x(T(o.x)), y(T(o.y)) {}
    T &operator[](int i) { return (&x)[i]; }
    T operator[](int i) const { return (&x)[i]; }
};

template <class T> struct vec<T, 3> {
    T x, y, z;
    vec() : x(), y(), z() {}
    explicit vec(T s) : x(s), y(s), z(s) {}
    vec(T a, T b, T c) : x(a), y(b), z(c) {}
    template <class U> explicit vec(const vec<U, 3> &o) : x(T(o.x)), y(T(o.y)), z(T(o.z)) {}
    T &operator[](int i) { return (&x)[i]; }
    T operator[](int i) const { return (&x)[i]; }
};

template <class T> struct vec<T, 4> {
    T x, y, z, w;
    vec() : x(), y(), z(), w() {}
    explicit vec(T s) : x(s), y(s), z(s), w(s) {}
    vec(T a, T b, T c, T d) : x(a), y(b), z(c), w(d) {}
    template <class U> explicit vec(const vec<U, 4> &o) : x(T(o.x)), y(T(o.y)), z(T(o.z)), w(T(o.w)) {}
    T &operator[](int i) { return (&x)[i]; }
    T operator[](int i) const { return (&x)[i]; }
};

#define SHIM_VEC_OP(OP)                                                          \
    template <class T, int N> vec<T, N> operator OP(vec<T, N> a, vec<T, N> b) {  \
        vec<T, N> r;                                                             \
        for (int i = 0; i < N; i++) r[i] = T(a[i] OP b[i]);                      \
        return r;                                                                \
    }                                                                            \
    template <class T, int N, class S> vec<T, N> operator OP(vec<T, N> a, S s) { \
        vec<T, N> r;                                                             \
        for (int i = 0; i < N; i++) r[i] = T(a[i] OP T(s));                      \
        return r;                                                                \
    }
SHIM_VEC_OP(+)
SHIM_VEC_OP(-)
SHIM_VEC_OP(*)
SHIM_VEC_OP(/)
SHIM_VEC_OP(&)
SHIM_VEC_OP(|)
SHIM_VEC_OP(>>)
SHIM_VEC_OP(<<)
#undef SHIM_VEC_OP

typedef vec<float, 2> float2;
typedef vec<float, 3> float3;
typedef vec<float, 4> float4;
typedef vec<char, 2> char2;
typedef vec<char, 4> char4;
typedef vec<uchar, 2> uchar2;
typedef vec<uchar, 4> uchar4;
typedef vec<short, 4> short4;
typedef vec<ushort, 2> ushort2;
typedef vec<ushort, 3> ushort3;
typedef vec<int, 2> int2;
typedef vec<int, 4> int4;
typedef vec<uint, 2> uint2;
typedef vec<uint, 3> uint3;
typedef vec<uint, 4> uint4;

static_assert(sizeof(char4) == 4 && sizeof(float4) == 16 && sizeof(uint4) == 16, "vector sizes");

// dot in the order ((x*x + y*y) + z*z) + w*w, each product rounded (MSL
// leaves the order open; the kernels only dot exact integers).
inline float dot(float4 a, float4 b) {
    float s = a.x * b.x;
    float t = a.y * b.y;
    s = s + t;
    t = a.z * b.z;
    s = s + t;
    t = a.w * b.w;
    return s + t;
}

// ---- scalar functions ---------------------------------------------------------

inline float fabs(float x) { return __builtin_fabsf(x); }
inline float abs(float x) { return __builtin_fabsf(x); }
inline float fma(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
inline float exp(float x) { return __builtin_expf(x); }
inline float sqrt(float x) { return __builtin_sqrtf(x); }
inline float rsqrt(float x) { return 1.0f / __builtin_sqrtf(x); }
inline float rint(float x) { return __builtin_rintf(x); }
inline bool isinf(float x) { return __builtin_isinf(x); }
inline bool isnan(float x) { return __builtin_isnan(x); }
inline float min(float a, float b) { return __builtin_fminf(a, b); }
inline float max(float a, float b) { return __builtin_fmaxf(a, b); }
inline float fmin(float a, float b) { return __builtin_fminf(a, b); }
inline float fmax(float a, float b) { return __builtin_fmaxf(a, b); }
inline uint min(uint a, uint b) { return a < b ? a : b; }
inline uint max(uint a, uint b) { return a > b ? a : b; }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }

template <class T, class U> inline T as_type(U v) {
    static_assert(sizeof(T) == sizeof(U), "as_type between types of different sizes");
    T r;
    std::memcpy(&r, &v, sizeof(T));
    return r;
}

// ---- synchronisation ------------------------------------------------------------

enum class mem_flags { mem_none = 0, mem_device = 1, mem_threadgroup = 2, mem_texture = 4 };

inline void threadgroup_barrier(mem_flags) { shim_barrier(); }
inline float simd_sum(float v) { return shim_simd_sum(v); }
inline float simd_max(float v) { return shim_simd_max(v); }

namespace metal {} // kernels say "using namespace metal;"

// ---- glue helpers -------------------------------------------------------------

namespace shim {

// bi converts a builtin value to the type the kernel declared.
template <class T> struct builtin;
template <> struct builtin<uint> {
    static uint get(u3 v) { return v.x; }
};
template <> struct builtin<ushort> {
    static ushort get(u3 v) { return ushort(v.x); }
};
template <> struct builtin<uint2> {
    static uint2 get(u3 v) { return uint2(v.x, v.y); }
};
template <> struct builtin<uint3> {
    static uint3 get(u3 v) { return uint3(v.x, v.y, v.z); }
};
template <> struct builtin<ushort2> {
    static ushort2 get(u3 v) { return ushort2(ushort(v.x), ushort(v.y)); }
};
template <> struct builtin<ushort3> {
    static ushort3 get(u3 v) { return ushort3(ushort(v.x), ushort(v.y), ushort(v.z)); }
};
template <class T> T bi(u3 v) { return builtin<T>::get(v); }

} // namespace shim
