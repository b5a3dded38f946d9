package repl

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/kvcache"
)

// Settings are the values /set changes. The zero value is not useful: start from
// DefaultSettings.
type Settings struct {
	Temperature   float64 // 0 = greedy
	TopK          int     // 0 = off
	TopP          float64 // 1 = off
	MinP          float64 // 0 = off
	RepeatPenalty float64 // 1 = off
	RepeatLastN   int
	Seed          uint64
	MaxTokens     int
	Threads       int
	Context       int          // KV cache length; 0 = the model's
	CacheType     kvcache.Type // how the CPU's KV cache holds keys and values
	Mode          string       // "chat" or "completion"
	System        string       // system prompt in chat mode
	Stats         bool         // print the stats line after a generation
	ColorProbs    bool         // colour generated tokens by their probability
	Echo          bool         // echo commands (useful in scripts and transcripts)
}

// DefaultSettings returns the settings bitrepl starts with.
func DefaultSettings() Settings {
	return Settings{
		Temperature: 0.7, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1.1, RepeatLastN: 64,
		Seed: 0, MaxTokens: 256, Threads: 0, Mode: "chat",
		System: "You are a helpful assistant.", Stats: true,
	}
}

// setting describes one name /set accepts.
type setting struct {
	name   string
	help   string
	values []string // completions for the value (enumerations, booleans)
	get    func(*Settings) string
	set    func(*Settings, string) error
}

var boolValues = []string{"on", "off"}

func settingTable() []setting {
	return []setting{
		floatSetting("temperature", "sampling temperature; 0 = greedy", 0, 100, func(s *Settings) *float64 { return &s.Temperature }),
		intSetting("top_k", "keep the k most likely tokens; 0 = off", 0, 1<<20, func(s *Settings) *int { return &s.TopK }),
		floatSetting("top_p", "nucleus sampling mass in (0,1]; 1 = off", math.SmallestNonzeroFloat64, 1, func(s *Settings) *float64 { return &s.TopP }),
		floatSetting("min_p", "drop tokens below min_p * p(top) in [0,1); 0 = off", 0, 0.999999, func(s *Settings) *float64 { return &s.MinP }),
		floatSetting("repeat_penalty", "divide logits of recent tokens; 1 = off", 0.01, 10, func(s *Settings) *float64 { return &s.RepeatPenalty }),
		intSetting("repeat_last_n", "how many recent tokens the penalty sees", 0, 1<<20, func(s *Settings) *int { return &s.RepeatLastN }),
		{name: "seed", help: "sampler seed (a non-negative integer)",
			get: func(s *Settings) string { return strconv.FormatUint(s.Seed, 10) },
			set: func(s *Settings, v string) error {
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return fmt.Errorf("seed: %q is not a non-negative integer", v)
				}
				s.Seed = n
				return nil
			}},
		intSetting("max_tokens", "stop a generation after this many tokens", 1, 1<<20, func(s *Settings) *int { return &s.MaxTokens }),
		intSetting("threads", "threads of the matrix kernels; 0 = the physical cores", 0, cpu.MaxThreads(), func(s *Settings) *int { return &s.Threads }),
		intSetting("context", "KV cache length in tokens; 0 = the model's", 0, 1<<24, func(s *Settings) *int { return &s.Context }),
		{name: "cache_type", help: "KV cache entries: f16 (half the memory and reads of f32), q8_0 (about half of f16's: llama.cpp's 8-bit blocks) or f32 (exact keys and values)", values: []string{"f16", "q8_0", "f32"},
			get: func(s *Settings) string { return s.CacheType.String() },
			set: func(s *Settings, v string) error {
				t, err := kvcache.ParseType(v)
				if err != nil {
					return fmt.Errorf("cache_type: %q is not f16, q8_0 or f32", v)
				}
				s.CacheType = t
				return nil
			}},
		{name: "mode", help: "chat (the model's template, with history) or completion (raw text)", values: []string{"chat", "completion"},
			get: func(s *Settings) string { return s.Mode },
			set: func(s *Settings, v string) error {
				if v != "chat" && v != "completion" {
					return fmt.Errorf("mode: %q is not chat or completion", v)
				}
				s.Mode = v
				return nil
			}},
		{name: "system", help: "system prompt in chat mode (the rest of the line; empty = none)",
			get: func(s *Settings) string { return strconv.Quote(s.System) },
			set: func(s *Settings, v string) error { s.System = unquoteLoose(v); return nil }},
		boolSetting("stats", "print tokens, time to first token and tokens/s after a generation", func(s *Settings) *bool { return &s.Stats }),
		boolSetting("color_probs", "colour generated tokens by their probability", func(s *Settings) *bool { return &s.ColorProbs }),
		boolSetting("echo", "echo each command before running it (scripts, transcripts)", func(s *Settings) *bool { return &s.Echo }),
	}
}

func floatSetting(name, help string, lo, hi float64, f func(*Settings) *float64) setting {
	return setting{name: name, help: help,
		get: func(s *Settings) string { return strconv.FormatFloat(*f(s), 'g', -1, 64) },
		set: func(s *Settings, v string) error {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(x) {
				return fmt.Errorf("%s: %q is not a number", name, v)
			}
			if x < lo || x > hi {
				return fmt.Errorf("%s: %v is out of range [%s, %v]", name, x, fmtLo(lo), hi)
			}
			*f(s) = x
			return nil
		}}
}

func fmtLo(lo float64) string {
	if lo == math.SmallestNonzeroFloat64 {
		return "0 (exclusive)"
	}
	return strconv.FormatFloat(lo, 'g', -1, 64)
}

func intSetting(name, help string, lo, hi int, f func(*Settings) *int) setting {
	return setting{name: name, help: help,
		get: func(s *Settings) string { return strconv.Itoa(*f(s)) },
		set: func(s *Settings, v string) error {
			x, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not an integer", name, v)
			}
			if x < lo || x > hi {
				return fmt.Errorf("%s: %d is out of range [%d, %d]", name, x, lo, hi)
			}
			*f(s) = x
			return nil
		}}
}

func boolSetting(name, help string, f func(*Settings) *bool) setting {
	return setting{name: name, help: help, values: boolValues,
		get: func(s *Settings) string {
			if *f(s) {
				return "on"
			}
			return "off"
		},
		set: func(s *Settings, v string) error {
			b, ok := parseBool(v)
			if !ok {
				return fmt.Errorf("%s: %q is not on or off", name, v)
			}
			*f(s) = b
			return nil
		}}
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1":
		return true, true
	case "off", "false", "no", "0":
		return false, true
	}
	return false, false
}

// unquoteLoose strips one level of Go-style quotes when v is quoted, else returns v.
func unquoteLoose(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		if u, err := strconv.Unquote(v); err == nil {
			return u
		}
		return v[1 : len(v)-1]
	}
	return v
}

// lookupSetting finds a setting by name; dashes and underscores are interchangeable.
func lookupSetting(name string) (setting, bool) {
	name = strings.ReplaceAll(strings.ToLower(name), "-", "_")
	for _, s := range settingTable() {
		if s.name == name {
			return s, true
		}
	}
	return setting{}, false
}

func settingNames() []string {
	var names []string
	for _, s := range settingTable() {
		names = append(names, s.name)
	}
	sort.Strings(names)
	return names
}

// Apply sets name to value with validation, as /set does.
func (s *Settings) Apply(name, value string) error {
	d, ok := lookupSetting(name)
	if !ok {
		msg := fmt.Sprintf("unknown setting %q", name)
		if near := nearest(name, settingNames()); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		}
		return fmt.Errorf("%s", msg)
	}
	return d.set(s, value)
}
