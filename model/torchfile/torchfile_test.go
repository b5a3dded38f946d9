package torchfile

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const olmo = "../testdata/checkpoints/OLMo-Bitnet-1B/pytorch_model.bin"

// The OLMo test checkpoint (written by torch.save in gen.py) reads back as
// its tensors, in state-dict order, with their shapes.
func TestReadOLMo(t *testing.T) {
	ts, err := ReadFile(olmo)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]int64{}
	for _, x := range ts {
		got[x.Name] = x.Shape
		if x.DType != "F32" || len(x.Data) != 4*int(product(x.Shape)) {
			t.Errorf("%s: %s, %d bytes for %v", x.Name, x.DType, len(x.Data), x.Shape)
		}
	}
	for name, want := range map[string][]int64{
		"model.transformer.blocks.0.att_proj.weight": {96, 32},
		"model.transformer.blocks.1.ff_proj.weight":  {128, 32},
		"model.transformer.wte.weight":               {128, 32},
	} {
		if s := got[name]; len(s) != len(want) || s[0] != want[0] || s[1] != want[1] {
			t.Errorf("%s: shape %v, want %v", name, s, want)
		}
	}
}

func product(s []int64) int64 {
	n := int64(1)
	for _, x := range s {
		n *= x
	}
	return n
}

// A pickle that names any other global is refused before anything runs.
func TestRefusesGlobals(t *testing.T) {
	for _, g := range []string{"os\nsystem\n", "builtins\neval\n", "torch\nload\n", "subprocess\nPopen\n"} {
		pkl := "\x80\x02c" + g + "(X\x02\x00\x00\x00idtR."
		_, err := Read(archive(t, map[string]string{"m/data.pkl": pkl}))
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "is not allowed") {
			t.Errorf("%q: %v", g, err)
		}
	}
}

func archive(t testing.TB, files map[string]string) (*bytes.Reader, int64) {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for name, data := range files {
		f, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(data))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b.Bytes()), int64(b.Len())
}

// FuzzRead: any data.pkl and storage bytes give tensors or an error, never a
// panic, and every tensor's bytes match its shape.
func FuzzRead(f *testing.F) {
	if data, err := os.ReadFile(olmo); err == nil {
		if z, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err == nil {
			for _, zf := range z.File {
				if filepath.Base(zf.Name) == "data.pkl" {
					rc, _ := zf.Open()
					var b bytes.Buffer
					b.ReadFrom(rc)
					rc.Close()
					f.Add(b.Bytes(), []byte(strings.Repeat("\x00", 4096)))
				}
			}
		}
	}
	f.Add([]byte("\x80\x02}q\x00."), []byte{})
	f.Fuzz(func(t *testing.T, pkl, storage []byte) {
		files := map[string]string{"m/data.pkl": string(pkl)}
		for _, k := range []string{"0", "1", "2", "3"} {
			files["m/data/"+k] = string(storage)
		}
		ts, err := Read(archive(t, files))
		if err != nil {
			return
		}
		for _, x := range ts {
			size := 4
			if x.DType != "F32" {
				size = 2
			}
			if int64(len(x.Data)) != product(x.Shape)*int64(size) {
				t.Fatalf("%s: %d bytes for %v %s", x.Name, len(x.Data), x.Shape, x.DType)
			}
		}
	})
}
