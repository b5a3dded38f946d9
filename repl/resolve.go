package repl

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// hfRepoID matches a Hugging Face repo id, optionally with a file: owner/name[/file.gguf].
var hfRepoID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*(/[^/]+\.gguf)?$`)

// hubDir is the local Hugging Face hub cache: $HF_HUB_CACHE, $HF_HOME/hub, or
// $XDG_CACHE_HOME/huggingface/hub, or ~/.cache/huggingface/hub.
func hubDir(env []string) string {
	if d := envGet(env, "HF_HUB_CACHE"); d != "" {
		return d
	}
	if d := envGet(env, "HF_HOME"); d != "" {
		return filepath.Join(d, "hub")
	}
	if d := envGet(env, "XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "huggingface", "hub")
	}
	if h := envGet(env, "HOME"); h != "" {
		return filepath.Join(h, ".cache", "huggingface", "hub")
	}
	return ""
}

// ModelNotFoundError says a model spec is neither a path nor a repo in the local hub cache.
type ModelNotFoundError struct {
	Spec   string
	Looked []string // places searched
	Repo   string   // the repo id, when Spec looked like one
}

func (e *ModelNotFoundError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "model %q not found", e.Spec)
	if len(e.Looked) > 0 {
		fmt.Fprintf(&b, " (looked in %s)", strings.Join(e.Looked, ", "))
	}
	if e.Repo != "" {
		fmt.Fprintf(&b, "\nto download it into the local Hugging Face cache, run:\n  huggingface-cli download %s\n(or: pip install -U huggingface_hub; hf download %s), then /load %s again", e.Repo, e.Repo, e.Spec)
		if !strings.HasSuffix(e.Repo, "-gguf") && strings.Contains(e.Repo, "bitnet-b1.58-2B-4T") {
			fmt.Fprintf(&b, "\nthe GGUF build is %s-gguf", e.Repo)
		}
	} else {
		b.WriteString("\ngive a .gguf file, a directory with config.json and safetensors, or a Hugging Face repo id (owner/name)")
	}
	return b.String()
}

// resolveModel turns a spec (a file, a directory, or a Hugging Face repo id
// owner/name, optionally owner/name/file.gguf) into a path model.Load accepts.
func resolveModel(spec string, env []string) (string, error) {
	if _, err := os.Stat(spec); err == nil {
		return spec, nil
	}
	if !hfRepoID.MatchString(spec) {
		return "", &ModelNotFoundError{Spec: spec, Looked: []string{spec}}
	}
	parts := strings.SplitN(spec, "/", 3)
	repo := parts[0] + "/" + parts[1]
	file := ""
	if len(parts) == 3 {
		file = parts[2]
	}
	hub := hubDir(env)
	nf := &ModelNotFoundError{Spec: spec, Repo: repo, Looked: []string{spec}}
	if hub == "" {
		return "", nf
	}
	repoDir := filepath.Join(hub, "models--"+parts[0]+"--"+parts[1])
	nf.Looked = append(nf.Looked, repoDir)
	snap, err := snapshot(repoDir)
	if err != nil {
		return "", nf
	}
	if file != "" {
		p := filepath.Join(snap, file)
		if _, err := os.Stat(p); err != nil {
			nf.Looked[len(nf.Looked)-1] = p
			return "", nf
		}
		return p, nil
	}
	ggufs, _ := filepath.Glob(filepath.Join(snap, "*.gguf"))
	switch {
	case len(ggufs) == 1:
		return ggufs[0], nil
	case len(ggufs) > 1:
		sort.Strings(ggufs)
		// prefer the ternary builds bitnet.cpp ships
		for _, pref := range []string{"i2_s", "tq2_0", "tq1_0"} {
			for _, g := range ggufs {
				if strings.Contains(strings.ToLower(filepath.Base(g)), pref) {
					return g, nil
				}
			}
		}
		return ggufs[0], nil
	}
	if _, err := os.Stat(filepath.Join(snap, "config.json")); err == nil {
		return snap, nil
	}
	return "", nf
}

// snapshot returns the snapshot directory of a cached repo: the revision in
// refs/main, else the most recently modified snapshot.
func snapshot(repoDir string) (string, error) {
	if ref, err := os.ReadFile(filepath.Join(repoDir, "refs", "main")); err == nil {
		d := filepath.Join(repoDir, "snapshots", strings.TrimSpace(string(ref)))
		if isDir(d) {
			return d, nil
		}
	}
	ents, err := os.ReadDir(filepath.Join(repoDir, "snapshots"))
	if err != nil {
		return "", err
	}
	best, bestT := "", int64(0)
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !e.IsDir() {
			continue
		}
		if t := info.ModTime().UnixNano(); best == "" || t > bestT {
			best, bestT = filepath.Join(repoDir, "snapshots", e.Name()), t
		}
	}
	if best == "" {
		return "", fmt.Errorf("%s: no snapshots", repoDir)
	}
	return best, nil
}

// cachedRepos lists the repo ids in the hub cache (for completion and /models).
func cachedRepos(env []string) []string {
	hub := hubDir(env)
	if hub == "" {
		return nil
	}
	ents, err := os.ReadDir(hub)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if name, ok := strings.CutPrefix(e.Name(), "models--"); ok {
			out = append(out, strings.Replace(name, "--", "/", 1))
		}
	}
	return out
}
