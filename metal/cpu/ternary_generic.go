package cpu

// This file holds the portable reference versions of the ternary dot
// kernels. They decode codes with shifts and masks and accumulate integers
// per block; SIMD versions must give bit-identical results.

// dotTQ2Generic: for each 256-element block b with f16 d_b,
//
//	acc += d_b * float32(Σ_{j<256} (code(b,j)-1) * x[256b+j])
//
// where code(b, 128h+32n+m) = qs[32h+m] >> 2n & 3.
func dotTQ2Generic(w []byte, x []int8) float32 {
	var acc float32
	for b := 0; b < len(x)/256; b++ {
		blk := w[66*b : 66*b+66]
		s := dotTQ2Block(blk, x[256*b:256*b+256])
		acc += float32(getF16(blk[64:]) * float32(s)) // float32(): never fused into an FMA
	}
	return acc
}

// dotTQ2WholeGeneric is dotTQ2Generic's integer sums over the whole row,
// for a TQ2_0 matrix whose blocks all carry one d (Matrix.UseUniformScale),
// which the caller's scale includes.
func dotTQ2WholeGeneric(w []byte, x []int8) int32 {
	var s int32
	for b := 0; b < len(x)/256; b++ {
		s += dotTQ2Block(w[66*b:66*b+66], x[256*b:256*b+256])
	}
	return s
}

// dotTQ2Block is Σ_{j<256} (code(j)-1) * x[j] over one TQ2_0 block.
func dotTQ2Block(blk []byte, xb []int8) int32 {
	var s int32
	for h := 0; h < 2; h++ {
		qs := blk[32*h : 32*h+32]
		xh := xb[128*h : 128*h+128]
		x0, x1, x2, x3 := xh[0:32], xh[32:64], xh[64:96], xh[96:128]
		for m, q := range qs {
			s += (int32(q&3)-1)*int32(x0[m]) +
				(int32(q>>2&3)-1)*int32(x1[m]) +
				(int32(q>>4&3)-1)*int32(x2[m]) +
				(int32(q>>6)-1)*int32(x3[m])
		}
	}
	return s
}

// dotTQ1Generic: for each 256-element block b with f16 d_b,
//
//	acc += d_b * float32(Σ_{j<256} w(b,j) * x[256b+j])
//
// with w the TQ1_0 trits (see unpackTQ1) minus one.
func dotTQ1Generic(w []byte, x []int8) float32 {
	var acc float32
	for b := 0; b < len(x)/256; b++ {
		blk := w[54*b : 54*b+54]
		xb := x[256*b : 256*b+256]
		var s int32
		for m := 0; m < 32; m++ {
			t := &tq1Table[blk[m]]
			s += int32(t[0])*int32(xb[m]) + int32(t[1])*int32(xb[m+32]) + int32(t[2])*int32(xb[m+64]) +
				int32(t[3])*int32(xb[m+96]) + int32(t[4])*int32(xb[m+128])
		}
		for m := 0; m < 16; m++ {
			t := &tq1Table[blk[32+m]]
			s += int32(t[0])*int32(xb[160+m]) + int32(t[1])*int32(xb[176+m]) + int32(t[2])*int32(xb[192+m]) +
				int32(t[3])*int32(xb[208+m]) + int32(t[4])*int32(xb[224+m])
		}
		for j := 0; j < 4; j++ {
			t := &tq1Table[blk[48+j]]
			s += int32(t[0])*int32(xb[240+j]) + int32(t[1])*int32(xb[244+j]) + int32(t[2])*int32(xb[248+j]) +
				int32(t[3])*int32(xb[252+j])
		}
		acc += float32(getF16(blk[52:]) * float32(s))
	}
	return acc
}

// dotTQ1SGeneric returns Σ_j w[j]*x[j] over one row of bb-byte blocks whose
// first 52 bytes are TQ1_0's codes (see unpackTQ1): TQ1_S (bb 52, TQ1_0's
// blocks without their d) or TQ1_0 (bb 54, its d not read).
func dotTQ1SGeneric(w []byte, x []int8, bb int) int32 {
	var s int32
	for b := 0; b < len(x)/256; b++ {
		blk := w[bb*b : bb*b+52]
		xb := x[256*b : 256*b+256]
		for m := 0; m < 32; m++ {
			t := &tq1Table[blk[m]]
			s += int32(t[0])*int32(xb[m]) + int32(t[1])*int32(xb[m+32]) + int32(t[2])*int32(xb[m+64]) +
				int32(t[3])*int32(xb[m+96]) + int32(t[4])*int32(xb[m+128])
		}
		for m := 0; m < 16; m++ {
			t := &tq1Table[blk[32+m]]
			s += int32(t[0])*int32(xb[160+m]) + int32(t[1])*int32(xb[176+m]) + int32(t[2])*int32(xb[192+m]) +
				int32(t[3])*int32(xb[208+m]) + int32(t[4])*int32(xb[224+m])
		}
		for j := 0; j < 4; j++ {
			t := &tq1Table[blk[48+j]]
			s += int32(t[0])*int32(xb[240+j]) + int32(t[1])*int32(xb[244+j]) + int32(t[2])*int32(xb[248+j]) +
				int32(t[3])*int32(xb[252+j])
		}
	}
	return s
}

// dotI2SGeneric returns Σ_j (code(j)-1) * x[j] over one I2_S row, where in
// each 128-element block byte p holds elements p, p+32, p+64, p+96 at bits
// 7-6, 5-4, 3-2, 1-0.
func dotI2SGeneric(w []byte, x []int8) int32 {
	var s int32
	for b := 0; b < len(x)/128; b++ {
		qs := w[32*b : 32*b+32]
		xb := x[128*b : 128*b+128]
		x0, x1, x2, x3 := xb[0:32], xb[32:64], xb[64:96], xb[96:128]
		for m, q := range qs {
			s += (int32(q>>6)-1)*int32(x0[m]) +
				(int32(q>>4&3)-1)*int32(x1[m]) +
				(int32(q>>2&3)-1)*int32(x2[m]) +
				(int32(q&3)-1)*int32(x3[m])
		}
	}
	return s
}
