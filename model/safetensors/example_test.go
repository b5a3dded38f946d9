package safetensors_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/bitrepl/bitrepl/model/safetensors"
)

func Example() {
	data := make([]byte, 8)
	for i, v := range []float32{1.5, -2} {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	var buf bytes.Buffer
	err := safetensors.Write(&buf, []safetensors.Tensor{
		{Name: "layer.weight", DType: safetensors.F32, Shape: []int64{1, 2}, Data: data},
		{Name: "layer.bias", DType: safetensors.BF16, Shape: []int64{1}, Data: []byte{0x80, 0x3f}}, // 1.0
	}, map[string]string{"format": "pt"})
	if err != nil {
		fmt.Println(err)
		return
	}

	f, err := safetensors.Parse(buf.Bytes(), "example.safetensors")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range f.Names() {
		t, _ := f.Tensor(name)
		v, _ := t.Float32s()
		fmt.Println(name, t.DType, t.Shape, v)
	}
	fmt.Println(f.Metadata())
	// Output:
	// layer.bias BF16 [1] [1]
	// layer.weight F32 [1 2] [1.5 -2]
	// map[format:pt]
}
