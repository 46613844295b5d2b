package live

import (
	"bytes"
	"strconv"
	"strings"
)

// AppendMessage appends one server-sent event to b: its name, id, and its
// data as one data line per line (a line break in the data cannot end the
// message early, nor can one in the name add a field).
func AppendMessage(b []byte, name string, id int64, data []byte) []byte {
	b = append(b, "event: "...)
	b = append(b, noLineBreaks(name)...)
	b = append(b, "\nid: "...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, '\n')
	for {
		i := lineBreak(data)
		if i < 0 {
			break
		}
		b = append(append(append(b, "data: "...), data[:i]...), '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	b = append(append(append(b, "data: "...), data...), '\n')
	return append(b, '\n')
}

// AppendTo appends e as an SSE message with the stream's cursor as its id:
// a journal event's id is its own (and its message is encoded once for all
// streams), another event carries the cursor, so that a browser's
// Last-Event-ID always names a journal position.
func (e Event) AppendTo(b []byte, cursor int64) []byte {
	if e.frame != nil && e.ID == cursor {
		return append(b, e.frame...)
	}
	return AppendMessage(b, e.EventName(), cursor, e.Data)
}

// lineBreak returns the index of the first CR or LF in b, or -1.
func lineBreak(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if j := bytes.IndexByte(b, '\r'); j >= 0 && (i < 0 || j < i) {
		return j
	}
	return i
}

func noLineBreaks(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return lineBreaks.Replace(s)
}

var lineBreaks = strings.NewReplacer("\r", "", "\n", "")
