package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind is a GGUF metadata value type id (gguf_type).
type Kind uint32

// GGUF metadata value types, with their ids in the file.
const (
	KindUint8   Kind = 0
	KindInt8    Kind = 1
	KindUint16  Kind = 2
	KindInt16   Kind = 3
	KindUint32  Kind = 4
	KindInt32   Kind = 5
	KindFloat32 Kind = 6
	KindBool    Kind = 7
	KindString  Kind = 8
	KindArray   Kind = 9
	KindUint64  Kind = 10
	KindInt64   Kind = 11
	KindFloat64 Kind = 12

	// KindInvalid is the Kind of the zero Value and the ArrayKind of a scalar.
	KindInvalid Kind = math.MaxUint32
)

var kindNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

// String returns the lower-case name of the kind ("uint32", "string", "array").
func (k Kind) String() string {
	if uint64(k) < uint64(len(kindNames)) {
		return kindNames[k]
	}
	if k == KindInvalid {
		return "invalid"
	}
	return fmt.Sprintf("Kind(%d)", uint32(k))
}

// size returns the encoded size of a scalar of kind k, 0 for strings, arrays and unknown kinds.
func (k Kind) size() int {
	switch k {
	case KindUint8, KindInt8, KindBool:
		return 1
	case KindUint16, KindInt16:
		return 2
	case KindUint32, KindInt32, KindFloat32:
		return 4
	case KindUint64, KindInt64, KindFloat64:
		return 8
	}
	return 0
}

func (k Kind) isInt() bool {
	switch k {
	case KindUint8, KindInt8, KindUint16, KindInt16, KindUint32, KindInt32, KindUint64, KindInt64:
		return true
	}
	return false
}

func (k Kind) signed() bool {
	return k == KindInt8 || k == KindInt16 || k == KindInt32 || k == KindInt64
}

// Value is one typed GGUF metadata value: a scalar, a string, or an array of scalars or strings.
// The zero Value is invalid (Kind() == KindInvalid). Values are immutable; getters return copies.
//
// Integer getters convert between integer kinds when the value fits (a uint8 reads as Int32s, a uint32
// as Int, an int64 of 5 as Uint); they report false when it does not or the kind is not an integer.
type Value struct {
	valid bool
	kind  Kind
	elem  Kind     // element kind of an array
	n     int      // number of array elements
	bits  uint64   // scalar numbers and bools: integers as two's complement, floats as their IEEE bits
	str   string   // KindString
	strs  []string // array of strings
	raw   []byte   // array of numbers or bools: n elements, little-endian
}

// Kind returns the value's type: a scalar kind, KindString or KindArray (KindInvalid for the zero Value).
func (v Value) Kind() Kind {
	if !v.valid {
		return KindInvalid
	}
	return v.kind
}

// ArrayKind returns the element kind of an array, KindInvalid for a scalar or the zero Value.
func (v Value) ArrayKind() Kind {
	if !v.valid || v.kind != KindArray {
		return KindInvalid
	}
	return v.elem
}

// Len returns the number of elements of an array and 0 for anything else.
func (v Value) Len() int {
	if !v.valid || v.kind != KindArray {
		return 0
	}
	return v.n
}

// intBits returns an integer scalar as (magnitude bits, negative).
func (v Value) intBits() (u uint64, neg bool, ok bool) {
	if !v.valid || !v.kind.isInt() {
		return 0, false, false
	}
	if v.kind.signed() && int64(v.bits) < 0 {
		return v.bits, true, true
	}
	return v.bits, false, true
}

// Uint returns an integer scalar of any kind as a uint64; false if it is negative or not an integer.
func (v Value) Uint() (uint64, bool) {
	u, neg, ok := v.intBits()
	if !ok || neg {
		return 0, false
	}
	return u, true
}

// Int returns an integer scalar of any kind as an int64; false if it does not fit or is not an integer.
func (v Value) Int() (int64, bool) {
	u, neg, ok := v.intBits()
	if !ok || (!neg && u > math.MaxInt64) {
		return 0, false
	}
	return int64(u), true
}

