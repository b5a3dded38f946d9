package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/atomicfile"
)

var exportKinds = []string{"generation", "probs", "tokens", "topk", "weights", "layers", "acts", "acts_summary", "lens", "attn", "hidden"}

// tableFormats are the file extensions /export writes a result as.
var tableFormats = []string{".json", ".csv"}

// formatOf returns the extension of path if it is one of formats, else an
// error that lists them.
func formatOf(path, what string, formats []string) (string, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if slices.Contains(formats, ext) {
		return ext, nil
	}
	msg := fmt.Sprintf("%s: %s is written as %s", path, what, strings.Join(formats, " or "))
	if ext == "" {
		return "", errors.New(msg + ": give the file one of these extensions")
	}
	return "", fmt.Errorf("%s, not %s", msg, ext)
}

func cmdExport(s *session, ctx context.Context, c *command, a call) error {
	if len(a.args) < 2 {
		return usagef(c, "/export needs what and a file (%s)", strings.Join(exportKinds, ", "))
	}
	kind := a.args[0]
	if kind == "hidden" {
		return s.exportHidden(ctx, c, a.args[1:])
	}
	if len(a.args) != 2 {
		return usagef(c, "/export %s needs one file", kind)
	}
	if !contains(exportKinds, kind) {
		msg := fmt.Sprintf("unknown result %q", kind)
		if near := nearest(kind, exportKinds); near != "" {
			msg += "; did you mean " + near + "?"
		}
		return usagef(c, "%s", msg)
	}
	path := s.expand(a.args[1])
	ext, err := formatOf(path, kind, tableFormats)
	if err != nil {
		return err
	}
	v, ok := s.results[kind]
	if !ok {
		return fmt.Errorf("no %s result yet: %s first", kind, producer(kind))
	}
	rows, doc, err := exportForms(v)
	if err != nil {
		return err
	}
	write := func(w io.Writer) error { return writeJSONTo(w, doc) }
	if ext == ".csv" {
		write = func(w io.Writer) error { return writeCSV(w, rows) }
	}
	if err := atomicfile.Write(path, write); err != nil {
		return err
	}
	s.p.println(s.st.ok.Render(fmt.Sprintf("wrote %d rows of %s to %s", reflect.ValueOf(rows).Len(), kind, path)))
	return nil
}

func producer(kind string) string {
	switch kind {
	case "generation":
		return "send a prompt"
	case "layers", "weights":
		return "run /weights"
	case "acts_summary":
		return "run /acts"
	}
	return "run /" + kind
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// exportHidden writes the last prompt's values at a site for every layer.
func (s *session) exportHidden(ctx context.Context, c *command, args []string) error {
	if s.model == nil {
		return errNoModel
	}
	if len(args) != 2 {
		return usagef(c, "/export hidden SITE FILE (.safetensors or .npy)")
	}
	if _, err := formatOf(s.expand(args[1]), "hidden states", inspect.HiddenFormats); err != nil {
		return err
	}
	site, ok := model.ParseSite(args[0])
	if !ok {
		return usagef(c, "unknown site %q", args[0])
	}
	rec := &inspect.Recorder{Sites: []model.Site{}, Keep: []model.Site{site}}
	if _, err := s.record(ctx, rec); err != nil {
		return err
	}
	path := s.expand(args[1])
	if err := rec.ExportHiddenStates(site, path); err != nil {
		return err
	}
	s.p.println(s.st.ok.Render(fmt.Sprintf("wrote %s of %d positions to %s", site, len(s.lastIDs), path)))
	return nil
}
