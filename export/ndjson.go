package export

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/audittrail/audittrail"
)

// NDJSONEncoder writes one record per line, each exactly the API's JSON of
// the record. It has no header.
type NDJSONEncoder struct {
	buf *bufio.Writer
	enc *json.Encoder
}

// NewNDJSONEncoder returns an encoder writing to w.
func NewNDJSONEncoder(w io.Writer) *NDJSONEncoder {
	buf := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return &NDJSONEncoder{buf: buf, enc: enc}
}

// Encode writes one record and a newline.
func (e *NDJSONEncoder) Encode(r *audittrail.Record) error { return e.enc.Encode(r.JSONValue()) }

// Close flushes the lines.
func (e *NDJSONEncoder) Close() error { return e.buf.Flush() }

// Flush pushes the lines written so far to the writer.
func (e *NDJSONEncoder) Flush() error { return e.buf.Flush() }
