package store

import (
	"unicode"
	"unicode/utf8"
)

// The search indexes of both backends are made of the terms below. They
// are a necessary condition only: a name that contains a text (under the
// folding rule of Searcher) holds every term the text requires
// (SearchPlan), so the terms find the candidates and the backend confirms
// each one with the rule itself. The terms of a name are:
//   - every character outside ASCII, alone (so that a one-character
//     Chinese text is answered from the index);
//   - every pair of characters whose first one is outside ASCII (Chinese
//     bigrams; the second may be anything);
//   - every word: a maximal run of ASCII letters and digits, in lower
//     case. A part of a word in the text (its first or last word, which
//     may be cut) is looked up through the vocabulary of the words stored;
//   - every junction of two words: the last three characters of a word
//     (all of a shorter one), the ASCII characters that separate it from
//     the next word (at most maxJunctionSep), and the first three of that
//     word ("ogy co" in "Technology Co."). Words are common and occur in
//     every order; a junction says which follow each other, so a text of
//     common words that never stand together ("Huaxin Cloud Electronics")
//     is a miss from the index alone.
//
// Characters are folded first to the least rune of their Unicode simple
// folding orbit, ASCII letters then to lower case, so that every case of a
// letter gives the same term; this folds more than the backends compare
// (ASCII k with the Kelvin sign), which only adds candidates that the
// confirmation drops.

// SearchTerms returns the distinct index terms of the names, in the order
// they first occur; nil when they have none.
func SearchTerms(names ...string) []string {
	// The terms are written back to back in buf and cut out of one string
	// at the end: a certificate is indexed on every write, and a string
	// per term costs more than the rest of the work.
	var buf []byte
	var ends []int
	EachSearchTerm(func(t []byte) {
		from := 0
		for _, e := range ends {
			if string(buf[from:e]) == string(t) {
				return
			}
			from = e
		}
		buf = append(buf, t...)
		ends = append(ends, len(buf))
	}, names...)
	if len(ends) == 0 {
		return nil
	}
	all := string(buf)
	terms := make([]string, len(ends))
	from := 0
	for i, e := range ends {
		terms[i], from = all[from:e], e
	}
	return terms
}

// EachSearchTerm calls yield with each index term of the names in turn,
// a term as often as it occurs; the slice is valid only during the call.
func EachSearchTerm(yield func(term []byte), names ...string) {
	EachSearchTermAt(func(term []byte, _ int) { yield(term) }, names...)
}

// EachSearchTermAt is EachSearchTerm with the position of each term: the
// index of its first character among the characters of its name (each
// name counts from 0; a junction starts with the last characters of its
// first word). A name that contains a text at position p holds each term
// of the text's plan at p plus the term's position in the text
// (SearchPlan.Positions).
func EachSearchTermAt(yield func(term []byte, pos int), names ...string) {
	var buf []byte
	var rs []rune
	for _, name := range names {
		rs = foldRunes(rs[:0], name)
		prevStart, prevEnd := -1, -1 // the previous word, rs[prevStart:prevEnd]
		for i := 0; i < len(rs); i++ {
			r := rs[i]
			switch {
			case r >= utf8.RuneSelf:
				buf = utf8.AppendRune(buf[:0], r)
				yield(buf, i)
				if i+1 < len(rs) {
					yield(utf8.AppendRune(buf, rs[i+1]), i)
				}
			case isWordRune(r):
				start := i
				buf = buf[:0]
				for ; i < len(rs) && isWordRune(rs[i]); i++ {
					buf = append(buf, byte(rs[i]))
				}
				yield(buf, start)
				if prevEnd >= 0 && isJunctionSep(rs[prevEnd:start]) {
					from := max(prevStart, prevEnd-3)
					buf = appendJunction(buf[:0], rs[from:prevEnd], rs[prevEnd:start], rs[start:min(i, start+3)])
					yield(buf, from)
				}
				prevStart, prevEnd = start, i
				i--
			}
		}
	}
}

