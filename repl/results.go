package repl

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
)

// The results commands compute are typed structs, encoded once with
// encoding/json (--json, /export FILE.json) or flattened to rows of the same
// structs for CSV: the column names are the JSON field names.

// num is a float that encodes NaN and infinities as JSON null (JSON has
// neither); CSV writes them as NaN, +Inf, -Inf.
type num float64

func (f num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

// num32 is num for float32 values, written with float32's shortest digits.
type num32 float32

func (f num32) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float32(f))
}

// floatRow is a row of floats (logits): a JSON array with null for NaN and
// infinities, written without a method call per value (a row has a whole
// vocabulary).
type floatRow []float32

func (r floatRow) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 12*len(r)+2)
	b = append(b, '[')
	for i, v := range r {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
	}
	return append(b, ']'), nil
}

// alternative is one of the most likely tokens at a position: in JSON an
// object {"id", "prob"}, in CSV "id:prob".
type alternative struct {
	ID   int32 `json:"id"`
	Prob num   `json:"prob"`
}

// weightsResult is what /weights and bitrepl inspect compute: the statistics
// of the tensors matching Pattern (every tensor when it is empty) and their
// sums per layer.
type weightsResult struct {
	Model   string         `json:"model"`
	Pattern string         `json:"pattern,omitempty"`
	Config  model.Resolved `json:"config"` // the configuration the model runs with
	Tensors []tensorRow    `json:"tensors"`
	Layers  []layerRow     `json:"layers"`

	stats  []inspect.TensorStats // what the text shows
	layers []inspect.LayerSummary
}

func newWeightsResult(m *model.Model, spec, pattern string, ws []inspect.TensorStats) *weightsResult {
	layers := inspect.Layers(ws)
	return &weightsResult{Model: spec, Pattern: pattern, Config: m.Resolved(), Tensors: mapRows(ws, newTensorRow), Layers: mapRows(layers, newLayerRow), stats: ws, layers: layers}
}

type tensorRow struct {
	Name            string  `json:"name"`
	Type            string  `json:"type"`
	Rows            int     `json:"rows"`
	Cols            int     `json:"cols"`
	Neg             int64   `json:"neg"`
	Zero            int64   `json:"zero"`
	Pos             int64   `json:"pos"`
	Invalid         int64   `json:"invalid"`
	Scale           num32   `json:"scale"`
	MagMin          num     `json:"mag_min"`
	MagMean         num     `json:"mag_mean"`
	MagMax          num     `json:"mag_max"`
	Mean            num     `json:"mean"`
	Std             num     `json:"std"`
	AbsMax          num     `json:"absmax"`
	RowSparsityHist []int64 `json:"row_sparsity_hist"`
	ColSparsityHist []int64 `json:"col_sparsity_hist"`
	LatentMeanAbs   num     `json:"latent_mean_abs"` // NaN (null) without latent weights
	LatentRelErr    num     `json:"latent_rel_err"`
	LatentSQNR      num     `json:"latent_sqnr_db"`
	LatentAgree     num     `json:"latent_agree"`
}

func newTensorRow(s inspect.TensorStats) tensorRow {
	r := tensorRow{Name: s.Name, Type: s.Type.String(), Rows: s.Rows, Cols: s.Cols, Neg: s.Neg, Zero: s.Zero, Pos: s.Pos, Invalid: s.Invalid,
		Scale: num32(s.Scale), MagMin: num(s.MagMin), MagMean: num(s.MagMean), MagMax: num(s.MagMax), Mean: num(s.Mean), Std: num(s.Std), AbsMax: num(s.AbsMax),
		RowSparsityHist: s.RowSparsity.Counts, ColSparsityHist: s.ColSparsity.Counts,
		LatentMeanAbs: num(math.NaN()), LatentRelErr: num(math.NaN()), LatentSQNR: num(math.NaN()), LatentAgree: num(math.NaN())}
	if l := s.Latent; l != nil {
		r.LatentMeanAbs, r.LatentRelErr, r.LatentSQNR, r.LatentAgree = num(l.MeanAbs), num(l.RelErr), num(l.SQNR), num(l.Agree)
	}
	return r
}

type layerRow struct {
	Layer        int   `json:"layer"` // -1 for the tensors outside the blocks
	Tensors      int   `json:"tensors"`
	Params       int64 `json:"params"`
	Neg          int64 `json:"neg"`
	Zero         int64 `json:"zero"`
	Pos          int64 `json:"pos"`
	Invalid      int64 `json:"invalid"`
	ZeroShare    num   `json:"zero_share"`
	LatentRelErr num   `json:"latent_rel_err"`
}

