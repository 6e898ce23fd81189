package report

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// WriteTable writes one sheet of text cells as an XLSX workbook: the
// header row, then the rows. The console exports its certificate lists
// with it; every cell is text, as in the reports.
func WriteTable(w io.Writer, sheet string, header []string, rows [][]string) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
		return fmt.Errorf("sheet %s: %w", sheet, err)
	}
	if err := streamSheet(f, sheet, len(header), header, rows); err != nil {
		return err
	}
	_, err := f.WriteTo(w)
	return err
}

// streamSheet writes header and rows into the named sheet of f.
func streamSheet(f *excelize.File, sheet string, width int, header []string, rows [][]string) error {
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("sheet %s: %w", sheet, err)
	}
	cells := make([]any, width)
	put := func(n int, row []string) error {
		for k := range cells {
			v := ""
			if k < len(row) {
				v = row[k]
			}
			cells[k] = excelize.Cell{Value: v}
		}
		cell, _ := excelize.CoordinatesToCellName(1, n)
		return sw.SetRow(cell, cells)
	}
	if err := put(1, header); err != nil {
		return fmt.Errorf("sheet %s: %w", sheet, err)
	}
	for j, row := range rows {
		if err := put(j+2, row); err != nil {
			return fmt.Errorf("sheet %s row %d: %w", sheet, j+2, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("sheet %s: %w", sheet, err)
	}
	return nil
}

// Limits of ReadTable: an uploaded workbook is outside input.
const (
	maxTableRows  = 100_000
	maxUnzipped   = 256 << 20
	maxSheetXML   = 64 << 20
	maxTableCells = 64
)

// ReadTable reads the first sheet of an XLSX workbook as rows of text
// (the console's import of the same columns as a CSV). Uncompressed sizes,
// rows and columns are bounded.
func ReadTable(r io.Reader) ([][]string, error) {
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: maxSheetXML})
	if err != nil {
		return nil, fmt.Errorf("not an XLSX workbook: %w", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("the workbook has no sheet")
	}
	it, err := f.Rows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("sheet %s: %w", sheets[0], err)
	}
	defer it.Close()
	var out [][]string
	for it.Next() {
		if len(out) == maxTableRows {
			return nil, fmt.Errorf("sheet %s has more than %d rows", sheets[0], maxTableRows)
		}
		row, err := it.Columns()
		if err != nil {
			return nil, fmt.Errorf("sheet %s row %d: %w", sheets[0], len(out)+1, err)
		}
		if len(row) > maxTableCells {
			return nil, fmt.Errorf("sheet %s row %d has more than %d columns", sheets[0], len(out)+1, maxTableCells)
		}
		out = append(out, row)
	}
	return out, nil
}