// EachSearchTermPositions calls yield once with each distinct index term
// of the names, in the order they first occur, and the set of its
// positions (EachSearchTermAt) modulo 64: bit p%64 is set for a position
// p. The slice is valid only during the call.
func EachSearchTermPositions(yield func(term []byte, positions uint64), names ...string) {
	// The terms are kept back to back in buf and found again through a
	// small hash table (a map past tableTerms of them): a certificate is
	// indexed on every write.
	const tableSize, tableTerms = 256, 192
	buf := make([]byte, 0, 512)
	ends := make([]int, 0, 64)
	masks := make([]uint64, 0, 64)
	var table [tableSize]uint16 // index+1 into ends; 0 is empty
	var many map[string]int
	term := func(i int) []byte {
		if i == 0 {
			return buf[:ends[0]]
		}
		return buf[ends[i-1]:ends[i]]
	}
	EachSearchTermAt(func(t []byte, pos int) {
		bit := uint64(1) << (pos % 64)
		if many != nil {
			if i, ok := many[string(t)]; ok {
				masks[i] |= bit
				return
			}
			many[string(t)] = len(ends)
		} else {
			h := uint32(2166136261) // FNV-1a
			for _, b := range t {
				h = (h ^ uint32(b)) * 16777619
			}
			h %= tableSize
			for table[h] != 0 {
				if i := int(table[h]) - 1; string(term(i)) == string(t) {
					masks[i] |= bit
					return
				}
				h = (h + 1) % tableSize
			}
			table[h] = uint16(len(ends)) + 1
		}
		buf = append(buf, t...)
		ends = append(ends, len(buf))
		masks = append(masks, bit)
		if many == nil && len(ends) == tableTerms {
			many = make(map[string]int, 2*tableTerms)
			for i := range ends {
				many[string(term(i))] = i
			}
		}
	}, names...)
	for i := range ends {
		yield(term(i), masks[i])
	}
}

// maxJunctionSep bounds the separator of a junction term, in characters.
const maxJunctionSep = 3

