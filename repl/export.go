package repl

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
)

var exportKinds = []string{"generation", "probs", "tokens", "topk", "weights", "layers", "acts", "acts_summary", "lens", "attn", "hidden"}

// table is a result flattened for CSV and JSON: named columns of scalars.
type table struct {
	cols []string
	rows [][]any
}

func (t *table) add(vals ...any) { t.rows = append(t.rows, vals) }

// toTable flattens one of the results /export knows.
func toTable(v any) (*table, error) {
	switch r := v.(type) {
	case []inspect.TensorStats:
		t := &table{cols: []string{"name", "type", "rows", "cols", "neg", "zero", "pos", "invalid", "scale", "mag_min", "mag_mean", "mag_max",
			"mean", "std", "absmax", "row_sparsity_hist", "col_sparsity_hist", "latent_mean_abs", "latent_rel_err", "latent_sqnr_db", "latent_agree"}}
		for _, s := range r {
			la, le, ls, lg := math.NaN(), math.NaN(), math.NaN(), math.NaN()
			if s.Latent != nil {
				la, le, ls, lg = s.Latent.MeanAbs, s.Latent.RelErr, s.Latent.SQNR, s.Latent.Agree
			}
			t.add(s.Name, s.Type.String(), s.Rows, s.Cols, s.Neg, s.Zero, s.Pos, s.Invalid, s.Scale, s.MagMin, s.MagMean, s.MagMax,
				s.Mean, s.Std, s.AbsMax, joinCounts(s.RowSparsity.Counts), joinCounts(s.ColSparsity.Counts), la, le, ls, lg)
		}
		return t, nil
	case []inspect.LayerSummary:
		t := &table{cols: []string{"layer", "tensors", "params", "neg", "zero", "pos", "invalid", "zero_share", "latent_rel_err"}}
		for _, l := range r {
			t.add(l.Layer, l.Tensors, l.Params, l.Neg, l.Zero, l.Pos, l.Invalid, l.ZeroShare(), l.MeanRelErr)
		}
		return t, nil
	case []inspect.ActStats:
		t := &table{cols: []string{"site", "layer", "pos", "n", "mean", "std", "absmax", "p1", "p50", "p99", "sqnr_db", "outliers"}}
		for _, a := range r {
			t.add(a.Site, a.Layer, a.Pos, a.N, a.Mean, a.Std, a.AbsMax, a.P1, a.P50, a.P99, a.SQNR, joinInts32(a.Outliers))
		}
		return t, nil
	case []inspect.SiteSummary:
		t := &table{cols: []string{"site", "layer", "tokens", "mean_std", "mean_absmax", "max_absmax", "mean_sqnr_db", "min_sqnr_db", "top_outliers"}}
		for _, a := range r {
			t.add(a.Site, a.Layer, a.Tokens, a.MeanStd, a.MeanAbs, a.MaxAbs, a.MeanSQNR, a.MinSQNR, joinInts32(a.TopOutliers))
		}
		return t, nil
	case inspect.LogitStats:
		t := &table{cols: []string{"rank", "id", "text", "logit", "prob"}}
		for i, c := range r.Top {
			t.add(i+1, c.ID, c.Text, c.Logit, c.Prob)
		}
		return t, nil
	case []inspect.LogitStats:
		t := &table{cols: []string{"pos", "chosen", "prob", "entropy", "top"}}
		for _, l := range r {
			var top []string
			for _, c := range l.Top {
				top = append(top, fmt.Sprintf("%d:%.6g", c.ID, c.Prob))
			}
			t.add(l.Pos, l.Chosen, l.Prob, l.Entropy, strings.Join(top, " "))
		}
		return t, nil
	case []inspect.LensRow:
		t := &table{cols: []string{"layer", "entropy", "rank", "id", "text", "logit", "prob"}}
		for _, l := range r {
			for i, c := range l.Top {
				t.add(l.Layer, l.Entropy, i+1, c.ID, c.Text, c.Logit, c.Prob)
			}
		}
		return t, nil
	case [][]float32:
		t := &table{cols: []string{"query", "key", "weight"}}
		for i, row := range r {
			for j, w := range row {
				t.add(i, j, w)
			}
		}
		return t, nil
	case []map[string]any:
		t := &table{cols: []string{"index", "id", "text", "piece"}}
		for _, m := range r {
			t.add(m["index"], m["id"], m["text"], m["piece"])
		}
		return t, nil
	case map[string]any:
		t := &table{cols: []string{"index", "id", "text", "prob"}}
		toks, _ := r["tokens"].([]map[string]any)
		for i, m := range toks {
			t.add(i, m["id"], m["text"], m["prob"])
		}
		return t, nil
	}
	if t, ok := interveneTable(v); ok {
		return t, nil
	}
	return nil, fmt.Errorf("cannot export %T", v)
}

