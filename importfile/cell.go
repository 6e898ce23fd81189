package importfile

import "strings"

// SafeCell neutralizes a cell a spreadsheet would read as a formula (OWASP,
// CSV injection): one that starts with =, +, -, @, a tab or a carriage
// return gets a leading single quote. certctl's result files and the
// console's exports write every cell through it.
func SafeCell(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
