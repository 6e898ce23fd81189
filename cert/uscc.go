package cert

import (
	"fmt"
	"strings"
)

// usccAlphabet is the GB 32100-2015 character set in value order: the digits
// and the upper-case letters without I, O, Z, S and V.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// USCCCheckChar computes the GB 32100 check character of the first 17
// characters of a unified social credit code.
func USCCCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("need 17 characters, got %d", len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccAlphabet, first17[i])
		if v < 0 {
			return 0, fmt.Errorf("character %d (%q) is not allowed", i+1, first17[i])
		}
		sum += v * usccWeights[i]
	}
	c := 31 - sum%31
	if c == 31 {
		c = 0
	}
	return usccAlphabet[c], nil
}

// ValidateUSCC checks a unified social credit code: 18 characters from the
// GB 32100 alphabet with a correct check character. The message of the
// returned error is meant for the person who typed the code.
func ValidateUSCC(code string) error {
	if len(code) != 18 {
		return fmt.Errorf("must be 18 characters (digits and upper-case letters except I, O, Z, S, V), got %d", len([]rune(code)))
	}
	for i := 0; i < 18; i++ {
		if strings.IndexByte(usccAlphabet, code[i]) < 0 {
			return fmt.Errorf("character %d (%q) is not allowed: use digits and upper-case letters except I, O, Z, S, V", i+1, code[i])
		}
	}
	want, _ := USCCCheckChar(code[:17])
	if code[17] != want {
		return fmt.Errorf("check character is %q but the first 17 characters give %q (GB 32100): check the code against the business licence", code[17], want)
	}
	return nil
}
