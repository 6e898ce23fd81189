package bolt

import (
	"encoding/json"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// Check says how Open made sure of an existing file before serving it.
type Check string

// The checks of Open.
const (
	// CheckNew: the file was missing or empty, and Open created it.
	CheckNew Check = "new"
	// CheckClean: the file is, byte for byte, the one a clean Close left
	// (its size and CRC-32C match the marker Close wrote): it is read once,
	// sequentially, and not walked.
	CheckClean Check = "clean"
	// CheckFull: there was no valid marker (the last process did not close
	// the file: a crash, kill -9, power loss; or the file was changed or
	// restored since), so every page was read and bbolt's consistency
	// check run, which takes time in proportion to the data.
	CheckFull Check = "full"
)

// cleanMark is what Close writes next to the file after closing it: the
// file's size and CRC-32C (Castagnoli). A file that still has both when it
// is opened again is the file bbolt closed cleanly and needs no walk of its
// pages; anything else, a missing marker included, gets the full check.
type cleanMark struct {
	Size   int64  `json:"size"`
	CRC32C uint32 `json:"crc32c"`
}

// cleanMarkPath is where the marker of the database file at path lives.
func cleanMarkPath(path string) string { return path + ".clean" }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileCRC returns the size and CRC-32C of the file at path.
func fileCRC(path string) (int64, uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	n, err := io.CopyBuffer(h, f, make([]byte, 1<<20))
	return n, h.Sum32(), err
}

// takeCleanMark removes the marker of the file at path, so that a crash of
// this process leaves none, and reports whether it matched the file.
func takeCleanMark(path string) bool {
	b, err := os.ReadFile(cleanMarkPath(path))
	if err != nil {
		return false
	}
	// A marker that cannot be removed does no harm: the file changes as
	// soon as it is written (bbolt commits a meta page at Open), and then
	// no longer matches it.
	_ = os.Remove(cleanMarkPath(path))
	var m cleanMark
	if json.Unmarshal(b, &m) != nil || m.Size <= 0 {
		return false
	}
	size, sum, err := fileCRC(path)
	return err == nil && size == m.Size && sum == m.CRC32C
}

// writeCleanMark writes the marker of the closed file at path, durably
// (temporary file, fsync, rename, fsync of the directory).
func writeCleanMark(path string) error {
	size, sum, err := fileCRC(path)
	if err != nil {
		return err
	}
	b, err := json.Marshal(cleanMark{Size: size, CRC32C: sum})
	if err != nil {
		return err
	}
	tmp := cleanMarkPath(path) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, cleanMarkPath(path))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	// The rename reaches the disk with the directory; some systems cannot
	// sync a directory, and a marker lost in a crash only costs the full
	// check.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
