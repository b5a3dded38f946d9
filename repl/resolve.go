package repl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/bitrepl/bitrepl/model/regfile"
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
	if errors.Is(err, fs.ErrNotExist) {
		return "", nf
	}
	if err == nil {
		err = checkInside(repoDir, snap)
	}
	if err != nil {
		return "", err
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

// commitRef is what refs/main may hold: a commit hash (40 hex digits in
// practice), never a path.
var commitRef = regexp.MustCompile(`^[0-9a-fA-F]{4,64}$`)

// snapshot returns the snapshot directory of a cached repo: the revision in
// refs/main, else the most recently modified snapshot. It stays inside the
// repo: refs/main must name a commit, and the snapshot must be a directory of
// snapshots/, not a link out of it.
func snapshot(repoDir string) (string, error) {
	snaps := filepath.Join(repoDir, "snapshots")
	refPath := filepath.Join(repoDir, "refs", "main")
	ref, err := regfile.ReadFile(refPath, 1024)
	switch {
	case err == nil:
		name := strings.TrimSpace(string(ref))
		if !commitRef.MatchString(name) {
			return "", fmt.Errorf("%s holds %q, not a commit hash", refPath, name)
		}
		d := filepath.Join(snaps, name)
		if st, err := os.Lstat(d); err == nil {
			if !st.IsDir() {
				return "", fmt.Errorf("%s is not a directory (a link out of the cache?)", d)
			}
			return d, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	ents, err := os.ReadDir(snaps)
	if err != nil {
		return "", err
	}
	best, bestT := "", int64(0)
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !e.IsDir() { // DirEntry.IsDir does not follow links
			continue
		}
		if t := info.ModTime().UnixNano(); best == "" || t > bestT {
			best, bestT = filepath.Join(snaps, e.Name()), t
		}
	}
	if best == "" {
		return "", fmt.Errorf("%s: no snapshots: %w", repoDir, fs.ErrNotExist)
	}
	return best, nil
}

// checkInside returns an error if any entry of the snapshot directory snap is
// a link that resolves outside repoDir. Files of a snapshot are links to
// ../../blobs/<hash>, inside the repo.
func checkInside(repoDir, snap string) error {
	root, err := filepath.EvalSymlinks(repoDir)
	if err != nil {
		return err
	}
	ents, err := os.ReadDir(snap)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		p := filepath.Join(snap, e.Name())
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			continue // a dangling link: loading it will say so
		}
		if rel, err := filepath.Rel(root, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("%s links to %s, outside the cached repo %s", p, target, repoDir)
		}
	}
	return nil
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
