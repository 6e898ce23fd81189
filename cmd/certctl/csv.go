package main

import (
	"io"

	"github.com/certd/certd/importfile"
)

// The import file rules are package importfile's, shared with the
// console: a file accepted by one is accepted by the other, with the same
// Idempotency-Key per row.
type (
	csvRow   = importfile.Row
	rowError = importfile.RowError
	csvCheck = importfile.Check
	csvFile  = importfile.File
)

func readCSV(r io.Reader, chk csvCheck) (*csvFile, error) { return importfile.Read(r, chk) }

func csvColumnsHelp() string { return importfile.ColumnsHelp() }

func columnOf(field string) string { return importfile.ColumnOf(field) }
