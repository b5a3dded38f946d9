//go:build unix

package repl

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// fsizeEnv, when set, makes the child of TestSaveChild unable to write
// files over that many bytes, as a full disk would.
const fsizeEnv = "BITREPL_TEST_SAVE_FSIZE"

func limitFileSize(s string) error {
	if s == "" {
		return nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return err
	}
	return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n})
}

// A /save that runs out of room (here a 64 KB file size limit, which fails
// the write as a full disk does) reports an error naming the file, and
// leaves the previous file whole and no temporary file.
func TestSaveFullDisk(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "conv.json")
	old := `{"system": "", "mode": "chat", "messages": [{"role": "user", "content": "hi"}]}` + "\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSaveChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), saveChildEnv+"="+path, fsizeEnv+"=65536")
	out, err := cmd.Output()
	if err == nil || !strings.HasPrefix(string(out), "error: ") {
		t.Fatalf("the child saved past the limit: %v\n%s", err, out)
	}
	msg := string(out)
	t.Logf("child: %s", strings.TrimSpace(msg))
	if !strings.Contains(msg, path) || strings.Contains(msg, ".tmp-") || !strings.Contains(msg, "file too large") {
		t.Errorf("error %q should name %s and say why", msg, path)
	}
	b, _ := os.ReadFile(path)
	var conv conversation
	if string(b) != old || json.Unmarshal(b, &conv) != nil {
		t.Errorf("the previous file is now %.80q", b)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("directory holds %d files, want only conv.json", len(es))
	}
}
