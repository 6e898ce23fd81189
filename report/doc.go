// Package report produces the reports a certification body owes regulators
// and registries (DESIGN.md section 13): the CNCA monthly sheets and the
// IAF CertSearch upload records, as XLSX, CSV or JSON.
//
// A report template is data: a JSON file that names the sheets, the header
// of each column and the field (or the mapping of a field's value to a
// regulator's code) that fills it, so that a changed official template is a
// file edit. The templates certd knows are embedded (templates/*.json); a
// directory of files with the same names replaces them at run time.
//
// report imports cert and github.com/xuri/excelize/v2 (which no other
// package may import); it reads certificates it is given and stores
// nothing.
package report