// Float returns a float32 or float64 scalar as a float64, or an integer scalar that a float64 holds exactly.
func (v Value) Float() (float64, bool) {
	if !v.valid {
		return 0, false
	}
	switch v.kind {
	case KindFloat32:
		return float64(math.Float32frombits(uint32(v.bits))), true
	case KindFloat64:
		return math.Float64frombits(v.bits), true
	}
	if i, ok := v.Int(); ok && i >= -1<<53 && i <= 1<<53 {
		return float64(i), true
	}
	if u, ok := v.Uint(); ok && u <= 1<<53 {
		return float64(u), true
	}
	return 0, false
}

// Bool returns a bool scalar.
func (v Value) Bool() (bool, bool) {
	if !v.valid || v.kind != KindBool {
		return false, false
	}
	return v.bits != 0, true
}

// Str returns a string scalar.
func (v Value) Str() (string, bool) {
	if !v.valid || v.kind != KindString {
		return "", false
	}
	return v.str, true
}

// Strings returns a copy of an array of strings.
func (v Value) Strings() ([]string, bool) {
	if !v.valid || v.kind != KindArray || v.elem != KindString {
		return nil, false
	}
	return append([]string(nil), v.strs...), true
}

// elemInt decodes integer element i of a numeric array as (bits, negative).
func (v Value) elemInt(i int) (uint64, bool) {
	switch v.elem {
	case KindUint8:
		return uint64(v.raw[i]), false
	case KindInt8:
		x := int64(int8(v.raw[i]))
		return uint64(x), x < 0
	case KindUint16:
		return uint64(binary.LittleEndian.Uint16(v.raw[2*i:])), false
	case KindInt16:
		x := int64(int16(binary.LittleEndian.Uint16(v.raw[2*i:])))
		return uint64(x), x < 0
	case KindUint32:
		return uint64(binary.LittleEndian.Uint32(v.raw[4*i:])), false
	case KindInt32:
		x := int64(int32(binary.LittleEndian.Uint32(v.raw[4*i:])))
		return uint64(x), x < 0
	case KindUint64:
		return binary.LittleEndian.Uint64(v.raw[8*i:]), false
	case KindInt64:
		x := int64(binary.LittleEndian.Uint64(v.raw[8*i:]))
		return uint64(x), x < 0
	}
	return 0, false
}

// intArray converts an integer array element-wise; ok is false if any element falls outside [lo, hi].
func intArray[T int32 | uint32 | int64 | uint64 | uint8](v Value, lo int64, hi uint64) ([]T, bool) {
	if !v.valid || v.kind != KindArray || !v.elem.isInt() {
		return nil, false
	}
	out := make([]T, v.n)
	for i := range out {
		u, neg := v.elemInt(i)
		if neg {
			if int64(u) < lo {
				return nil, false
			}
		} else if u > hi {
			return nil, false
		}
		out[i] = T(u)
	}
	return out, true
}

// Int32s returns an integer array as int32s; false if an element does not fit.
func (v Value) Int32s() ([]int32, bool) { return intArray[int32](v, math.MinInt32, math.MaxInt32) }

// Uint32s returns an integer array as uint32s; false if an element does not fit.
func (v Value) Uint32s() ([]uint32, bool) { return intArray[uint32](v, 0, math.MaxUint32) }

// Int64s returns an integer array as int64s; false if an element does not fit.
func (v Value) Int64s() ([]int64, bool) { return intArray[int64](v, math.MinInt64, math.MaxInt64) }

// Uint64s returns an integer array as uint64s; false if an element is negative.
func (v Value) Uint64s() ([]uint64, bool) { return intArray[uint64](v, 0, math.MaxUint64) }

// Uint8s returns an integer array as bytes (for example tokenizer.ggml.precompiled_charsmap); false if an
// element does not fit.
func (v Value) Uint8s() ([]uint8, bool) { return intArray[uint8](v, 0, math.MaxUint8) }

