package inspect_test

import (
	"fmt"
	"math"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/embedded"
)

// Zero-ablate head 2 of layer 1 at every position and compare the logits;
// then split a logit into the parts of the residual stream.
func ExampleHooks() {
	m, err := model.LoadBytes(embedded.GGUF(), "builtin")
	if err != nil {
		panic(err)
	}
	ids := m.Tokenizer.Encode("Once upon a time, there was a little girl", true)
	plain, _ := inspect.RunEdited(m, ids, nil)
	h := &inspect.Hooks{Config: &m.Config, Interventions: []inspect.Intervention{{
		Site: model.SiteAttnSubNorm, Layer: 1, Pos: inspect.AllPositions, Head: 2, Apply: inspect.Zero,
	}}}
	ablated, _ := inspect.RunEdited(m, ids, h)
	last := len(ids) - 1
	e := inspect.Compare(plain[last:], ablated[last:])
	fmt.Println("the ablation changed the last logits:", e.MaxDelta > 0)

	a, _ := inspect.DirectLogitAttribution(m, ids, last, 11, nil)
	fmt.Printf("%d parts (embed, %d layers x (%d heads + FFN)) sum to the logit: %v\n",
		len(a.Parts), m.Config.Layers, m.Config.Heads, math.Abs(a.Sum()-a.Logit) < 1e-4)
	// Output:
	// the ablation changed the last logits: true
	// 31 parts (embed, 6 layers x (4 heads + FFN)) sum to the logit: true
}
