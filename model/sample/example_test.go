package sample_test

import (
	"fmt"

	"github.com/bitrepl/bitrepl/model/sample"
)

func Example() {
	logits := []float32{0.5, 2.5, 2.5, -1} // tokens 1 and 2 tie

	greedy := sample.New(len(logits), sample.Params{})
	fmt.Println(greedy.Sample(logits, nil)) // ties go to the lowest id

	// A repeat penalty of 2 halves token 1's logit: token 2 wins.
	penalised := sample.New(len(logits), sample.Params{RepeatPenalty: 2, RepeatLastN: 64})
	fmt.Println(penalised.Sample(logits, []int32{1}))

	// Top-k 1 keeps only the best token whatever the temperature.
	p := sample.DefaultParams()
	p.TopK, p.Seed = 1, 42
	fmt.Println(sample.New(len(logits), p).Sample(logits, nil))
	// Output:
	// 1
	// 2
	// 1
}
