package repl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzResolveModel: whatever the spec, refs/main and the links in a snapshot,
// resolveModel returns the spec itself (an existing path), a path that stays
// inside the cached repo, or an error; it never panics.
func FuzzResolveModel(f *testing.F) {
	for _, s := range [][3]string{
		{"o/m", "900d", ""}, {"o/m", "900d\n", "../../blobs/0123"}, {"o/m/w.gguf", "900d", ""},
		{"o/m", "../../..", ""}, {"o/m", "900d", "/etc/passwd"}, {"o/m", "", "../../../x"},
		{"o/m/x.gguf", "900d", "../../blobs/0123"}, {"o/m/x.gguf", "900d", "../../../../.."}, {"o/x", "900d", ""},
		{"./o/m", "900d", ""}, {"o/m/../../m", "abc", ""}, {"o/m", "900d/../900d", ""},
	} {
		f.Add(s[0], []byte(s[1]), s[2])
	}
	f.Fuzz(func(t *testing.T, spec string, ref []byte, link string) {
		if filepath.IsAbs(spec) || strings.Contains(spec, "..") && !hfRepoID.MatchString(spec) {
			t.Skip("a path outside the test's directory")
		}
		hub := t.TempDir()
		repo := filepath.Join(hub, "models--o--m")
		write(t, filepath.Join(repo, "blobs", "0123"), "GGUF")
		write(t, filepath.Join(repo, "refs", "main"), string(ref))
		symlink(t, "../../blobs/0123", filepath.Join(repo, "snapshots", "900d", "w.gguf"))
		if link != "" && !strings.ContainsRune(link, 0) {
			symlink(t, link, filepath.Join(repo, "snapshots", "900d", "x.gguf"))
		}
		// Relative specs are looked up from the test's directory: run from
		// an empty one, so only the hub can match.
		t.Chdir(t.TempDir())
		got, err := resolveModel(spec, []string{"HF_HUB_CACHE=" + hub})
		if err != nil || got == spec {
			return
		}
		root, err := filepath.EvalSymlinks(repo)
		if err != nil {
			t.Fatal(err)
		}
		real, err := filepath.EvalSymlinks(got)
		if err != nil {
			return // a dangling link: loading it fails
		}
		if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			t.Fatalf("resolveModel(%q) with refs/main %q, link %q = %s, outside the repo %s", spec, ref, link, real, root)
		}
		if _, err := os.Stat(real); err != nil {
			t.Fatalf("resolveModel(%q) = %s, which does not exist: %v", spec, got, err)
		}
	})
}