func newLayerRow(l inspect.LayerSummary) layerRow {
	return layerRow{l.Layer, l.Tensors, l.Params, l.Neg, l.Zero, l.Pos, l.Invalid, num(l.ZeroShare()), num(l.MeanRelErr)}
}

type actRow struct {
	Site     string `json:"site"`
	Layer    int    `json:"layer"`
	Pos      int    `json:"pos"`
	N        int    `json:"n"`
	Mean     num    `json:"mean"`
	Std      num    `json:"std"`
	AbsMax   num    `json:"absmax"`
	P1       num    `json:"p1"`
	P50      num    `json:"p50"`
	P99      num    `json:"p99"`
	SQNR     num    `json:"sqnr_db"`
	Outliers []int  `json:"outliers"`
}

type siteRow struct {
	Site        string `json:"site"`
	Layer       int    `json:"layer"`
	Tokens      int    `json:"tokens"`
	MeanStd     num    `json:"mean_std"`
	MeanAbsMax  num    `json:"mean_absmax"`
	MaxAbsMax   num    `json:"max_absmax"`
	MeanSQNR    num    `json:"mean_sqnr_db"`
	MinSQNR     num    `json:"min_sqnr_db"`
	TopOutliers []int  `json:"top_outliers"`
}

// candidateRow is one of the most likely next tokens (/topk, and per layer /lens).
type candidateRow struct {
	Layer   *int   `json:"layer,omitempty"` // /lens only
	Entropy *num   `json:"entropy,omitempty"`
	Rank    int    `json:"rank"`
	ID      int32  `json:"id"`
	Text    string `json:"text"`
	Logit   num32  `json:"logit"`
	Prob    num    `json:"prob"`
}

type probsRow struct {
	Pos     int           `json:"pos"`
	Chosen  int32         `json:"chosen"`
	Prob    num           `json:"prob"`
	Entropy num           `json:"entropy"`
	Top     []alternative `json:"top"`
}

type attnRow struct {
	Query  int   `json:"query"`
	Key    int   `json:"key"`
	Weight num32 `json:"weight"`
}

// tokenRow is one token of /tokens.
type tokenRow struct {
	Index int    `json:"index"`
	ID    int32  `json:"id"`
	Text  string `json:"text"`
	Piece string `json:"piece"`
}

// generationResult is the last generation: bitrepl run --json and /export generation.
type generationResult struct {
	PromptTokens  int        `json:"prompt_tokens"`
	Generated     int        `json:"generated"`
	TTFTms        int64      `json:"ttft_ms"`
	TokPerS       num        `json:"tok_per_s"`
	PromptTokPerS num        `json:"prompt_tok_per_s"`
	Stop          string     `json:"stop"`
	Text          string     `json:"text"`
	Tokens        []genToken `json:"tokens"`
}

type genToken struct {
	Index int    `json:"index"`
	ID    int32  `json:"id"`
	Text  string `json:"text"`
	Prob  num32  `json:"prob"`
}

// tokenizeResult is bitrepl tokenize --json.
type tokenizeResult struct {
	IDs    []int32  `json:"ids"`
	Tokens []string `json:"tokens"`
}

// logitsResult is what bitrepl logits prints and /assert logits reads (as
// logitsFile).
type logitsResult struct {
	Model  string     `json:"model,omitempty"`
	IDs    []int32    `json:"ids"`
	Logits []floatRow `json:"logits"` // (len(ids), vocab): the logits after each token
}

type headRow struct {
	Layer     int `json:"layer"`
	Head      int `json:"head"`
	PrevToken num `json:"previous_token"`
	Induction num `json:"induction"`
}

type partRow struct {
	Part  string `json:"part"`
	Kind  string `json:"kind"`
	Layer int    `json:"layer"`
	Head  int    `json:"head"`
	Value num    `json:"value"`
	Token int32  `json:"token"`
	Pos   int    `json:"pos"`
	Logit num    `json:"logit"`
	Scale num    `json:"scale"`
}

type patchRow struct {
	Site     string `json:"site"`
	Layer    int    `json:"layer"`
	Head     int    `json:"head"`
	Pos      int    `json:"pos"`
	Restored num    `json:"restored"`
	Clean    num    `json:"clean"`
	Corrupt  num    `json:"corrupt"`
}

type sensitivityRow struct {
	Row      int `json:"row"`
	Col      int `json:"col"`
	KL       num `json:"kl"`
	MaxDelta num `json:"max_delta"`
}

func mapRows[T, R any](in []T, f func(T) R) []R {
	out := make([]R, len(in))
	for i, x := range in {
		out[i] = f(x)
	}
	return out
}

