package model

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// ChatTemplate is a way of laying a conversation out as tokens. Without the
// template a model was trained with, it does not end its turn with EOS and
// goes on to play both roles.
type ChatTemplate uint8

const (
	// ChatPlain is for base models: "User: ...\nAssistant: ..." lines.
	ChatPlain ChatTemplate = iota
	// ChatBitNet is bitnet-b1.58-2B-4T's format:
	// <|begin_of_text|>System: ...<|eot_id|>User: ...<|eot_id|>Assistant: ...<|eot_id|>
	ChatBitNet
	// ChatLlama3 is LLaMA-3's header format.
	ChatLlama3
)

func (t ChatTemplate) String() string {
	switch t {
	case ChatBitNet:
		return "bitnet"
	case ChatLlama3:
		return "llama3"
	}
	return "plain"
}

// ParseChatTemplate finds a template by name.
func ParseChatTemplate(name string) (ChatTemplate, error) {
	for _, t := range []ChatTemplate{ChatPlain, ChatBitNet, ChatLlama3} {
		if t.String() == name {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown chat template %q (plain, bitnet, llama3)", name)
}

// chatTemplateFor picks the template from the file's Jinja template when it
// has one, else from the architecture and the special tokens in the vocab.
func chatTemplateFor(arch, jinja string, tok *tokenizer.Tokenizer) ChatTemplate {
	switch {
	case strings.Contains(jinja, "<|start_header_id|>"):
		return ChatLlama3
	case strings.Contains(jinja, "Assistant: ") && strings.Contains(jinja, "<|eot_id|>"):
		return ChatBitNet
	case tok == nil:
		return ChatPlain
	}
	_, eot := tok.ID("<|eot_id|>")
	_, bot := tok.ID("<|begin_of_text|>")
	if eot && bot && (arch == "bitnet-b1.58" || arch == "bitnet-25" || jinja == "") {
		return ChatBitNet
	}
	return ChatPlain
}

// FormatChat lays msgs out in the model's chat template and tokenizes them,
// ending with the assistant's turn opened when open is true.
func (m *Model) FormatChat(msgs []Message, open bool) ([]int32, error) {
	if m.Tokenizer == nil {
		return nil, fmt.Errorf("chat: the model has no tokenizer")
	}
	var b strings.Builder
	title := map[string]string{"system": "System", "user": "User", "assistant": "Assistant"}
	for _, msg := range msgs {
		if _, ok := title[msg.Role]; !ok {
			return nil, fmt.Errorf("chat: unknown role %q (system, user, assistant)", msg.Role)
		}
	}
	switch m.Chat {
	case ChatBitNet:
		b.WriteString("<|begin_of_text|>")
		for _, msg := range msgs {
			fmt.Fprintf(&b, "%s: %s<|eot_id|>", title[msg.Role], strings.TrimSpace(msg.Content))
		}
		if open {
			b.WriteString("Assistant: ")
		}
		return m.Tokenizer.Encode(b.String(), false), nil
	case ChatLlama3:
		b.WriteString("<|begin_of_text|>")
		for _, msg := range msgs {
			fmt.Fprintf(&b, "<|start_header_id|>%s<|end_header_id|>\n\n%s<|eot_id|>", msg.Role, strings.TrimSpace(msg.Content))
		}
		if open {
			b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
		}
		return m.Tokenizer.Encode(b.String(), false), nil
	}
	for i, msg := range msgs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s: %s", title[msg.Role], strings.TrimSpace(msg.Content))
	}
	if open {
		if len(msgs) > 0 {
			b.WriteString("\n")
		}
		b.WriteString("Assistant:")
	}
	return m.Tokenizer.Encode(b.String(), true), nil
}

// GenerateChat generates the assistant's next message after msgs in s and streams
// it to emit as Generate does, with the template's stop strings added to
// opt.Stop. The cache of s is reused: a conversation that grows by a turn
// evaluates only that turn.
//
// msgs is an optional system message, then user and assistant messages.
// When they leave too little room for the answer (a quarter of the context,
// or MaxTokens if less), or the answer fills the context, the oldest turns
// after the system message are dropped, whole (a user message and what
// follows it), down to half the context, so that the next turns reuse the
// cache again. The last user message is never dropped: if it does not fit
// with the system message, that is an ErrContextFull error. Stats.Dropped
// is how many messages of msgs the model no longer sees; a caller going on
// with the conversation passes msgs without them.
func (m *Model) GenerateChat(ctx context.Context, s *Session, msgs []Message, opt GenOptions, emit func(Token) error) (Stats, error) {
	var sys []Message
	rest := msgs
	if len(msgs) > 0 && msgs[0].Role == "system" {
		sys, rest = msgs[:1:1], msgs[1:]
	}
	ctxLen := s.ContextLen()
	// fit returns the prompt without the turns before the first user
	// message after rest[from]: the first one leaving room for extra tokens
	// in half the context, else the shortest; nil when no turn is left to drop.
	fit := func(from, extra int) (int, []int32, error) {
		var k int
		var ids []int32
		for i := from + 1; i < len(rest); i++ {
			if rest[i].Role != "user" {
				continue
			}
			p, err := m.FormatChat(append(sys, rest[i:]...), true)
			if err != nil {
				return 0, nil, err
			}
			k, ids = i, p
			if len(p)+extra <= ctxLen/2 {
				break
			}
		}
		return k, ids, nil
	}
	prompt, err := m.FormatChat(msgs, true)
	if err != nil {
		return Stats{}, err
	}
	dropped := 0
	reserve := ctxLen / 4
	if opt.MaxTokens > 0 {
		reserve = min(reserve, opt.MaxTokens)
	}
	if len(prompt)+max(reserve, 1) > ctxLen {
		k, p, err := fit(0, 0)
		if err != nil {
			return Stats{}, err
		}
		if p != nil {
			dropped, prompt = k, p
		}
	}
	if len(prompt) >= ctxLen {
		return Stats{}, fmt.Errorf("%w: the last message takes %d tokens with the system prompt and the template, and the context holds %d",
			ErrContextFull, len(prompt), ctxLen)
	}
	opt.Stop = append(slices.Clip(opt.Stop), m.ChatStops()...)
	opt.Shift = func(held []int32) ([]int32, error) {
		answer := held[len(prompt):]
		k, p, err := fit(dropped, len(answer))
		if err != nil || p == nil || len(p)+len(answer) >= ctxLen {
			return nil, err
		}
		dropped, prompt = k, p
		return append(p, answer...), nil
	}
	st, err := m.Generate(ctx, s, prompt, opt, emit)
	st.Dropped = dropped
	return st, err
}

// ChatStops are the stop strings a template needs besides EOS tokens: base
// models under ChatPlain would otherwise write the user's next line too.
func (m *Model) ChatStops() []string {
	if m.Chat == ChatPlain {
		return []string{"\nUser:"}
	}
	return nil
}

// stopTokens lists the tokens that end a generation: the tokenizer's EOS and
// the end-of-turn tokens of the known chat formats, plus extra.
func stopTokens(tok *tokenizer.Tokenizer, extra []int32) []int32 {
	var ids []int32
	add := func(id int32) {
		if id < 0 {
			return
		}
		for _, e := range ids {
			if e == id {
				return
			}
		}
		ids = append(ids, id)
	}
	for _, id := range extra {
		add(id)
	}
	if tok == nil {
		return ids
	}
	add(tok.EOS())
	for _, name := range []string{"<|eot_id|>", "<|end_of_text|>", "</s>", "<|im_end|>", "<|endoftext|>"} {
		if id, ok := tok.ID(name); ok {
			add(id)
		}
	}
	return ids
}
