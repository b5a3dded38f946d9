//go:build !unix

package repl

import "errors"

const fsizeEnv = "BITREPL_TEST_SAVE_FSIZE"

func limitFileSize(s string) error {
	if s != "" {
		return errors.New("no file size limit on this system")
	}
	return nil
}
