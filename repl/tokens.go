package repl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// visible shows whitespace and control characters of a token's text.
func visible(s string) string {
	r := strings.NewReplacer("\n", "↵", "\t", "⇥", "\r", "␍")
	return r.Replace(s)
}

func cmdTokens(s *session, _ context.Context, c *command, a call) error {
	if a.rest == "" {
		return usagef(c, "/tokens needs a text")
	}
	tok, err := s.tokenizer()
	if err != nil {
		return err
	}
	text := unquoteLoose(a.rest)
	ids := tok.Encode(text, false)
	var b strings.Builder
	var split []string
	for i, g := range tokenGroups(tok, ids, s.tokenText) {
		b.WriteString(s.st.token(i, visible(g.text)))
		if g.n > 1 {
			split = append(split, fmt.Sprintf("%s %d", g.text, g.n))
		}
	}
	s.p.println(b.String())
	s.p.println(s.st.dim.Render(plural(len(ids), "token")+": ") + joinInts(ids))
	if len(split) > 0 {
		s.p.println(s.st.dim.Render("characters made of several byte tokens are shown whole: " + strings.Join(split, ", ")))
	}
	rows := make([]tokenRow, len(ids))
	for i, id := range ids {
		rows[i] = tokenRow{Index: i, ID: id, Text: s.tokenText(id), Piece: tok.Token(id)}
	}
	if s.results == nil {
		s.results = map[string]any{}
	}
	s.results["tokens"] = rows
	return nil
}

// tokenGroup is what the tokenization view shows as one token: usually one
// token, or the n byte tokens that together make whole characters.
type tokenGroup struct {
	text string
	n    int
}

// tokenGroups groups ids so that every group decodes to whole UTF-8 characters
// ("é" rather than the byte-level "Ã" and "©"); text shows a single token.
func tokenGroups(tok *tokenizer.Tokenizer, ids []int32, text func(int32) string) []tokenGroup {
	var gs []tokenGroup
	for i := 0; i < len(ids); {
		g := tokenGroup{text: text(ids[i]), n: 1}
		if !tok.IsSpecial(ids[i]) && strings.ContainsRune(tok.Decode(ids[i:i+1], false), utf8.RuneError) {
			// a character has at most 4 bytes, so at most 4 byte tokens
			for j := i + 2; j <= min(i+utf8.UTFMax, len(ids)); j++ {
				if d := tok.Decode(ids[i:j], false); !strings.ContainsRune(d, utf8.RuneError) {
					g = tokenGroup{text: d, n: j - i}
					break
				}
			}
		}
		gs = append(gs, g)
		i += g.n
	}
	return gs
}

// parseIDs reads token ids separated by commas, spaces or brackets.
func parseIDs(s string) ([]int32, error) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '[' || r == ']' || r == '\n' || r == '\t' })
	ids := make([]int32, 0, len(f))
	for _, w := range f {
		n, err := strconv.ParseInt(w, 10, 32)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a token id", w)
		}
		ids = append(ids, int32(n))
	}
	return ids, nil
}

// cmdTopK shows the most likely next tokens after a text (or after the last prompt).
func cmdTopK(s *session, ctx context.Context, c *command, a call) error {
	k := 10
	text := a.rest
	if len(a.args) > 0 {
		if n, err := strconv.Atoi(a.args[0]); err == nil {
			if n < 1 || n > 1000 {
				return usagef(c, "k must be in [1, 1000]")
			}
			k = n
			_, text, _ = strings.Cut(a.rest, " ")
			text = strings.TrimSpace(text)
		}
	}
	var ids []int32
	if text != "" {
		if s.model.Tokenizer == nil {
			return errors.New("the model has no tokenizer")
		}
		ids = s.model.Tokenizer.Encode(unquoteLoose(text), true)
	} else {
		ids = s.lastIDs
		if len(ids) == 0 {
			return usagef(c, "no prompt yet: give a text")
		}
	}
	sess := s.newSession(min(len(ids)+1, s.model.Config.ContextLen))
	logits, err := sess.Forward(ids)
	if err != nil {
		return err
	}
	st := inspect.Logits(len(ids)-1, logits, k, -1, s.tokenText)
	s.results["topk"] = st
	s.p.println(s.st.dim.Render(fmt.Sprintf("next token after %s · entropy %.3f nats", plural(len(ids), "token"), st.Entropy)))
	s.printTop(st.Top)
	return nil
}

// printTop prints candidates with probability bars.
func (s *session) printTop(top []inspect.TokenProb) {
	for i, t := range top {
		s.p.printf("%3d %s %s %s %s\n", i+1,
			s.st.key.Render(fmt.Sprintf("%7d", t.ID)),
			s.st.prob(t.Prob, fmt.Sprintf("%-18s", strconv.Quote(t.Text))),
			s.st.bar.Render(bar(t.Prob, 30)),
			fmt.Sprintf("%6.2f%%", 100*t.Prob))
	}
}
