package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// apiError is an OpenAI error object with its HTTP status.
type apiError struct {
	status  int
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func (e *apiError) Error() string { return e.Message }

func badRequest(param, format string, args ...any) *apiError {
	e := &apiError{status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...), Type: "invalid_request_error"}
	if param != "" {
		e.Param = &param
	}
	return e
}

func withCode(e *apiError, code string) *apiError {
	e.Code = &code
	return e
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(struct {
		Error *apiError `json:"error"`
	}{e})
}

// readJSON reads a request body of at most limit bytes into v: the body must
// be valid UTF-8 and one JSON value whose fields have the types of v's.
// Unknown fields are ignored, as OpenAI's clients send fields of newer API
// versions.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) *apiError {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &apiError{status: http.StatusRequestEntityTooLarge, Type: "invalid_request_error",
			Message: fmt.Sprintf("the request body is over the limit of %d bytes", limit)}
	case err != nil:
		return badRequest("", "reading the request body: %v", err)
	case !utf8.Valid(body):
		return badRequest("", "the request body is not valid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			field := typeErr.Field
			if field == "" {
				return badRequest("", "the request body must be a JSON object, not %s", typeErr.Value)
			}
			return badRequest(field, "%s: expected %s, got %s", field, jsonType(typeErr.Type.String()), typeErr.Value)
		}
		var fieldErr *fieldError
		if errors.As(err, &fieldErr) {
			return badRequest(fieldErr.field, "%s", fieldErr.msg)
		}
		return badRequest("", "malformed JSON in the request body: %v", err)
	}
	if dec.More() {
		return badRequest("", "malformed JSON in the request body: data after the JSON value")
	}
	return nil
}

// jsonType names a Go type as JSON would.
func jsonType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map[") || strings.HasPrefix(goType, "struct") || strings.Contains(goType, "."):
		return "an object"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "int"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return goType
}

// fieldError is a field whose JSON value has none of the shapes it may take.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.msg }

// stopList is OpenAI's stop: a string or an array of strings.
type stopList []string

func (s *stopList) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = stopList{one}
		return nil
	}
	var many []string
	if json.Unmarshal(b, &many) == nil {
		*s = many
		return nil
	}
	return &fieldError{"stop", "stop: expected a string or an array of strings"}
}

// promptField is /v1/completions' prompt: a string, an array of one string,
// or an array of token ids.
type promptField struct {
	text   string
	tokens []int32
	isIDs  bool
	set    bool
}

func (p *promptField) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	p.set = true
	if json.Unmarshal(b, &p.text) == nil {
		return nil
	}
	var texts []string
	if json.Unmarshal(b, &texts) == nil {
		if len(texts) != 1 {
			return &fieldError{"prompt", fmt.Sprintf("prompt: %d prompts in one request; this server takes one", len(texts))}
		}
		p.text = texts[0]
		return nil
	}
	if json.Unmarshal(b, &p.tokens) == nil {
		p.isIDs = true
		return nil
	}
	return &fieldError{"prompt", "prompt: expected a string, an array of one string, or an array of token ids"}
}

// content is a chat message's content: a string or an array of text parts.
type content struct{ text string }

func (c *content) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if json.Unmarshal(b, &c.text) == nil {
		return nil
	}
	var parts []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(b, &parts); err != nil {
		return &fieldError{"messages", "messages: content: expected a string or an array of text parts"}
	}
	var sb strings.Builder
	for _, p := range parts {
		if p.Type != "text" || p.Text == nil {
			return &fieldError{"messages", fmt.Sprintf("messages: content part of type %q is not supported (text only)", p.Type)}
		}
		sb.WriteString(*p.Text)
	}
	c.text = sb.String()
	return nil
}

// common holds the sampling fields of both completion endpoints.
type common struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           *int64             `json:"max_tokens"`
	MaxCompletionTokens *int64             `json:"max_completion_tokens"`
	Temperature         *float64           `json:"temperature"`
	TopP                *float64           `json:"top_p"`
	Seed                *int64             `json:"seed"`
	Stop                stopList           `json:"stop"`
	N                   *int64             `json:"n"`
	PresencePenalty     *float64           `json:"presence_penalty"`
	FrequencyPenalty    *float64           `json:"frequency_penalty"`
	LogitBias           map[string]float64 `json:"logit_bias"`
	Tools               json.RawMessage    `json:"tools"`
	ResponseFormat      *struct {
		Type string `json:"type"`
	} `json:"response_format"`

	// TopLogits is bitrepl's inspection extension: the k largest raw
	// logits before each generated token (1 to 20).
	TopLogits *int64 `json:"bitrepl_top_logits"`
}

type chatRequest struct {
	common
	Messages []struct {
		Role    string  `json:"role"`
		Content content `json:"content"`
	} `json:"messages"`
	Logprobs    *bool  `json:"logprobs"`
	TopLogprobs *int64 `json:"top_logprobs"`
}

type completionRequest struct {
	common
	Prompt   promptField `json:"prompt"`
	Logprobs *int64      `json:"logprobs"`
	Echo     bool        `json:"echo"`
	BestOf   *int64      `json:"best_of"`
	Suffix   *string     `json:"suffix"`
}

// usage is a response's token counts.
type usage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

// tokenLogprob is one entry of a chat response's logprobs.content.
type tokenLogprob struct {
	Token       string         `json:"token"`
	Logprob     float64        `json:"logprob"`
	Bytes       []int          `json:"bytes"`
	TopLogprobs []tokenLogprob `json:"top_logprobs,omitempty"`
}

// topLogit is one entry of the bitrepl_top_logits extension.
type topLogit struct {
	ID    int32   `json:"id"`
	Token string  `json:"token"`
	Logit float32 `json:"logit"`
}

// response is a completion, or one chunk of a stream of them: C is chatChoice
// or completionChoice.
type response[C any] struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []C    `json:"choices"`
	Usage   *usage `json:"usage,omitempty"` // in a whole answer, and in a stream's last chunk if asked for
}

// chatChoice is a choice of /v1/chat/completions: Message in a whole
// answer, Delta in a streamed chunk. FinishReason is null until the last.
type chatChoice struct {
	Index        int              `json:"index"`
	Message      *chatMessage     `json:"message,omitempty"`
	Delta        *chatDelta       `json:"delta,omitempty"`
	Logprobs     *chatLogprobs    `json:"logprobs"`
	FinishReason *string          `json:"finish_reason"`
	TopLogits    []tokenTopLogits `json:"bitrepl_top_logits,omitempty"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// chatDelta is what a streamed chunk adds to the message: the role and an
// empty content first, then content, then nothing.
type chatDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type chatLogprobs struct {
	Content []tokenLogprob `json:"content"`
}

// completionChoice is a choice of /v1/completions.
type completionChoice struct {
	Index        int                 `json:"index"`
	Text         string              `json:"text"`
	Logprobs     *completionLogprobs `json:"logprobs"`
	FinishReason *string             `json:"finish_reason"`
	TopLogits    []tokenTopLogits    `json:"bitrepl_top_logits,omitempty"`
}

// completionLogprobs is the legacy completions' logprobs: one entry per
// generated token in each list.
type completionLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"` // token -> logprob; a JSON object is what clients read
	TextOffset    []int                `json:"text_offset"`
}
