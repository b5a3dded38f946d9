// Encodings of the ASIMD instructions Go's arm64 assembler does not know,
// on register numbers (d, n, m = 0..31). Shared by the *_arm64.s files.

// SDOT Vd.4S, Vn.16B, Vm.16B (dot-product extension): each int32 lane of d
// += the sum of the 4 products of its signed bytes.
#define SDOT(d, n, m) WORD $(0x4E809400 | ((m)<<16) | ((n)<<5) | (d))

// SMULL Vd.8H, Vn.8B, Vm.8B: signed widening multiply of the low 8 bytes.
#define SMULL(d, n, m) WORD $(0x0E20C000 | ((m)<<16) | ((n)<<5) | (d))

// SMLAL2 Vd.8H, Vn.16B, Vm.16B: d += widening products of the high 8 bytes.
#define SMLAL2(d, n, m) WORD $(0x4E208000 | ((m)<<16) | ((n)<<5) | (d))

// SADALP Vd.4S, Vn.8H: d += pairwise sums of the int16 lanes of n.
#define SADALP(d, n) WORD $(0x4E606800 | ((n)<<5) | (d))

// CMHI Vd.16B, Vn.16B, Vm.16B: d = n > m (unsigned bytes), 0xFF or 0.
#define CMHI(d, n, m) WORD $(0x6E203400 | ((m)<<16) | ((n)<<5) | (d))

// ADD Vd.16B, Vn.16B, Vm.16B (bytes).
#define ADDB(d, n, m) WORD $(0x4E208400 | ((m)<<16) | ((n)<<5) | (d))

// EOR Vd.16B, Vn.16B, Vm.16B.
#define EORB(d, n, m) WORD $(0x6E201C00 | ((m)<<16) | ((n)<<5) | (d))

// MUL Vd.16B, Vn.16B, Vm.16B (bytes, low 8 bits of each product).
#define MULB(d, n, m) WORD $(0x4E209C00 | ((m)<<16) | ((n)<<5) | (d))

// SCVTF Vd.4S, Vn.4S: int32 lanes to float32.
#define SCVTF4S(d, n) WORD $(0x4E21D800 | ((n)<<5) | (d))

// FCVTL Vd.4S, Vn.4H and FCVTL2 Vd.4S, Vn.8H: the low / high 4 halves of n
// to float32.
#define FCVTL(d, n) WORD $(0x0E217800 | ((n)<<5) | (d))
#define FCVTL2(d, n) WORD $(0x4E217800 | ((n)<<5) | (d))

// FADD / FMUL Vd.4S, Vn.4S, Vm.4S.
#define FADD4S(d, n, m) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d))
#define FMUL4S(d, n, m) WORD $(0x6E20DC00 | ((m)<<16) | ((n)<<5) | (d))

// FADDP Vd.4S, Vn.4S, Vm.4S (pairwise) and FADDP Sd, Vn.2S.
#define FADDP4S(d, n, m) WORD $(0x6E20D400 | ((m)<<16) | ((n)<<5) | (d))
#define FADDP2S(d, n) WORD $(0x7E30D800 | ((n)<<5) | (d))

// FCMGT Vd.4S, Vn.4S, Vm.4S: d = n > m (false for NaN), all ones or 0.
#define FCMGT4S(d, n, m) WORD $(0x6EA0E400 | ((m)<<16) | ((n)<<5) | (d))

// FCMEQ Vd.4S, Vn.4S, Vm.4S.
#define FCMEQ4S(d, n, m) WORD $(0x4E20E400 | ((m)<<16) | ((n)<<5) | (d))

// FMIN / FMAX Vd.4S, Vn.4S, Vm.4S.
#define FMIN4S(d, n, m) WORD $(0x4EA0F400 | ((m)<<16) | ((n)<<5) | (d))
#define FMAX4S(d, n, m) WORD $(0x4E20F400 | ((m)<<16) | ((n)<<5) | (d))

// FCVTNS Vd.4S, Vn.4S: float32 to int32, rounding to nearest even.
#define FCVTNS4S(d, n) WORD $(0x4E21A800 | ((n)<<5) | (d))

// FABS Vd.4S, Vn.4S.
#define FABS4S(d, n) WORD $(0x4EA0F800 | ((n)<<5) | (d))

// BIT Vd.16B, Vn.16B, Vm.16B: insert the bits of n where m is set.
#define BITB(d, n, m) WORD $(0x6EA01C00 | ((m)<<16) | ((n)<<5) | (d))

// FADD / FMUL Vd.2D for the float64 sums.
#define FADD2D(d, n, m) WORD $(0x4E60D400 | ((m)<<16) | ((n)<<5) | (d))
#define FMLA2D(d, n, m) WORD $(0x4E60CC00 | ((m)<<16) | ((n)<<5) | (d))

// FCVTL Vd.2D, Vn.2S and FCVTL2 Vd.2D, Vn.4S: float32 to float64.
#define FCVTL2D(d, n) WORD $(0x0E617800 | ((n)<<5) | (d))
#define FCVTL2D2(d, n) WORD $(0x4E617800 | ((n)<<5) | (d))

// FMAXV Sd, Vn.4S: the largest lane (no NaN expected).
#define FMAXV4S(d, n) WORD $(0x6E30F800 | ((n)<<5) | (d))

// FADDP Dd, Vn.2D.
#define FADDP2D(d, n) WORD $(0x7E70D800 | ((n)<<5) | (d))

// SXTL Vd.8H, Vn.8B / SXTL2 Vd.8H, Vn.16B and SXTL Vd.4S, Vn.4H / SXTL2
// Vd.4S, Vn.8H (SSHLL #0).
#define SXTL8H(d, n) WORD $(0x0F08A400 | ((n)<<5) | (d))
#define SXTL28H(d, n) WORD $(0x4F08A400 | ((n)<<5) | (d))
#define SXTL4S(d, n) WORD $(0x0F10A400 | ((n)<<5) | (d))
#define SXTL24S(d, n) WORD $(0x4F10A400 | ((n)<<5) | (d))

// MUL / MLA Vd.4S, Vn.4S, Vm.S[i] (by element): d = n*m[i], d += n*m[i].
#define MULE(d, n, m, i) WORD $(0x4F808000 | (((i)&1)<<21) | ((m)<<16) | (((i)>>1)<<11) | ((n)<<5) | (d))
#define MLAE(d, n, m, i) WORD $(0x6F800000 | (((i)&1)<<21) | ((m)<<16) | (((i)>>1)<<11) | ((n)<<5) | (d))

// FSUB Vd.4S, Vn.4S, Vm.4S.
#define FSUB4S(d, n, m) WORD $(0x4EA0D400 | ((m)<<16) | ((n)<<5) | (d))

// BIC Vd.16B, Vn.16B, Vm.16B: d = n &^ m.
#define BICB(d, n, m) WORD $(0x4E601C00 | ((m)<<16) | ((n)<<5) | (d))
