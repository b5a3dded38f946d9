package atomicfile

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// createTemp opens an unnamed file in dir (O_TMPFILE), which vanishes if the
// process dies before link names it; onDisk reports a named file instead,
// where the file system or a missing /proc does not allow that.
func createTemp(dir, base string) (f *os.File, onDisk bool, err error) {
	if _, err := os.Stat("/proc/self/fd"); err == nil {
		fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, uint32(Mode))
		if err == nil {
			return os.NewFile(uintptr(fd), filepath.Join(dir, "."+base+".tmp")), false, nil
		}
	}
	f, err = os.CreateTemp(dir, "."+base+".tmp-*")
	return f, true, err
}

// link gives the unnamed file f a temporary name in dir, to be renamed over
// the destination (linkat cannot replace a file).
func link(f *os.File, dir, base string) (string, error) {
	proc := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	for try := 0; ; try++ {
		name := filepath.Join(dir, fmt.Sprintf(".%s.tmp-%d", base, rand.Uint32()))
		err := unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, name, unix.AT_SYMLINK_FOLLOW)
		if err == unix.EEXIST && try < 100 {
			continue
		}
		if err != nil {
			return "", &os.PathError{Op: "link", Path: f.Name(), Err: err}
		}
		return name, nil
	}
}
