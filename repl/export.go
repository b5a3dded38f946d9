package repl

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/atomicfile"
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
				s.Mean, s.Std, s.AbsMax, s.RowSparsity.Counts, s.ColSparsity.Counts, la, le, ls, lg)
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
			t.add(a.Site, a.Layer, a.Pos, a.N, a.Mean, a.Std, a.AbsMax, a.P1, a.P50, a.P99, a.SQNR, a.Outliers)
		}
		return t, nil
	case []inspect.SiteSummary:
		t := &table{cols: []string{"site", "layer", "tokens", "mean_std", "mean_absmax", "max_absmax", "mean_sqnr_db", "min_sqnr_db", "top_outliers"}}
		for _, a := range r {
			t.add(a.Site, a.Layer, a.Tokens, a.MeanStd, a.MeanAbs, a.MaxAbs, a.MeanSQNR, a.MinSQNR, a.TopOutliers)
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
			top := make([]alternative, len(l.Top))
			for i, c := range l.Top {
				top[i] = alternative{ID: c.ID, Prob: float64(c.Prob)}
			}
			t.add(l.Pos, l.Chosen, l.Prob, l.Entropy, top)
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

// alternative is one of the most likely tokens at a position: in JSON an
// object {"id", "prob"}, in CSV "id:prob".
type alternative struct {
	ID   int32   `json:"id"`
	Prob float64 `json:"prob"`
}

// csvCell writes a cell for CSV: numbers in full precision, lists space-separated.
func csvCell(v any) string {
	switch f := v.(type) {
	case float64:
		return strconv.FormatFloat(f, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(f), 'g', -1, 32)
	case nil:
		return ""
	case []int64:
		return joinList(f, func(n int64) string { return strconv.FormatInt(n, 10) })
	case []int:
		return joinList(f, strconv.Itoa)
	case []alternative:
		return joinList(f, func(a alternative) string { return fmt.Sprintf("%d:%.6g", a.ID, a.Prob) })
	}
	return fmt.Sprint(v)
}

func joinList[T any](list []T, format func(T) string) string {
	s := make([]string, len(list))
	for i, x := range list {
		s[i] = format(x)
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
			rec[j] = csvCell(v)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// tableFormats are the file extensions /export writes a result as.
var tableFormats = []string{".json", ".csv"}

// formatOf returns the extension of path if it is one of formats, else an
// error that lists them.
func formatOf(path, what string, formats []string) (string, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if slices.Contains(formats, ext) {
		return ext, nil
	}
	msg := fmt.Sprintf("%s: %s is written as %s", path, what, strings.Join(formats, " or "))
	if ext == "" {
		return "", errors.New(msg + ": give the file one of these extensions")
	}
	return "", fmt.Errorf("%s, not %s", msg, ext)
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
	if !contains(exportKinds, kind) {
		msg := fmt.Sprintf("unknown result %q", kind)
		if near := nearest(kind, exportKinds); near != "" {
			msg += "; did you mean " + near + "?"
		}
		return usagef(c, "%s", msg)
	}
	path := s.expand(a.args[1])
	ext, err := formatOf(path, kind, tableFormats)
	if err != nil {
		return err
	}
	v, ok := s.results[kind]
	if !ok {
		return fmt.Errorf("no %s result yet: %s first", kind, producer(kind))
	}
	t, err := toTable(v)
	if err != nil {
		return err
	}
	write := t.writeJSON
	if ext == ".csv" {
		write = t.writeCSV
	}
	if err := atomicfile.Write(path, write); err != nil {
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
		return usagef(c, "/export hidden SITE FILE (.safetensors or .npy)")
	}
	if _, err := formatOf(s.expand(args[1]), "hidden states", inspect.HiddenFormats); err != nil {
		return err
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
