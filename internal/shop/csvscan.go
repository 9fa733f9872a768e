package shop

import (
	"bufio"
	"io"
)

// MaxFieldBytes is how much of one CSV field an import keeps: far more than
// any valid field needs (a 200-character name is at most 800 bytes of UTF-8).
// A longer field is read to its end without being kept and reported as too
// long, so a field of any size costs at most this much memory.
const MaxFieldBytes = 1024

// csvField is one field as read: its first MaxFieldBytes bytes and its length.
type csvField struct {
	b []byte
	n int64
}

// csvScanner reads CSV records (RFC 4180, as encoding/csv reads them: quoted
// fields, "" for a quote, CRLF or LF, empty lines skipped, no lazy quotes)
// in bounded memory: at most maxFields fields of at most MaxFieldBytes each
// are kept, whatever the length of a field or a record.
type csvScanner struct {
	br        *bufio.Reader
	line      int // physical lines fully read
	maxFields int
	fields    []csvField // the record's kept fields
	nfields   int        // fields in the record, kept or not
	start     int        // line the record starts on
	quoteErr  bool       // the record has a stray or unbalanced quote
	state     int
	pendingCR bool
	started   bool // the record has at least one byte
	done      bool
}

const (
	stStart  = iota // at the start of a field
	stUnq           // in an unquoted field
	stQ             // in a quoted field
	stQQ            // a quote inside a quoted field: the end, or the first of ""
	stSkip          // after a quote error: skip to the end of the line
	stRecEnd        // the record is complete
)

func newCSVScanner(br *bufio.Reader, maxFields int) *csvScanner {
	return &csvScanner{br: br, maxFields: maxFields}
}

// next reads one record. It returns false at the end of the input; err is a
// failure to read the input at all.
func (s *csvScanner) next() (more bool, err error) {
	if s.done {
		return false, nil
	}
	for i := range s.fields {
		s.fields[i].b, s.fields[i].n = s.fields[i].b[:0], 0
	}
	s.nfields, s.quoteErr, s.state, s.started = 0, false, stStart, false
	s.start = s.line + 1
	s.openField()
	for {
		chunk, rerr := s.br.ReadSlice('\n')
		if rerr != nil && rerr != bufio.ErrBufferFull && rerr != io.EOF {
			return false, rerr
		}
		s.feed(chunk)
		if s.state == stRecEnd {
			return true, nil
		}
		if rerr == io.EOF {
			s.done = true
			s.pendingCR = false // a CR just before the end is dropped
			switch s.state {
			case stStart:
				if !s.started {
					return false, nil
				}
			case stQ:
				s.quoteErr = true
			}
			return true, nil
		}
	}
}

// feed runs the bytes of one chunk (which ends at a newline, the end of the
// buffer or the end of the input) through the state machine.
func (s *csvScanner) feed(chunk []byte) {
	for i := 0; i < len(chunk); i++ {
		c := chunk[i]
		if s.pendingCR {
			s.pendingCR = false
			if c != '\n' {
				s.byte('\r')
			}
		}
		if c == '\r' {
			if i+1 < len(chunk) {
				if chunk[i+1] == '\n' {
					continue // CRLF reads as LF
				}
			} else {
				s.pendingCR = true
				continue
			}
		}
		if s.state == stUnq || s.state == stQ {
			// Fast path: copy a run of ordinary bytes at once.
			j := i
			for ; j < len(chunk); j++ {
				if b := chunk[j]; b == '"' || b == '\n' || b == '\r' || (b == ',' && s.state == stUnq) {
					break
				}
			}
			if j > i {
				s.appendBytes(chunk[i:j])
				i = j - 1
				continue
			}
		}
		s.byte(c)
		if s.state == stRecEnd {
			return // a record ends only at a newline: the last byte of a chunk
		}
	}
}

func (s *csvScanner) byte(c byte) {
	if c == '\n' {
		s.line++
	}
	if !s.started && c != '\n' {
		s.started = true
	}
	switch s.state {
	case stStart:
		switch c {
		case '"':
			s.state = stQ
		case ',':
			s.openField()
		case '\n':
			if s.started || s.nfields > 1 {
				s.state = stRecEnd
			} else {
				s.start = s.line + 1 // an empty line: skipped
			}
		default:
			s.state = stUnq
			s.appendByte(c)
		}
	case stUnq:
		switch c {
		case ',':
			s.openField()
			s.state = stStart
		case '\n':
			s.state = stRecEnd
		case '"':
			s.quoteErr = true
			s.state = stSkip
		default:
			s.appendByte(c)
		}
	case stQ:
		if c == '"' {
			s.state = stQQ
		} else {
			s.appendByte(c)
		}
	case stQQ:
		switch c {
		case '"':
			s.appendByte('"')
			s.state = stQ
		case ',':
			s.openField()
			s.state = stStart
		case '\n':
			s.state = stRecEnd
		default:
			s.quoteErr = true
			s.state = stSkip
		}
	case stSkip:
		if c == '\n' {
			s.state = stRecEnd
		}
	}
}

func (s *csvScanner) openField() {
	s.nfields++
	if s.nfields <= s.maxFields && s.nfields > len(s.fields) {
		s.fields = append(s.fields, csvField{b: make([]byte, 0, 64)})
	}
}

func (s *csvScanner) cur() *csvField {
	if s.nfields > s.maxFields {
		return nil
	}
	return &s.fields[s.nfields-1]
}

func (s *csvScanner) appendByte(c byte) {
	if f := s.cur(); f != nil {
		if len(f.b) < MaxFieldBytes {
			f.b = append(f.b, c)
		}
		f.n++
	}
}

func (s *csvScanner) appendBytes(b []byte) {
	if f := s.cur(); f != nil {
		if room := MaxFieldBytes - len(f.b); room > 0 {
			f.b = append(f.b, b[:min(room, len(b))]...)
		}
		f.n += int64(len(b))
	}
}

// field returns the kept bytes of field i and whether the field was cut.
func (s *csvScanner) field(i int) (string, bool) {
	f := &s.fields[i]
	return string(f.b), f.n > int64(len(f.b))
}
