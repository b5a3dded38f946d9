package repl

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// completer is readline's tab completion: command names, setting names and
// values, and file paths for commands that take files.
type completer struct{ s *session }

// Do returns the candidate suffixes for the word before pos and that word's length.
func (c completer) Do(line []rune, pos int) ([][]rune, int) {
	head := string(line[:pos])
	words := strings.Fields(head)
	if strings.HasSuffix(head, " ") || len(words) == 0 {
		words = append(words, "")
	}
	cur := words[len(words)-1]
	if !strings.HasPrefix(head, "/") {
		return nil, 0
	}
	if len(words) == 1 {
		return suffixes(strings.TrimPrefix(cur, "/"), commandNames(), " "), len([]rune(cur)) - 1
	}
	cmd, ok := lookupCommand(strings.ToLower(strings.TrimPrefix(words[0], "/")))
	if !ok {
		return nil, 0
	}
	n := len([]rune(cur))
	argN := len(words) - 1 // 1 = first argument
	switch cmd.complete {
	case argCommand:
		if argN == 1 {
			return suffixes(cur, commandNames(), " "), n
		}
	case argSetting:
		if argN == 1 {
			return suffixes(cur, settingNames(), " "), n
		}
		if argN == 2 && cmd.name == "set" {
			if d, ok := lookupSetting(words[1]); ok {
				return suffixes(cur, d.values, " "), n
			}
		}
	case argFile:
		if cmd.name == "load" && !strings.ContainsAny(cur, "./~") {
			return append(suffixes(cur, cachedRepos(c.s.cfg.Env), " "), c.files(cur)...), n
		}
		return c.files(cur), n
	case argTopics:
		return suffixes(cur, cmd.topics, " "), n
	case argTopicWeight:
		if len(cmd.topics) > 0 && argN == 1 {
			return suffixes(cur, cmd.topics, " "), n
		}
		if argN == 1 || len(cmd.topics) > 0 && argN == 2 {
			return suffixes(cur, c.s.weightNames(), " "), n
		}
	case argSubTopic:
		if argN == 1 {
			return suffixes(cur, cmd.topics, " "), n
		}
		return c.files(cur), n
	}
	return nil, 0
}

// suffixes returns, for each candidate starting with prefix, the rest of it plus end.
func suffixes(prefix string, candidates []string, end string) [][]rune {
	var out [][]rune
	for _, c := range candidates {
		if strings.HasPrefix(c, prefix) {
			out = append(out, []rune(c[len(prefix):]+end))
		}
	}
	return out
}

// files completes a path: entries of its directory that start with its base name;
// directories end in "/", hidden entries only when the prefix starts with ".".
func (c completer) files(prefix string) [][]rune {
	dir, base := filepath.Split(prefix)
	readDir := c.s.expand(dir)
	if readDir == "" {
		readDir = "."
	}
	ents, err := os.ReadDir(readDir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, base) || (strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		if isDir(filepath.Join(readDir, name)) {
			name += "/"
		}
		names = append(names, name)
	}
	sort.Strings(names)
	var out [][]rune
	for _, n := range names {
		end := " "
		if strings.HasSuffix(n, "/") {
			end = ""
		}
		out = append(out, []rune(n[len(base):]+end))
	}
	return out
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// expand replaces a leading ~/ with the home directory.
func (s *session) expand(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h := envGet(s.cfg.Env, "HOME"); h != "" {
			return h + p[1:]
		}
	}
	return p
}
