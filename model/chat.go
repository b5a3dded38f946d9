package model

import (
	"fmt"
	"strings"

	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string // "system", "user" or "assistant"
	Content string
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
