package importer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// readCSV reads a CSV file whose header row names its columns, in any
// order and case: each must be one of columns, once, and the required
// ones must be there. It calls row for every record with its line and a
// function that returns the unescaped cell of a column ("" for a missing
// one), and returns the problems row reports and those of lines that
// cannot be read; a row with more cells than the header has columns is a
// problem of its line. The error is about the header or the reading.
func readCSV(r io.Reader, columns, required []string, row func(line int, get func(column string) string) *LineError) ([]LineError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read the header row: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(columns, name) {
			return nil, fmt.Errorf("line 1: unknown column %q (known: %s)", h, strings.Join(columns, ", "))
		}
		if _, dup := col[name]; dup {
			return nil, fmt.Errorf("line 1: column %q appears twice", name)
		}
		col[name] = i
	}
	for _, req := range required {
		if _, ok := col[req]; !ok {
			return nil, fmt.Errorf("line 1: the column %q is required", req)
		}
	}
	var problems []LineError
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return problems, nil
		}
		line, _ := cr.FieldPos(0)
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// The rest of the file cannot be read reliably.
			return append(problems, LineError{Line: pe.Line, Err: pe.Err.Error()}), nil
		} else if err != nil {
			return nil, err
		}
		if len(rec) > len(header) {
			// A cell without a column would be lost without a word (a
			// comma too many, a value split at its comma).
			problems = append(problems, LineError{Line: line, Err: fmt.Sprintf("%d cells, but the header row names %d columns; quote a value that contains a comma, or remove the extra cell %q", len(rec), len(header), clipString(rec[len(header)]))})
			continue
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return unescapeCell(rec[i])
			}
			return ""
		}
		if lerr := row(line, get); lerr != nil {
			problems = append(problems, *lerr)
		}
	}
}
