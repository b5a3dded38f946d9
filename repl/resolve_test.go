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
	if got, err := expandVars("${NOPE:-/tmp}/x ${B:-no} ${E:-def}", append(env, "E=")); err != nil || got != "/tmp/x two def" {
		t.Errorf("defaults: got %q %v", got, err)
	}
	if _, err := expandVars("${NOPE}", env); err == nil || !strings.Contains(err.Error(), "${NOPE}") {
		t.Errorf("undefined: %v", err)
	}
}

// The hub cache is untrusted input: refs/main, snapshot directories and the
// links in them must not lead the loader outside the cached repo. Links from a
// snapshot to ../../blobs, as the hub writes them, keep working.
func TestResolveModelStaysInCache(t *testing.T) {
	outside := t.TempDir() // a "model" outside the cache
	if err := os.WriteFile(filepath.Join(outside, "config.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "evil.gguf"), []byte("GGUF"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, repo string)
		wantErr string // "" means the resolved path is snapshots/900d/w.gguf
	}{
		{"blob links", func(t *testing.T, repo string) {}, ""},
		{"ref traversal", func(t *testing.T, repo string) {
			rel, _ := filepath.Rel(filepath.Join(repo, "snapshots"), outside)
			write(t, filepath.Join(repo, "refs", "main"), rel)
		}, "not a commit hash"},
		{"ref dots", func(t *testing.T, repo string) { write(t, filepath.Join(repo, "refs", "main"), "../../..") }, "not a commit hash"},
		{"ref absolute", func(t *testing.T, repo string) { write(t, filepath.Join(repo, "refs", "main"), outside) }, "not a commit hash"},
		{"snapshot is a link out", func(t *testing.T, repo string) {
			symlink(t, outside, filepath.Join(repo, "snapshots", "abcdef"))
			write(t, filepath.Join(repo, "refs", "main"), "abcdef")
		}, "is not a directory"},
		{"file links out", func(t *testing.T, repo string) {
			symlink(t, filepath.Join(outside, "evil.gguf"), filepath.Join(repo, "snapshots", "900d", "x.gguf"))
		}, "outside the cached repo"},
		{"refs/main links to a device", func(t *testing.T, repo string) {
			if _, err := os.Stat("/dev/zero"); err != nil {
				t.Skip(err)
			}
			os.Remove(filepath.Join(repo, "refs", "main"))
			symlink(t, "/dev/zero", filepath.Join(repo, "refs", "main"))
		}, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := t.TempDir()
			repo := filepath.Join(hub, "models--o--m")
			// the layout the hub writes: refs/main -> commit, snapshot files linking to blobs
			write(t, filepath.Join(repo, "blobs", "0123"), "GGUF")
			write(t, filepath.Join(repo, "refs", "main"), "900d")
			symlink(t, "../../blobs/0123", filepath.Join(repo, "snapshots", "900d", "w.gguf"))
			tc.setup(t, repo)
			got, err := resolveModel("o/m", []string{"HF_HUB_CACHE=" + hub})
			if tc.wantErr == "" {
				if want := filepath.Join(repo, "snapshots", "900d", "w.gguf"); err != nil || got != want {
					t.Fatalf("resolveModel = %q, %v; want %q", got, err, want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("resolveModel = %q, %v; want an error with %q", got, err, tc.wantErr)
			}
		})
	}
}

func write(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Skip("no symlinks here:", err)
	}
}
