package safetensors

import "fmt"

// DType is the element type of a tensor, spelled in headers as in the format ("F32", "BF16", "U8").
// The zero value is not a valid type.
type DType uint8

// Element types. Sub-byte types of the format (F4, F6_E2M3, F6_E3M2) are recognised and rejected
// with ErrUnsupported.
const (
	F64 DType = iota + 1
	F32
	F16
	BF16
	I64
	I32
	I16
	I8
	U64
	U32
	U16
	U8
	BOOL
	F8_E5M2
	F8_E4M3
	F8_E8M0
)

var dtypeNames = [...]string{
	F64: "F64", F32: "F32", F16: "F16", BF16: "BF16",
	I64: "I64", I32: "I32", I16: "I16", I8: "I8",
	U64: "U64", U32: "U32", U16: "U16", U8: "U8",
	BOOL: "BOOL", F8_E5M2: "F8_E5M2", F8_E4M3: "F8_E4M3", F8_E8M0: "F8_E8M0",
}

var dtypeSizes = [...]int{
	F64: 8, F32: 4, F16: 2, BF16: 2,
	I64: 8, I32: 4, I16: 2, I8: 1,
	U64: 8, U32: 4, U16: 2, U8: 1,
	BOOL: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1,
}

// alignRank orders dtypes as the reference implementation's Dtype enum does ("increasing alignment order");
// its writer lays tensors out by this rank, descending, then by name.
var alignRank = [...]int{
	BOOL: 0, U8: 1, I8: 2, F8_E5M2: 3, F8_E4M3: 4, F8_E8M0: 5, I16: 6, U16: 7, F16: 8, BF16: 9,
	I32: 10, U32: 11, F32: 12, F64: 13, I64: 14, U64: 15,
}

// subByte lists dtypes of the format that pack several elements per byte; this package does not read them.
var subByte = map[string]bool{"F4": true, "F6_E2M3": true, "F6_E3M2": true}

// String returns the name used in safetensors headers, or "DType(n)" for an invalid value.
func (t DType) String() string {
	if t.Valid() {
		return dtypeNames[t]
	}
	return fmt.Sprintf("DType(%d)", uint8(t))
}

// Valid reports whether t is one of the defined element types.
func (t DType) Valid() bool { return t >= F64 && int(t) < len(dtypeNames) }

// Size returns the size of one element in bytes, or 0 for an invalid type.
func (t DType) Size() int {
	if t.Valid() {
		return dtypeSizes[t]
	}
	return 0
}

// ParseDType returns the type spelled s in a header ("F32", "BF16", ...).
func ParseDType(s string) (DType, bool) {
	for t := F64; int(t) < len(dtypeNames); t++ {
		if dtypeNames[t] == s {
			return t, true
		}
	}
	return 0, false
}
