package model

import (
	"context"
	"fmt"
	"math"
)

// PerplexityResult is the outcome of scoring a text.
type PerplexityResult struct {
	Tokens int     // predictions scored
	NLL    float64 // mean negative log-likelihood per token, in nats
}

// PPL is the perplexity exp(NLL).
func (r PerplexityResult) PPL() float64 { return math.Exp(r.NLL) }

// Perplexity scores text: it is tokenized (with BOS when the tokenizer adds
// one) and cut into windows of ctxLen tokens (the model's context when <= 0),
// each evaluated from an empty cache; every prediction after a window's first
// token is scored.
func (m *Model) Perplexity(ctx context.Context, text string, ctxLen int) (PerplexityResult, error) {
	var r PerplexityResult
	if m.Tokenizer == nil {
		return r, fmt.Errorf("perplexity: the model has no tokenizer")
	}
	return m.PerplexityTokens(ctx, m.Tokenizer.Encode(text, true), ctxLen)
}

// PerplexityTokens scores a token sequence like Perplexity.
func (m *Model) PerplexityTokens(ctx context.Context, ids []int32, ctxLen int) (PerplexityResult, error) {
	var r PerplexityResult
	if len(ids) < 2 {
		return r, fmt.Errorf("perplexity: need at least 2 tokens, got %d", len(ids))
	}
	s := m.NewSession(ctxLen)
	win := s.ContextLen()
	var sum float64
	for startTok := 0; startTok+1 < len(ids); startTok += win {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		chunk := ids[startTok:min(startTok+win, len(ids))]
		if len(chunk) < 2 {
			break
		}
		s.Reset()
		err := s.ForwardEach(chunk[:len(chunk)-1], func(i int, logits []float32) {
			sum += -logSoftmaxAt(logits, chunk[i+1])
			r.Tokens++
		})
		if err != nil {
			return r, err
		}
	}
	r.NLL = sum / float64(r.Tokens)
	return r, nil
}

// logSoftmaxAt is log softmax(logits)[id], computed in float64.
func logSoftmaxAt(logits []float32, id int32) float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	return float64(logits[id]) - mx - math.Log(sum)
}