// exportForms returns a result as rows (a slice of structs, for CSV) and as
// the document its JSON is: the rows, or for the results that are more than
// a table (weights, generation) the same value --json prints.
func exportForms(v any) (rows, doc any, err error) {
	switch r := v.(type) {
	case *weightsResult:
		return r.Tensors, r, nil
	case *generationResult:
		return r.Tokens, r, nil
	case []inspect.LayerSummary:
		rows = mapRows(r, newLayerRow)
	case []inspect.ActStats:
		rows = mapRows(r, func(a inspect.ActStats) actRow {
			return actRow{a.Site, a.Layer, a.Pos, a.N, num(a.Mean), num(a.Std), num(a.AbsMax), num(a.P1), num(a.P50), num(a.P99), num(a.SQNR), a.Outliers}
		})
	case []inspect.SiteSummary:
		rows = mapRows(r, func(a inspect.SiteSummary) siteRow {
			return siteRow{a.Site, a.Layer, a.Tokens, num(a.MeanStd), num(a.MeanAbs), num(a.MaxAbs), num(a.MeanSQNR), num(a.MinSQNR), a.TopOutliers}
		})
	case inspect.LogitStats:
		var cs []candidateRow
		for i, c := range r.Top {
			cs = append(cs, candidateRow{Rank: i + 1, ID: c.ID, Text: c.Text, Logit: num32(c.Logit), Prob: num(c.Prob)})
		}
		rows = cs
	case []inspect.LogitStats:
		rows = mapRows(r, func(l inspect.LogitStats) probsRow {
			return probsRow{l.Pos, l.Chosen, num(l.Prob), num(l.Entropy), mapRows(l.Top, func(c inspect.TokenProb) alternative { return alternative{c.ID, num(c.Prob)} })}
		})
	case []inspect.LensRow:
		var cs []candidateRow
		for _, l := range r {
			for i, c := range l.Top {
				layer, h := l.Layer, num(l.Entropy)
				cs = append(cs, candidateRow{Layer: &layer, Entropy: &h, Rank: i + 1, ID: c.ID, Text: c.Text, Logit: num32(c.Logit), Prob: num(c.Prob)})
			}
		}
		rows = cs
	case [][]float32:
		var as []attnRow
		for i, row := range r {
			for j, w := range row {
				as = append(as, attnRow{i, j, num32(w)})
			}
		}
		rows = as
	case []tokenRow:
		rows = r
	case []inspect.HeadScore:
		rows = mapRows(r, func(h inspect.HeadScore) headRow { return headRow{h.Layer, h.Head, num(h.PrevToken), num(h.Induction)} })
	case *inspect.Attribution:
		rows = mapRows(r.Parts, func(p inspect.Part) partRow {
			return partRow{p.Name(), p.Kind, p.Layer, p.Head, num(p.Value), r.Token, r.Pos, num(r.Logit), num(r.Scale)}
		})
	case *inspect.PatchResult:
		var ps []patchRow
		for _, row := range r.Rows {
			for p := range r.Positions {
				for h := range row.Heads {
					head := -1
					if row.Heads > 1 {
						head = h
					}
					ps = append(ps, patchRow{row.Site.String(), row.Layer, head, p, num(row.Restored[p*row.Heads+h]), num(r.Clean), num(r.Corrupt)})
				}
			}
		}
		rows = ps
	case []inspect.Sensitivity:
		rows = mapRows(r, func(x inspect.Sensitivity) sensitivityRow {
			return sensitivityRow{x.Row, x.Col, num(x.KL), num(x.MaxDelta)}
		})
	default:
		return nil, nil, fmt.Errorf("cannot export %T", v)
	}
	return rows, rows, nil
}

// writeCSV writes rows (a slice of structs) with the JSON field names as the
// header.
func writeCSV(w io.Writer, rows any) error {
	rv := reflect.ValueOf(rows)
	rt := rv.Type().Elem()
	var cols []string
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		cols = append(cols, name)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return err
	}
	rec := make([]string, len(cols))
	for i := range rv.Len() {
		row := rv.Index(i)
		for j := range rec {
			rec[j] = csvCell(row.Field(j).Interface())
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvCell writes a cell for CSV: numbers in full precision, lists space-separated.
func csvCell(v any) string {
	switch f := v.(type) {
	case num:
		return strconv.FormatFloat(float64(f), 'g', -1, 64)
	case num32:
		return strconv.FormatFloat(float64(f), 'g', -1, 32)
	case *num:
		if f == nil {
			return ""
		}
		return csvCell(*f)
	case *int:
		if f == nil {
			return ""
		}
		return strconv.Itoa(*f)
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
