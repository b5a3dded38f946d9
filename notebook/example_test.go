package notebook_test

import (
	"fmt"

	"github.com/bitrepl/bitrepl/notebook"
)

// A figure's SVG works without a notebook; Display sends its PNG when the
// program runs under GoNB.
func ExampleBars() {
	fig, err := notebook.Bars("file size", "MiB", []string{"TQ1_0", "TQ2_0", "I2_S"}, []float64{3.1, 3.3, 3.3})
	if err != nil {
		panic(err)
	}
	w, h := fig.Size()
	fmt.Printf("%.0f×%.0f points, SVG: %t\n", w.Points(), h.Points(), len(fig.SVG()) > 0)
	fig.Display()
	// Output: 360×288 points, SVG: true
}

// Probabilities fall into five colour buckets, most likely first.
func ExampleBucketOf() {
	for _, p := range []float64{0.93, 0.6, 0.3, 0.1, 0.01} {
		b := notebook.ProbBuckets[notebook.BucketOf(p)]
		fmt.Println(p, b.Label, b.Background)
	}
	// Output:
	// 0.93 ≥ 80% #1A9850
	// 0.6 50–80% #91CF60
	// 0.3 20–50% #FEE08B
	// 0.1 5–20% #FC8D59
	// 0.01 < 5% #D73027
}
