package model

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/gguf"
)

// ggufDequant holds the ggml types we have no kernel for but that
// llama-quantize writes into ternary files: its fallbacks for tensors whose
// rows are not whole 256-blocks (Q4_1, Q5_0, Q5_1, IQ4_NL) and the Q4_K/Q5_K
// it gives token_embd. Such a tensor is expanded to F32 at load (a float
// embedding or head, so exact, at 4 bytes per weight). Each function is the
// ggml reference dequantize_row_* for one block.
var ggufDequant = map[gguf.Type]func(y []float32, b []byte){
	gguf.Q4_1:   dequantQ4_1,
	gguf.Q5_0:   dequantQ5_0,
	gguf.Q5_1:   dequantQ5_1,
	gguf.Q4_K:   dequantQ4_K,
	gguf.Q5_K:   dequantQ5_K,
	gguf.IQ4_NL: dequantIQ4_NL,
}

func f16(b []byte) float32 { return cpu.F16ToF32(binary.LittleEndian.Uint16(b)) }

func dequantQ4_1(y []float32, b []byte) {
	d, m := f16(b), f16(b[2:])
	for j := 0; j < 16; j++ {
		y[j] = float32(b[4+j]&0xf)*d + m
		y[j+16] = float32(b[4+j]>>4)*d + m
	}
}

func dequantQ5_0(y []float32, b []byte) {
	d, qh := f16(b), binary.LittleEndian.Uint32(b[2:])
	for j := 0; j < 16; j++ {
		h0 := byte(qh>>j<<4) & 0x10
		h1 := byte(qh>>(j+12)) & 0x10
		y[j] = float32(int(b[6+j]&0xf|h0)-16) * d
		y[j+16] = float32(int(b[6+j]>>4|h1)-16) * d
	}
}

func dequantQ5_1(y []float32, b []byte) {
	d, m, qh := f16(b), f16(b[2:]), binary.LittleEndian.Uint32(b[4:])
	for j := 0; j < 16; j++ {
		h0 := byte(qh>>j<<4) & 0x10
		h1 := byte(qh>>(j+12)) & 0x10
		y[j] = float32(b[8+j]&0xf|h0)*d + m
		y[j+16] = float32(b[8+j]>>4|h1)*d + m
	}
}

// kvaluesIQ4NL is ggml's kvalues_iq4nl.
var kvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

func dequantIQ4_NL(y []float32, b []byte) {
	d := f16(b)
	for j := 0; j < 16; j++ {
		y[j] = d * float32(kvaluesIQ4NL[b[2+j]&0xf])
		y[j+16] = d * float32(kvaluesIQ4NL[b[2+j]>>4])
	}
}

// scaleMinK4 is ggml's get_scale_min_k4: the j-th 6-bit scale and min of a
// Q4_K/Q5_K block's 12 packed bytes.
func scaleMinK4(j int, q []byte) (sc, m float32) {
	if j < 4 {
		return float32(q[j] & 63), float32(q[j+4] & 63)
	}
	return float32(q[j+4]&0xf | q[j-4]>>6<<4), float32(q[j+4]>>4 | q[j]>>6<<4)
}

// dequantQ4_K: d, dmin (f16), scales[12], qs[128].
func dequantQ4_K(y []float32, b []byte) {
	d, dmin, sc, q := f16(b), f16(b[2:]), b[4:16], b[16:144]
	for j, is := 0, 0; j < 256; j, is = j+64, is+2 {
		s1, m1 := scaleMinK4(is, sc)
		s2, m2 := scaleMinK4(is+1, sc)
		for l := 0; l < 32; l++ {
			y[j+l] = d*s1*float32(q[l]&0xf) - dmin*m1
			y[j+32+l] = d*s2*float32(q[l]>>4) - dmin*m2
		}
		q = q[32:]
	}
}

// dequantQ5_K: d, dmin (f16), scales[12], qh[32], qs[128].
func dequantQ5_K(y []float32, b []byte) {
	d, dmin, sc, qh, q := f16(b), f16(b[2:]), b[4:16], b[16:48], b[48:176]
	u1, u2 := byte(1), byte(2)
	for j, is := 0, 0; j < 256; j, is = j+64, is+2 {
		s1, m1 := scaleMinK4(is, sc)
		s2, m2 := scaleMinK4(is+1, sc)
		for l := 0; l < 32; l++ {
			h1, h2 := float32(0), float32(0)
			if qh[l]&u1 != 0 {
				h1 = 16
			}
			if qh[l]&u2 != 0 {
				h2 = 16
			}
			y[j+l] = d*s1*(float32(q[l]&0xf)+h1) - dmin*m1
			y[j+32+l] = d*s2*(float32(q[l]>>4)+h2) - dmin*m2
		}
		q = q[32:]
		u1, u2 = u1<<2, u2<<2
	}
}

// dequantGGUF expands a tensor of one of the ggufDequant types into F32
// bytes; ok is false for other types.
func dequantGGUF(t gguf.Type, rows, cols int, data []byte) (out []byte, ok bool, err error) {
	fn, ok := ggufDequant[t]
	if !ok {
		return nil, false, nil
	}
	bs, ts := int(t.BlockSize()), int(t.TypeSize())
	if cols%bs != 0 {
		return nil, true, fmt.Errorf("%v row of %d columns is not whole %d-blocks", t, cols, bs)
	}
	n := rows * cols
	if len(data) < n/bs*ts {
		return nil, true, fmt.Errorf("%v data is %d bytes, want %d", t, len(data), n/bs*ts)
	}
	y := make([]float32, n)
	for i := 0; i < n/bs; i++ {
		fn(y[i*bs:(i+1)*bs], data[i*ts:])
	}
	out = make([]byte, 4*n)
	for i, v := range y {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
	}
	return out, true, nil
}