// Float32s returns a float32 array, or a float64 array rounded to float32.
func (v Value) Float32s() ([]float32, bool) {
	if !v.valid || v.kind != KindArray {
		return nil, false
	}
	switch v.elem {
	case KindFloat32:
		out := make([]float32, v.n)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(v.raw[4*i:]))
		}
		return out, true
	case KindFloat64:
		out := make([]float32, v.n)
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(v.raw[8*i:])))
		}
		return out, true
	}
	return nil, false
}

// Float64s returns a float32 or float64 array as float64s.
func (v Value) Float64s() ([]float64, bool) {
	if !v.valid || v.kind != KindArray {
		return nil, false
	}
	switch v.elem {
	case KindFloat32:
		out := make([]float64, v.n)
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(v.raw[4*i:])))
		}
		return out, true
	case KindFloat64:
		out := make([]float64, v.n)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(v.raw[8*i:]))
		}
		return out, true
	}
	return nil, false
}

// Bools returns an array of bools.
func (v Value) Bools() ([]bool, bool) {
	if !v.valid || v.kind != KindArray || v.elem != KindBool {
		return nil, false
	}
	out := make([]bool, v.n)
	for i := range out {
		out[i] = v.raw[i] != 0
	}
	return out, true
}

// Equal reports whether v and u have the same kind and contents (floats compare by their bits).
func (v Value) Equal(u Value) bool {
	if v.valid != u.valid || v.kind != u.kind || v.elem != u.elem || v.n != u.n || v.bits != u.bits || v.str != u.str {
		return false
	}
	if len(v.strs) != len(u.strs) || string(v.raw) != string(u.raw) {
		return false
	}
	for i := range v.strs {
		if v.strs[i] != u.strs[i] {
			return false
		}
	}
	return true
}

// scalarString formats a scalar number or bool.
func scalarString(k Kind, b uint64) string {
	switch k {
	case KindBool:
		return strconv.FormatBool(b != 0)
	case KindFloat32:
		return strconv.FormatFloat(float64(math.Float32frombits(uint32(b))), 'g', -1, 32)
	case KindFloat64:
		return strconv.FormatFloat(math.Float64frombits(b), 'g', -1, 64)
	}
	if k.signed() {
		return strconv.FormatInt(int64(b), 10)
	}
	return strconv.FormatUint(b, 10)
}

// String formats the value for display: numbers as Go formats them, strings quoted (and shortened past 64
// bytes), arrays as their first elements and length ("[]string{"a", "b", ... 128256 items}").
func (v Value) String() string {
	if !v.valid {
		return "<invalid>"
	}
	switch v.kind {
	case KindString:
		return quoteShort(v.str)
	case KindArray:
	default:
		return scalarString(v.kind, v.bits)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "[]%s{", v.elem)
	const show = 8
	for i := 0; i < v.n && i < show; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		if v.elem == KindString {
			sb.WriteString(quoteShort(v.strs[i]))
			continue
		}
		sz := v.elem.size()
		var b uint64
		for j := sz - 1; j >= 0; j-- {
			b = b<<8 | uint64(v.raw[i*sz+j])
		}
		if v.elem.signed() { // sign-extend
			b = uint64(int64(b<<(64-8*sz)) >> (64 - 8*sz))
		}
		sb.WriteString(scalarString(v.elem, b))
	}
	if v.n > show {
		fmt.Fprintf(&sb, ", ... %d items", v.n)
	}
	sb.WriteByte('}')
	return sb.String()
}

func quoteShort(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return strconv.Quote(s)
}

// Scalar constructors.

func scalar(k Kind, b uint64) Value { return Value{valid: true, kind: k, elem: KindInvalid, bits: b} }

// Uint8 returns a uint8 Value.
func Uint8(x uint8) Value { return scalar(KindUint8, uint64(x)) }

// Int8 returns an int8 Value.
func Int8(x int8) Value { return scalar(KindInt8, uint64(int64(x))) }

// Uint16 returns a uint16 Value.
func Uint16(x uint16) Value { return scalar(KindUint16, uint64(x)) }

// Int16 returns an int16 Value.
func Int16(x int16) Value { return scalar(KindInt16, uint64(int64(x))) }

