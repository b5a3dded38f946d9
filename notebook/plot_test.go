package notebook

import (
	"slices"
	"testing"

	"gonum.org/v1/plot"
)

func labels(ts []plot.Tick) []string {
	var out []string
	for _, t := range ts {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

func TestTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   []string
	}{{0, 5, []string{"0", "1", "2", "3", "4", "5"}}, {0, 29, []string{"0", "5", "10", "15", "20", "25"}}, {-0.2, 2.2, []string{"0", "1", "2"}}} {
		if got := labels((integerTicks{}).Ticks(c.lo, c.hi)); !slices.Equal(got, c.want) {
			t.Errorf("integerTicks(%v, %v) = %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
	got := powerTicks{}.Ticks(0.05, 3e6)
	if l := labels(got); !slices.Equal(l, []string{"0.1", "1", "10", "100", "1k", "10k", "100k", "1M"}) {
		t.Errorf("powerTicks labels %v", l)
	}
	if len(got) != 8+8*7+5+2 { // 8 powers, 8 per decade between them, 5 above 0.05 (0.05..0.09), 2 above 1e6
		t.Errorf("%d ticks", len(got))
	}
	if (powerTicks{}).Ticks(0, 10) != nil {
		t.Error("ticks for a log axis from 0")
	}
}
