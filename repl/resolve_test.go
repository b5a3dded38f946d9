package repl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// a fake Hugging Face hub cache with one GGUF repo and one safetensors repo
func fakeHub(t *testing.T) string {
	t.Helper()
	hub := t.TempDir()
	mk := func(p string, data string) {
		p = filepath.Join(hub, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("models--microsoft--bitnet-b1.58-2B-4T-gguf/refs/main", "abc123\n")
	mk("models--microsoft--bitnet-b1.58-2B-4T-gguf/snapshots/abc123/ggml-model-i2_s.gguf", "GGUF")
	mk("models--microsoft--bitnet-b1.58-2B-4T-gguf/snapshots/abc123/ggml-model-f16.gguf", "GGUF")
	mk("models--microsoft--bitnet-b1.58-2B-4T-gguf/snapshots/old999/stale.gguf", "GGUF")
	mk("models--1bitLLM--bitnet_b1_58-large/snapshots/fff/config.json", "{}")
	return hub
}

func TestResolveModel(t *testing.T) {
	hub := fakeHub(t)
	env := []string{"HF_HUB_CACHE=" + hub}
	snap := filepath.Join(hub, "models--microsoft--bitnet-b1.58-2B-4T-gguf", "snapshots", "abc123")
	for _, tc := range []struct{ spec, want string }{
		{"microsoft/bitnet-b1.58-2B-4T-gguf", filepath.Join(snap, "ggml-model-i2_s.gguf")},
		{"microsoft/bitnet-b1.58-2B-4T-gguf/ggml-model-f16.gguf", filepath.Join(snap, "ggml-model-f16.gguf")},
		{"1bitLLM/bitnet_b1_58-large", filepath.Join(hub, "models--1bitLLM--bitnet_b1_58-large", "snapshots", "fff")},
		{hub, hub}, // an existing path is used as is
	} {
		got, err := resolveModel(tc.spec, env)
		if err != nil || got != tc.want {
			t.Errorf("resolveModel(%q) = %q, %v; want %q", tc.spec, got, err, tc.want)
		}
	}
	_, err := resolveModel("microsoft/bitnet-b1.58-2B-4T", env)
	var nf *ModelNotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "huggingface-cli download microsoft/bitnet-b1.58-2B-4T") ||
		!strings.Contains(err.Error(), "the GGUF build is microsoft/bitnet-b1.58-2B-4T-gguf") {
		t.Errorf("missing repo: %v", err)
	}
	_, err = resolveModel("./no/such/file.gguf", env)
	if !errors.As(err, &nf) || nf.Repo != "" || !strings.Contains(err.Error(), "give a .gguf file") {
		t.Errorf("missing file: %v", err)
	}
	if got := cachedRepos(env); len(got) != 2 {
		t.Errorf("cachedRepos = %v", got)
	}
}

func TestHubDir(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"HF_HUB_CACHE=/a", "HF_HOME=/b"}, "/a"},
		{[]string{"HF_HOME=/b", "HOME=/h"}, "/b/hub"},
		{[]string{"XDG_CACHE_HOME=/c", "HOME=/h"}, "/c/huggingface/hub"},
		{[]string{"HOME=/h"}, "/h/.cache/huggingface/hub"},
	} {
		if got := hubDir(tc.env); got != tc.want {
			t.Errorf("hubDir(%v) = %q, want %q", tc.env, got, tc.want)
		}
	}
}

func TestExpandVars(t *testing.T) {
	env := []string{"A=1", "B=two", "A=3"}
	if got, err := expandVars("x ${A} ${B} $A", env); err != nil || got != "x 3 two $A" {
		t.Errorf("got %q %v", got, err)
	}
	if _, err := expandVars("${NOPE}", env); err == nil || !strings.Contains(err.Error(), "${NOPE}") {
		t.Errorf("undefined: %v", err)
	}
}