// Uint32 returns a uint32 Value.
func Uint32(x uint32) Value { return scalar(KindUint32, uint64(x)) }

// Int32 returns an int32 Value.
func Int32(x int32) Value { return scalar(KindInt32, uint64(int64(x))) }

// Uint64 returns a uint64 Value.
func Uint64(x uint64) Value { return scalar(KindUint64, x) }

// Int64 returns an int64 Value.
func Int64(x int64) Value { return scalar(KindInt64, uint64(x)) }

// Float32 returns a float32 Value.
func Float32(x float32) Value { return scalar(KindFloat32, uint64(math.Float32bits(x))) }

// Float64 returns a float64 Value.
func Float64(x float64) Value { return scalar(KindFloat64, math.Float64bits(x)) }

// Bool returns a bool Value.
func Bool(x bool) Value {
	var b uint64
	if x {
		b = 1
	}
	return scalar(KindBool, b)
}

// String returns a string Value.
func String(s string) Value { return Value{valid: true, kind: KindString, elem: KindInvalid, str: s} }

// Array constructors.

// Strings returns an array-of-strings Value holding a copy of s.
func Strings(s []string) Value {
	return Value{valid: true, kind: KindArray, elem: KindString, n: len(s), strs: append([]string(nil), s...)}
}

func numArray[T any](k Kind, s []T, put func(b []byte, x T)) Value {
	sz := k.size()
	raw := make([]byte, len(s)*sz)
	for i, x := range s {
		put(raw[i*sz:], x)
	}
	return Value{valid: true, kind: KindArray, elem: k, n: len(s), raw: raw}
}

// Uint8s returns an array-of-uint8 Value.
func Uint8s(s []uint8) Value {
	return numArray(KindUint8, s, func(b []byte, x uint8) { b[0] = x })
}

// Int8s returns an array-of-int8 Value.
func Int8s(s []int8) Value {
	return numArray(KindInt8, s, func(b []byte, x int8) { b[0] = byte(x) })
}

// Uint16s returns an array-of-uint16 Value.
func Uint16s(s []uint16) Value {
	return numArray(KindUint16, s, func(b []byte, x uint16) { binary.LittleEndian.PutUint16(b, x) })
}

// Int16s returns an array-of-int16 Value.
func Int16s(s []int16) Value {
	return numArray(KindInt16, s, func(b []byte, x int16) { binary.LittleEndian.PutUint16(b, uint16(x)) })
}

// Uint32s returns an array-of-uint32 Value.
func Uint32s(s []uint32) Value {
	return numArray(KindUint32, s, func(b []byte, x uint32) { binary.LittleEndian.PutUint32(b, x) })
}

// Int32s returns an array-of-int32 Value.
func Int32s(s []int32) Value {
	return numArray(KindInt32, s, func(b []byte, x int32) { binary.LittleEndian.PutUint32(b, uint32(x)) })
}

// Uint64s returns an array-of-uint64 Value.
func Uint64s(s []uint64) Value {
	return numArray(KindUint64, s, func(b []byte, x uint64) { binary.LittleEndian.PutUint64(b, x) })
}

// Int64s returns an array-of-int64 Value.
func Int64s(s []int64) Value {
	return numArray(KindInt64, s, func(b []byte, x int64) { binary.LittleEndian.PutUint64(b, uint64(x)) })
}

// Float32s returns an array-of-float32 Value.
func Float32s(s []float32) Value {
	return numArray(KindFloat32, s, func(b []byte, x float32) { binary.LittleEndian.PutUint32(b, math.Float32bits(x)) })
}

// Float64s returns an array-of-float64 Value.
func Float64s(s []float64) Value {
	return numArray(KindFloat64, s, func(b []byte, x float64) { binary.LittleEndian.PutUint64(b, math.Float64bits(x)) })
}

// Bools returns an array-of-bool Value.
func Bools(s []bool) Value {
	return numArray(KindBool, s, func(b []byte, x bool) {
		if x {
			b[0] = 1
		}
	})
}
