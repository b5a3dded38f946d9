package model

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/metal/gpu"
)

func TestParseDevice(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Device
		err  bool
	}{
		{"", DeviceAuto, false}, {"auto", DeviceAuto, false}, {"CPU", DeviceCPU, false}, {" metal ", DeviceMetal, false},
		{"gpu", DeviceMetal, false}, {"cuda", 0, true}, {"metal2", 0, true},
	} {
		got, err := ParseDevice(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseDevice(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
		if err == nil {
			if back, _ := ParseDevice(got.String()); back != got {
				t.Errorf("%v does not round-trip through String", got)
			}
		}
	}
}

func TestNewSessionOn(t *testing.T) {
	m := tinyDeviceModel(t)
	s, note, err := m.NewSessionOn(DeviceCPU, 16)
	if err != nil || note != "" || s.Device() != "cpu" {
		t.Fatalf("DeviceCPU: %v, %q, %q", err, note, s.Device())
	}
	_, metalErr := gpu.Default()
	s, note, err = m.NewSessionOn(DeviceAuto, 16)
	if err != nil {
		t.Fatalf("DeviceAuto: %v", err)
	}
	if metalErr != nil {
		// No Metal here: the CPU, and a note that says why.
		if s.Device() != "cpu" || !strings.Contains(note, "running on the CPU") || !strings.Contains(note, "Metal needs macOS") {
			t.Fatalf("DeviceAuto without Metal: device %q, note %q", s.Device(), note)
		}
		if _, _, err := m.NewSessionOn(DeviceMetal, 16); !errors.Is(err, gpu.ErrUnavailable) {
			t.Fatalf("DeviceMetal without Metal: %v, want ErrUnavailable", err)
		}
	} else if !strings.HasPrefix(s.Device(), "Metal") || note != "" {
		t.Fatalf("DeviceAuto with Metal: device %q, note %q", s.Device(), note)
	}
	if runtime.GOOS != "darwin" && metalErr == nil {
		t.Fatal("Metal opened on " + runtime.GOOS)
	}
	// The session works whatever device it got.
	if _, err := s.Forward([]int32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
}

func tinyDeviceModel(t *testing.T) *Model {
	t.Helper()
	m, err := Random(Config{Arch: "bitnet-b1.58", VocabSize: 64, Dim: 128, FFNDim: 256, Layers: 1, Heads: 4, KVHeads: 2,
		HeadDim: 32, ContextLen: 64, RopeTheta: 10000, NormEps: 1e-5, Act: ReLU2, SubNorms: true, TiedEmbedding: true}, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A program picks the device from its --device flag and shows the note when
// the GPU could not be used.
func ExampleModel_NewSessionOn() {
	m, err := Random(Config{Arch: "bitnet-b1.58", VocabSize: 64, Dim: 128, FFNDim: 256, Layers: 1, Heads: 4, KVHeads: 2,
		HeadDim: 32, ContextLen: 64, RopeTheta: 10000, NormEps: 1e-5, Act: ReLU2, SubNorms: true, TiedEmbedding: true}, 1, nil, nil)
	if err != nil {
		panic(err)
	}
	dev, err := ParseDevice("auto") // the value of --device
	if err != nil {
		panic(err)
	}
	s, note, err := m.NewSessionOn(dev, 0)
	if err != nil {
		panic(err) // only DeviceMetal fails when Metal is unavailable
	}
	if note != "" {
		fmt.Fprintln(os.Stderr, note) // e.g. "running on the CPU: gpu: linux/amd64: Metal needs macOS ..."
	}
	logits, _ := s.Forward([]int32{1, 2, 3})
	fmt.Println(len(logits), "logits on", s.Device())
}
