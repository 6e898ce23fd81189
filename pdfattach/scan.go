package pdfattach

import (
	"bytes"
	"cmp"
	"slices"
	"strconv"
)

// scan reads every "n g obj ... endobj" of the file in order; a later
// definition of a number replaces an earlier one, as incremental updates
// do. The cross-reference tables are not needed for that, and a damaged
// one does not stop the reading. Streams with a direct /Length are
// skipped over, so their content is never mistaken for objects.
func (f *file) scan() {
	p := &parser{b: f.b}
	for p.i < len(f.b) && len(f.objs) < maxObjects {
		num, pos, ok := p.nextObjHeader()
		if !ok {
			break
		}
		v, err := p.value(0)
		if err != nil {
			continue
		}
		o := &object{value: v, pos: pos, streamAt: -1}
		p.skipSpace()
		if p.hasPrefix("stream") {
			p.i += len("stream")
			if p.hasPrefix("\r\n") {
				p.i += 2
			} else if p.hasPrefix("\n") || p.hasPrefix("\r") {
				p.i++
			}
			start := p.i
			n := -1
			if d, ok := v.(dict); ok {
				if l, ok := d["Length"].(int); ok {
					n = l
				}
			}
			// Only a few bytes after the data are looked at: white space
			// from outside must not make every stream scan it again.
			if n >= 0 && n <= len(f.b)-start && bytes.HasPrefix(bytes.TrimLeft(f.b[start+n:min(len(f.b), start+n+32)], "\r\n \t"), []byte("endstream")) {
				o.stream = f.b[start : start+n]
				p.i = start + n
			} else {
				o.streamAt = start
				end := bytes.Index(f.b[start:], []byte("endstream"))
				if end < 0 {
					f.objs[num] = o
					break
				}
				p.i = start + end
			}
		}
		f.objs[num] = o
	}
}

// expandObjectStreams adds the objects held in object streams (/Type
// /ObjStm, PDF 1.5), each at the position of its stream, so that a later
// definition still wins over it and it over an earlier one.
func (f *file) expandObjectStreams() {
	type objStm struct {
		num int
		o   *object
	}
	var streams []objStm
	for num, o := range f.objs {
		if d, ok := o.value.(dict); ok && d["Type"] == name("ObjStm") {
			streams = append(streams, objStm{num, o})
		}
	}
	slices.SortFunc(streams, func(a, b objStm) int { return cmp.Compare(a.o.pos, b.o.pos) })
	// read counts the objects taken from object streams, parsed the bytes
	// parsed for them: offsets from outside may point many entries at one
	// large object, which must not be parsed again and again.
	read, parsed := 0, 0
	for _, s := range streams {
		d := s.o.value.(dict)
		n, _ := f.resolve(d["N"]).(int)
		first, _ := f.resolve(d["First"]).(int)
		if n <= 0 || first <= 0 || read+n > maxObjects {
			continue
		}
		data, err := f.streamData(s.o, maxInflated)
		if err != nil || first > len(data) {
			continue
		}
		read += n
		// The header: n pairs "object-number offset", offsets relative
		// to First.
		h := &parser{b: data[:first]}
		for range n {
			num, ok1 := h.int()
			off, ok2 := h.int()
			if !ok1 || !ok2 {
				break
			}
			if off < 0 || off > len(data)-first || num == s.num {
				continue
			}
			if old := f.objs[num]; old != nil && old.pos > s.o.pos {
				continue
			}
			p := &parser{b: data, i: first + off}
			v, err := p.value(0)
			if parsed += p.i - (first + off); parsed > maxParsed {
				return
			}
			if err != nil {
				continue
			}
			f.objs[num] = &object{value: v, pos: s.o.pos, streamAt: -1}
		}
	}
}

// int reads a non-negative integer token.
func (p *parser) int() (int, bool) {
	p.skipSpace()
	start := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' && p.i-start < 10 {
		p.i++
	}
	n, err := strconv.Atoi(string(p.b[start:p.i]))
	return n, err == nil
}
