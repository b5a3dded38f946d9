package repl

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// argKind says what tab completion offers after a command name.
type argKind uint8

const (
	argNone     argKind = iota
	argCommand          // a command name (/help)
	argSetting          // a setting name, then its values (/set, /show)
	argFile             // a file path (/load, /save, /source)
	argSubTopic         // the first word from command.topics, then a file path
)

// command is one entry of the command table.
type command struct {
	name      string
	aliases   []string
	args      string // synopsis of the arguments, e.g. "NAME VALUE"
	summary   string // one line for /help
	help      string // extra paragraphs for /help NAME
	complete  argKind
	topics    []string // first-argument words for argSubTopic
	needModel bool
	run       func(s *session, ctx context.Context, c *command, a call) error
}

func (c *command) synopsis() string {
	if c.args == "" {
		return "/" + c.name
	}
	return "/" + c.name + " " + c.args
}

var (
	tableOnce sync.Once
	cmdTable  []*command
)

// commandTable returns every command, in the order /help lists them.
func commandTable() []*command {
	tableOnce.Do(func() {
		cmdTable = append(cmdTable, baseCommands()...)
		cmdTable = append(cmdTable, modelCommands()...)
		cmdTable = append(cmdTable, inspectCommands()...)
		cmdTable = append(cmdTable, interveneCommands()...)
		cmdTable = append(cmdTable, assertCommands()...)
	})
	return cmdTable
}

func lookupCommand(name string) (*command, bool) {
	for _, c := range commandTable() {
		if c.name == name {
			return c, true
		}
		for _, a := range c.aliases {
			if a == name {
				return c, true
			}
		}
	}
	return nil, false
}

// commandNames returns the names and aliases of all commands, sorted.
func commandNames() []string {
	var n []string
	for _, c := range commandTable() {
		n = append(n, c.name)
		n = append(n, c.aliases...)
	}
	sort.Strings(n)
	return n
}

func baseCommands() []*command {
	return []*command{
		{name: "help", aliases: []string{"h", "?"}, args: "[COMMAND]", summary: "list commands, or explain one", complete: argCommand, run: cmdHelp},
		{name: "quit", aliases: []string{"exit", "q", "bye"}, summary: "leave bitrepl (Ctrl-D does too)", run: cmdQuit},
		{name: "set", args: "[NAME [VALUE]]", summary: "change a setting (no arguments: show all)", complete: argSetting, run: cmdSet,
			help: "Settings are validated; /set NAME alone shows one setting with its help."},
		{name: "show", args: "[NAME]", summary: "show settings", complete: argSetting, run: cmdShow},
		{name: "reset", summary: "restore the default settings", run: cmdReset},
		{name: "source", args: "FILE", summary: "run the commands in a script file", complete: argFile, run: cmdSource},
	}
}

func cmdHelp(s *session, _ context.Context, c *command, a call) error {
	if len(a.args) > 1 {
		return usagef(c, "/help takes at most one command name")
	}
	if len(a.args) == 1 {
		name := strings.TrimPrefix(strings.ToLower(a.args[0]), "/")
		h, ok := lookupCommand(name)
		if !ok {
			if _, isSet := lookupSetting(name); isSet {
				return cmdShow(s, nil, c, call{args: []string{name}})
			}
			msg := fmt.Sprintf("no command /%s", name)
			if near := nearest(name, commandNames()); near != "" {
				msg += fmt.Sprintf("; did you mean /%s?", near)
			}
			return fmt.Errorf("%s", msg)
		}
		s.p.println(s.st.cmd.Render(h.synopsis()) + "  " + h.summary)
		if len(h.aliases) > 0 {
			s.p.println(s.st.dim.Render("aliases: /" + strings.Join(h.aliases, ", /")))
		}
		if h.help != "" {
			s.p.println(h.help)
		}
		return nil
	}
	width := 0
	for _, h := range commandTable() {
		width = max(width, len(h.synopsis()))
	}
	s.p.println(s.st.title.Render("Commands") + s.st.dim.Render(" (text without a leading / is sent to the model)"))
	cols := s.width()
	for _, h := range commandTable() {
		if cols > 0 && cols-(width+4) < 2*minWrap {
			// too narrow for two columns: the summary goes under the synopsis
			s.p.println("  " + s.st.cmd.Render(h.synopsis()) + "\n      " + wrapHanging(h.summary, 6, cols))
			continue
		}
		pad := strings.Repeat(" ", width-len(h.synopsis())+2)
		s.p.println("  " + s.st.cmd.Render(h.synopsis()) + pad + wrapHanging(h.summary, width+4, cols))
	}
	s.p.println(paint(s.st.dim, wrapHanging(`Multi-line input: end a line with \ to continue it, or open and close a block with """.`, 0, cols)))
	return nil
}

