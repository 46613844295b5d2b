package apply

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// newFileMode is the mode of a live file that did not exist before.
const newFileMode fs.FileMode = 0o644

// tmpSuffix ends the name of every temporary file.
const tmpSuffix = ".tmp"

// candidatePrefix returns the name prefix of candidates for the live file.
func candidatePrefix(live string) string {
	return "." + filepath.Base(live) + ".ipdesk-"
}

// mainCopyPrefix returns the name prefix of copies of main for target name.
// The target name is part of it because targets may share a main config.
func mainCopyPrefix(main, name string) string {
	return "." + filepath.Base(main) + ".ipdesk-" + name + "-"
}

// markerPath returns the path of the file that says the daemon may not have
// loaded the live file.
func markerPath(live string) string {
	return filepath.Join(filepath.Dir(live), "."+filepath.Base(live)+".ipdesk-reload-pending")
}

// resolveLive returns the file to replace: Path, or the file Path links to.
// A dangling link is an error, since renaming over it would remove it.
func resolveLive(p string) (string, error) {
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return p, nil
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("path %s is a symbolic link that cannot be followed: %w", p, err)
	}
	return real, nil
}

// liveFile is the state of the live file before an apply.
type liveFile struct {
	exists bool
	info   fs.FileInfo
	data   []byte // nil when same is true
	same   bool   // its bytes equal the rendered ones
}

// readLive compares the live file at p with data and, when they differ,
// returns its bytes. Equal contents are compared in chunks, without
// reading the whole file into memory.
func readLive(p string, data []byte) (liveFile, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return liveFile{}, nil
	} else if err != nil {
		return liveFile{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return liveFile{}, err
	}
	if !info.Mode().IsRegular() {
		return liveFile{}, fmt.Errorf("%s is not a regular file (%s)", p, info.Mode().Type())
	}
	lf := liveFile{exists: true, info: info}
	if info.Size() == int64(len(data)) {
		same, err := equalReader(f, data)
		if err != nil {
			return liveFile{}, err
		}
		if same {
			lf.same = true
			return lf, nil
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return liveFile{}, err
		}
	}
	var buf bytes.Buffer
	buf.Grow(int(info.Size()) + 512)
	if _, err := buf.ReadFrom(f); err != nil {
		return liveFile{}, err
	}
	lf.data = buf.Bytes()
	return lf, nil
}

// equalReader tells whether r yields exactly data.
func equalReader(r io.Reader, data []byte) (bool, error) {
	buf := make([]byte, 64<<10)
	for {
		n, err := io.ReadFull(r, buf)
		if n > len(data) || !bytes.Equal(buf[:n], data[:n]) {
			return false, nil
		}
		data = data[n:]
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return len(data) == 0, nil
		} else if err != nil {
			return false, err
		}
	}
}

// writeTemp writes data to a new temporary file in dir named
// prefix+random+".tmp", gives it the mode and owner of like (or 0644 when
// like is nil), syncs it to disk and returns its path. On error nothing is
// left behind.
func writeTemp(dir, prefix string, data []byte, like fs.FileInfo) (path string, err error) {
	f, err := os.CreateTemp(dir, prefix+"*"+tmpSuffix)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return "", err
	}
	if err = copyMode(f, like); err != nil {
		return "", err
	}
	if err = f.Sync(); err != nil {
		return "", err
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// copyMode gives f the owner and permission bits of like, or 0644 when
// like is nil. The owner comes first: chown clears set-id bits.
func copyMode(f *os.File, like fs.FileInfo) error {
	mode := newFileMode
	if like != nil {
		mode = like.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
		if st, ok := like.Sys().(*syscall.Stat_t); ok {
			if mine, err := f.Stat(); err == nil {
				if my, ok := mine.Sys().(*syscall.Stat_t); ok && (my.Uid != st.Uid || my.Gid != st.Gid) {
					if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil {
						return fmt.Errorf("cannot give the new file the owner %d:%d of the live one: %w", st.Uid, st.Gid, err)
					}
				}
			}
		}
	}
	return f.Chmod(mode)
}

// replaceFile atomically makes live hold data, with the mode and owner of
// like: a synced temporary file in the same directory is renamed over
// live, and the directory is synced so that the rename survives a crash.
func replaceFile(live string, data []byte, like fs.FileInfo) error {
	tmp, err := writeTemp(filepath.Dir(live), candidatePrefix(live), data, like)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, live); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(live))
}

// syncDir flushes the directory entry changes of dir to disk.
func syncDir(dir string) error {
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

// setMarker records that the daemon may not have loaded the live file.
func setMarker(live string) error {
	f, err := os.OpenFile(markerPath(live), os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// clearMarker removes the marker; a missing marker is fine.
func clearMarker(live string) error {
	err := os.Remove(markerPath(live))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// hasMarker tells whether the marker of live exists.
func hasMarker(live string) bool {
	_, err := os.Lstat(markerPath(live))
	return err == nil
}

// removeMatching removes the regular files in dir whose names have prefix
// and suffix, and returns their paths. A missing dir is not an error.
func removeMatching(dir, prefix, suffix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) || len(name) < len(prefix)+len(suffix) {
			continue
		}
		p := filepath.Join(dir, name)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	return removed, errors.Join(errs...)
}