func joinCounts(c []int64) string {
	s := make([]string, len(c))
	for i, n := range c {
		s[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(s, " ")
}

func joinInts32(c []int) string {
	s := make([]string, len(c))
	for i, n := range c {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}

// jsonValue makes v encodable: NaN and infinities become null.
func jsonValue(v any) any {
	switch f := v.(type) {
	case float64:
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
	case float32:
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return nil
		}
	}
	return v
}

// writeJSON writes the table as an array of objects with the columns in order.
func (t *table) writeJSON(w io.Writer) error {
	var b strings.Builder
	b.WriteString("[\n")
	for i, row := range t.rows {
		b.WriteString("  {")
		for j, c := range t.cols {
			if j > 0 {
				b.WriteString(", ")
			}
			k, _ := json.Marshal(c)
			v, err := json.Marshal(jsonValue(row[j]))
			if err != nil {
				return err
			}
			b.Write(k)
			b.WriteString(": ")
			b.Write(v)
		}
		b.WriteString("}")
		if i < len(t.rows)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (t *table) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.cols); err != nil {
		return err
	}
	rec := make([]string, len(t.cols))
	for _, row := range t.rows {
		for j, v := range row {
			switch f := v.(type) {
			case float64:
				rec[j] = strconv.FormatFloat(f, 'g', -1, 64)
			case float32:
				rec[j] = strconv.FormatFloat(float64(f), 'g', -1, 32)
			case nil:
				rec[j] = ""
			default:
				rec[j] = fmt.Sprint(v)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func cmdExport(s *session, ctx context.Context, c *command, a call) error {
	if len(a.args) < 2 {
		return usagef(c, "/export needs what and a file (%s)", strings.Join(exportKinds, ", "))
	}
	kind := a.args[0]
	if kind == "hidden" {
		return s.exportHidden(ctx, c, a.args[1:])
	}
	if len(a.args) != 2 {
		return usagef(c, "/export %s needs one file", kind)
	}
	v, ok := s.results[kind]
	if !ok {
		if !contains(exportKinds, kind) {
			msg := fmt.Sprintf("unknown result %q", kind)
			if near := nearest(kind, exportKinds); near != "" {
				msg += "; did you mean " + near + "?"
			}
			return usagef(c, "%s", msg)
		}
		return fmt.Errorf("no %s result yet: %s first", kind, producer(kind))
	}
	t, err := toTable(v)
	if err != nil {
		return err
	}
	path := s.expand(a.args[1])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	switch {
	case strings.HasSuffix(path, ".csv"):
		err = t.writeCSV(f)
	default:
		err = t.writeJSON(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	s.p.println(s.st.ok.Render(fmt.Sprintf("wrote %d rows of %s to %s", len(t.rows), kind, path)))
	return nil
}

func producer(kind string) string {
	switch kind {
	case "generation":
		return "send a prompt"
	case "layers", "weights":
		return "run /weights"
	case "acts_summary":
		return "run /acts"
	}
	return "run /" + kind
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// exportHidden writes the last prompt's values at a site for every layer.
func (s *session) exportHidden(ctx context.Context, c *command, args []string) error {
	if s.model == nil {
		return errNoModel
	}
	if len(args) != 2 {
		return usagef(c, "/export hidden SITE FILE (.safetensors, or a directory for .npy files)")
	}
	site, ok := model.ParseSite(args[0])
	if !ok {
		return usagef(c, "unknown site %q", args[0])
	}
	rec := &inspect.Recorder{Sites: []model.Site{}, Keep: []model.Site{site}}
	if _, err := s.record(ctx, rec); err != nil {
		return err
	}
	path := s.expand(args[1])
	if err := rec.ExportHiddenStates(site, path); err != nil {
		return err
	}
	s.p.println(s.st.ok.Render(fmt.Sprintf("wrote %s of %d positions to %s", site, len(s.lastIDs), path)))
	return nil
}
