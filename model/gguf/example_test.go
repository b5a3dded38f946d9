package gguf_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/bitrepl/bitrepl/model/gguf"
)

func Example() {
	// Write a tiny file: two metadata keys and one 2x2 F32 tensor.
	w := gguf.NewWriter()
	w.Set("general.architecture", gguf.String("bitnet"))
	w.Set("bitnet.block_count", gguf.Uint32(30))
	data := []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40} // 1, 2, 3, 4
	if err := w.AddTensor("output_norm.weight", gguf.F32, []uint64{2, 2}, data); err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		log.Fatal(err)
	}

	// Read it back (gguf.Open does the same from a memory-mapped file).
	f, err := gguf.Parse(buf.Bytes(), "tiny.gguf")
	if err != nil {
		log.Fatal(err)
	}
	arch, _ := f.String("general.architecture")
	layers, _ := f.Uint(arch + ".block_count")
	fmt.Println(arch, layers)
	for _, kv := range f.KV {
		fmt.Printf("%s %s = %v\n", kv.Key, kv.Value.Kind(), kv.Value)
	}
	t, _ := f.Tensor("output_norm.weight")
	fmt.Println(t.Name, t.Type, t.Dims, t.Size, len(f.TensorData(t)))
	// Output:
	// bitnet 30
	// general.architecture string = "bitnet"
	// bitnet.block_count uint32 = 30
	// output_norm.weight F32 [2 2] 16 16
}

func ExampleTensorBytes() {
	// The BitNet fork's I2_S: 2 bits per weight plus a 32-byte trailer holding the f32 scale.
	n, _ := gguf.TensorBytes(gguf.I2_S, []uint64{2560, 6912})
	fmt.Println(n)
	n, _ = gguf.TensorBytes(gguf.TQ2_0, []uint64{2560, 6912})
	fmt.Println(n)
	_, err := gguf.TensorBytes(gguf.Q8_0, []uint64{100})
	fmt.Println(err)
	// Output:
	// 4423712
	// 4561920
	// row of 100 elements is not a multiple of the Q8_0 block size 32
}