// isJunctionSep reports whether the characters between two words make a
// junction term: a few ASCII characters (none is a letter or digit, or the
// words would be one).
func isJunctionSep(sep []rune) bool {
	if len(sep) > maxJunctionSep {
		return false
	}
	for _, r := range sep {
		if r >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func appendJunction(buf []byte, tail, sep, head []rune) []byte {
	for _, part := range [][]rune{tail, sep, head} {
		for _, r := range part {
			buf = append(buf, byte(r))
		}
	}
	return buf
}

// IsWordTerm reports whether a term of SearchTerms is a word (ASCII
// letters and digits), the terms that a vocabulary lists.
func IsWordTerm(t string) bool {
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// IsJunctionTerm reports whether a term of SearchTerms is a junction of
// two words: ASCII, and not a word.
func IsJunctionTerm(t string) bool {
	return t != "" && t[0] < utf8.RuneSelf && !IsWordTerm(t)
}

// JunctionCondition is a junction of two words of the search text that
// the text does not fix to one term: its first word may be the end of a
// longer stored word (TailOpen: the stored term's first word ends with
// Tail), or its second the start of a longer one (HeadOpen: the stored
// term's second word starts with Head). Two short parts of words ("a b")
// each fit many stored words, their junction few.
type JunctionCondition struct {
	Tail, Sep, Head    string
	TailOpen, HeadOpen bool
}

// Matches reports whether the stored junction term j satisfies the
// condition.
func (c JunctionCondition) Matches(j string) bool {
	tail, sep, head := SplitJunction(j)
	if sep != c.Sep {
		return false
	}
	if c.TailOpen && !(len(tail) >= len(c.Tail) && tail[len(tail)-len(c.Tail):] == c.Tail) || !c.TailOpen && tail != c.Tail {
		return false
	}
	if c.HeadOpen {
		return len(head) >= len(c.Head) && head[:len(c.Head)] == c.Head
	}
	return head == c.Head
}

// SplitJunction returns the parts of a junction term: the end of its first
// word, the separator and the start of its second word.
func SplitJunction(j string) (tail, sep, head string) {
	i := 0
	for i < len(j) && isWordByte(j[i]) {
		i++
	}
	k := i
	for k < len(j) && !isWordByte(j[k]) {
		k++
	}
	return j[:i], j[i:k], j[k:]
}

func isWordByte(b byte) bool { return 'a' <= b && b <= 'z' || '0' <= b && b <= '9' }

// WordPart says which part of a stored word a word of the search text may
// be.
type WordPart int

// Word parts. A word inside the text is a whole stored word; the first
// word of a text that starts with it may be the end of a longer one, the
// last the start of one; a text that is one word may lie anywhere inside
// one.
const (
	WholeWord WordPart = iota
	WordSuffix
	WordPrefix
	WordInfix
)

// WordCondition is a word of the search text and the part of a stored
// word it must be.
type WordCondition struct {
	Word string
	Part WordPart
}

// Matches reports whether the stored word w satisfies the condition.
func (c WordCondition) Matches(w string) bool {
	switch c.Part {
	case WholeWord:
		return w == c.Word
	case WordPrefix:
		return len(w) >= len(c.Word) && w[:len(c.Word)] == c.Word
	case WordSuffix:
		return len(w) >= len(c.Word) && w[len(w)-len(c.Word):] == c.Word
	}
	return contains(w, c.Word)
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// SearchPlan is what every name that contains a text holds: all of Terms,
// for each of Words a stored word that satisfies it, and for each of
// Junctions a stored junction that satisfies it.
type SearchPlan struct {
	// Terms are index terms (characters, pairs, whole words, junctions).
	Terms []string
	// Positions are the terms of Terms each time it occurs in the text,
	// with its position there: a name holds the text at position p only
	// if it holds each of them at p + At (EachSearchTermAt).
	Positions []TermAt
	// Words are the words of the text that may be parts of stored words.
	Words []WordCondition
	// Junctions are the junctions of the text that Terms lacks because a
	// word beside them may be longer in the name.
	Junctions []JunctionCondition
}

// TermAt is a term of a search text and its position there, in
// characters.
type TermAt struct {
	Term string
	At   int
}

// Empty reports whether the plan requires nothing: the text has no letter,
// digit or character outside ASCII, and the index cannot answer it.
func (p SearchPlan) Empty() bool {
	return len(p.Terms) == 0 && len(p.Words) == 0 && len(p.Junctions) == 0
}

// PlanSearch returns the plan of the (trimmed) search text.
func PlanSearch(text string) SearchPlan {
	rs := foldRunes(nil, text)
	var p SearchPlan
	add := func(t string, at int) {
		p.Positions = append(p.Positions, TermAt{t, at})
		for _, o := range p.Terms {
			if o == t {
				return
			}
		}
		p.Terms = append(p.Terms, t)
	}
	prevStart, prevEnd := -1, -1 // the previous word of the text, rs[prevStart:prevEnd]
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r >= utf8.RuneSelf && i+1 < len(rs):
			add(string(rs[i:i+2]), i)
		case r >= utf8.RuneSelf && (i == 0 || rs[i-1] < utf8.RuneSelf):
			// The last character, not the second of a pair term.
			add(string(r), i)
		case isWordRune(r):
			j := i + 1
			for j < len(rs) && isWordRune(rs[j]) {
				j++
			}
			w := string(rs[i:j])
			open, end := i == 0, j == len(rs)
			switch {
			case open && end:
				p.Words = append(p.Words, WordCondition{w, WordInfix})
			case open:
				p.Words = append(p.Words, WordCondition{w, WordSuffix})
			case end:
				p.Words = append(p.Words, WordCondition{w, WordPrefix})
			default:
				add(w, i)
			}
			// The junction with the previous word, when the text fixes
			// its characters: the previous word's last three unless it
			// may be the end of a longer word (the text's first) and is
			// shorter; this word's first three unless it may be the start
			// of a longer one (the text's last) and is shorter.
			if prevEnd >= 0 && isJunctionSep(rs[prevEnd:i]) {
				from := max(prevStart, prevEnd-3)
				tailOpen, headOpen := prevStart == 0 && prevEnd-prevStart < 3, end && j-i < 3
				if !tailOpen && !headOpen {
					add(string(appendJunction(nil, rs[from:prevEnd], rs[prevEnd:i], rs[i:min(j, i+3)])), from)
				} else {
					p.Junctions = append(p.Junctions, JunctionCondition{
						Tail: string(rs[from:prevEnd]), Sep: string(rs[prevEnd:i]), Head: string(rs[i:min(j, i+3)]),
						TailOpen: tailOpen, HeadOpen: headOpen,
					})
				}
			}
			prevStart, prevEnd = i, j
			i = j - 1
		}
	}
	return p
}

func isWordRune(r rune) bool {
	return 'a' <= r && r <= 'z' || '0' <= r && r <= '9'
}

// foldRunes appends the runes of s to rs, each replaced by the least rune
// of its simple folding orbit and ASCII letters by their lower case.
// Invalid UTF-8 gives utf8.RuneError, which folds to itself.
func foldRunes(rs []rune, s string) []rune {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			rs = append(rs, r)
			continue
		}
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		if 'A' <= m && m <= 'Z' {
			m += 'a' - 'A'
		}
		rs = append(rs, m)
	}
	return rs
}
