package cpu

import (
	"encoding/binary"
	"math"
)

// dequantize converts whole blocks of type t from src to dst (len(dst)
// elements, a multiple of the block size), with the ggml reference
// dequantizers (dequantize_row_* in ggml-quants.c). I2_S and TQ1_S yield the codes
// -1, 0, 1 (times 1: the per-tensor scale is applied by the caller).
func dequantize(t DType, dst []float32, src []byte) {
	switch t {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case F16:
		for i := range dst {
			dst[i] = F16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case Q8_0:
		for b := 0; b < len(dst)/32; b++ {
			blk, y := src[34*b:34*b+34], dst[32*b:32*b+32]
			d := getF16(blk)
			for j := range y {
				y[j] = float32(int8(blk[2+j])) * d
			}
		}
	case Q4_0:
		for b := 0; b < len(dst)/32; b++ {
			blk, y := src[18*b:18*b+18], dst[32*b:32*b+32]
			d := getF16(blk)
			for j := 0; j < 16; j++ {
				y[j] = float32(int(blk[2+j]&0xf)-8) * d
				y[j+16] = float32(int(blk[2+j]>>4)-8) * d
			}
		}
	case Q6_K:
		for b := 0; b < len(dst)/256; b++ {
			dequantQ6K(dst[256*b:256*b+256], src[210*b:210*b+210])
		}
	case TQ1_0:
		for b := 0; b < len(dst)/256; b++ {
			blk, y := src[54*b:54*b+54], dst[256*b:256*b+256]
			d := getF16(blk[52:])
			var c [256]int8
			unpackTQ1(&c, blk)
			for j := range y {
				y[j] = float32(c[j]) * d
			}
		}
	case TQ2_0:
		for b := 0; b < len(dst)/256; b++ {
			blk, y := src[66*b:66*b+66], dst[256*b:256*b+256]
			d := getF16(blk[64:])
			var c [256]int8
			unpackTQ2(&c, blk)
			for j := range y {
				y[j] = float32(c[j]) * d
			}
		}
	case TQ1_S:
		for b := 0; b < len(dst)/256; b++ {
			var c [256]int8
			unpackTQ1(&c, src[52*b:52*b+52])
			for j, v := range c {
				dst[256*b+j] = float32(v)
			}
		}
	case I2_S:
		var c [128]int8
		for b := 0; b < len(dst)/128; b++ {
			unpackI2S(c[:], src[32*b:32*b+32])
			for j, v := range c {
				dst[128*b+j] = float32(v)
			}
		}
	default:
		panic("metal: dequantize: invalid type " + t.String())
	}
}

// dequantQ6K is dequantize_row_q6_K for one block.
func dequantQ6K(y []float32, blk []byte) {
	d := getF16(blk[208:])
	ql, qh, sc := blk[0:128], blk[128:192], blk[192:208]
	for n := 0; n < 256; n += 128 {
		yy := y[n : n+128]
		for l := 0; l < 32; l++ {
			is := l / 16
			q1 := int8(ql[l]&0xf|(qh[l]>>0&3)<<4) - 32
			q2 := int8(ql[l+32]&0xf|(qh[l]>>2&3)<<4) - 32
			q3 := int8(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
			q4 := int8(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
			yy[l] = float32(d*float32(int8(sc[is]))) * float32(q1)
			yy[l+32] = float32(d*float32(int8(sc[is+2]))) * float32(q2)
			yy[l+64] = float32(d*float32(int8(sc[is+4]))) * float32(q3)
			yy[l+96] = float32(d*float32(int8(sc[is+6]))) * float32(q4)
		}
		ql, qh, sc = ql[64:], qh[32:], sc[8:]
	}
}

// tq1Trit returns trit n (0 = most significant) of a TQ1_0 byte, in 0..2:
// ((uint8)(q * 3^n) * 3) >> 8.
func tq1Trit(q byte, n int) int8 {
	p := [5]byte{1, 3, 9, 27, 81}[n]
	return int8(uint16(q*p) * 3 >> 8)
}

// tq1Table[q] holds the 5 trits of byte q minus one (codes -1..1).
var tq1Table = func() (t [256][5]int8) {
	for q := 0; q < 256; q++ {
		for n := 0; n < 5; n++ {
			t[q][n] = tq1Trit(byte(q), n) - 1
		}
	}
	return t
}()

// unpackTQ1 decodes the 256 codes of one TQ1_0 block (see packTQ1).
func unpackTQ1(c *[256]int8, blk []byte) {
	for m := 0; m < 32; m++ {
		t := &tq1Table[blk[m]]
		for n := 0; n < 5; n++ {
			c[m+32*n] = t[n]
		}
	}
	for m := 0; m < 16; m++ {
		t := &tq1Table[blk[32+m]]
		for n := 0; n < 5; n++ {
			c[160+m+16*n] = t[n]
		}
	}
	for j := 0; j < 4; j++ {
		t := &tq1Table[blk[48+j]]
		for n := 0; n < 4; n++ {
			c[240+j+4*n] = t[n]
		}
	}
}

// unpackTQ2 decodes the 256 codes of one TQ2_0 block (see packTQ2). The
// invalid code 3 decodes as +2, as in ggml.
func unpackTQ2(c *[256]int8, blk []byte) {
	for h := 0; h < 2; h++ {
		for m := 0; m < 32; m++ {
			q := blk[32*h+m]
			for n := 0; n < 4; n++ {
				c[128*h+m+32*n] = int8(q>>(2*n)&3) - 1
			}
		}
	}
}

// unpackI2S decodes the 128 codes of one I2_S block (see packI2S). The
// invalid code 3 decodes as +2, as in bitnet.cpp's kernels.
func unpackI2S(c []int8, blk []byte) {
	c = c[:128]
	for j := 0; j < 32; j++ {
		q := blk[j]
		c[j] = int8(q>>6) - 1
		c[j+32] = int8(q>>4&3) - 1
		c[j+64] = int8(q>>2&3) - 1
		c[j+96] = int8(q&3) - 1
	}
}