func cmdQuit(s *session, _ context.Context, c *command, a call) error {
	if len(a.args) != 0 {
		return usagef(c, "/quit takes no arguments")
	}
	s.quit = true
	return nil
}

func cmdSet(s *session, ctx context.Context, c *command, a call) error {
	switch len(a.args) {
	case 0:
		return cmdShow(s, ctx, c, a)
	case 1:
		if _, ok := lookupSetting(a.args[0]); ok {
			return cmdShow(s, ctx, c, a)
		}
		return s.set.Apply(a.args[0], "") // reports the unknown name with a suggestion
	}
	name := a.args[0]
	value := strings.Join(a.args[1:], " ")
	if d, ok := lookupSetting(name); ok && d.name == "system" {
		// the rest of the line verbatim, so quotes and spacing survive
		_, after, _ := strings.Cut(a.rest, " ")
		value = strings.TrimSpace(after)
	} else if len(a.args) > 2 {
		return usagef(c, "%s takes one value, got %d", name, len(a.args)-1)
	}
	old := s.set
	if err := s.set.Apply(name, value); err != nil {
		return err
	}
	d, _ := lookupSetting(name)
	if d.name == "context" && s.model != nil && s.set.Context > s.model.Config.ContextLen {
		s.set = old
		return fmt.Errorf("context: %s is more than the model was trained for (%d positions); 0 uses the model's", value, s.model.Config.ContextLen)
	}
	s.p.println(s.st.key.Render(d.name) + " = " + s.st.val.Render(d.get(&s.set)) + s.st.dim.Render(s.settingNote(d.name)))
	s.applySettings()
	return nil
}

func cmdShow(s *session, _ context.Context, c *command, a call) error {
	if len(a.args) > 1 {
		return usagef(c, "show one setting or all")
	}
	for _, d := range settingTable() {
		if len(a.args) == 1 {
			if l, ok := lookupSetting(a.args[0]); !ok {
				return s.set.Apply(a.args[0], "")
			} else if l.name != d.name {
				continue
			}
		}
		name, val := fmt.Sprintf("%-15s", d.name), fmt.Sprintf("%-12s", d.get(&s.set))
		indent, sep := utf8.RuneCountInString(name+val)+2, " "
		if cols := s.width(); cols > 0 && cols-indent < minWrap {
			indent, sep = 16, "\n"+strings.Repeat(" ", 16) // a long value: the help goes under it
		}
		s.p.printf("%s %s%s%s\n", s.st.key.Render(name), s.st.val.Render(val), sep, paint(s.st.dim, wrapHanging(d.help+s.settingNote(d.name), indent, s.width())))
	}
	return nil
}

// settingNote says what a setting means with the loaded model, when its
// value alone does not: the positions a context of 0 (or more than the
// model's, set before it was loaded) gives.
func (s *session) settingNote(name string) string {
	if name != "context" || s.model == nil || s.model.SessionContext(s.set.Context) == s.set.Context {
		return ""
	}
	return fmt.Sprintf(" (%d positions with this model)", s.model.SessionContext(s.set.Context))
}

func cmdReset(s *session, _ context.Context, c *command, a call) error {
	if len(a.args) != 0 {
		return usagef(c, "/reset takes no arguments")
	}
	echo := s.set.Echo
	s.set = DefaultSettings()
	s.set.Echo = echo
	s.applySettings()
	s.p.println(s.st.ok.Render("settings reset to defaults"))
	return nil
}

func cmdSource(s *session, ctx context.Context, c *command, a call) error {
	if len(a.args) != 1 {
		return usagef(c, "/source needs one file")
	}
	if s.sourceDepth >= maxSourceDepth {
		return &SourceDepthError{File: a.args[0]}
	}
	f, err := os.Open(s.expand(a.args[0]))
	if err != nil {
		return err
	}
	defer f.Close()
	s.sourceDepth++
	defer func() { s.sourceDepth-- }()
	return s.runScript(ctx, f, a.args[0])
}
