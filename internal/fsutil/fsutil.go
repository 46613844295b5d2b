// Package fsutil holds the file system steps that make a written file
// survive a crash.
package fsutil

import "os"

// SyncDir flushes the entries of dir to disk, so that a file created or
// renamed in it survives a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
