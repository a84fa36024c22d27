package export

import (
	"bufio"
	"io"

	"github.com/audittrail/audittrail"
)

// NDJSONEncoder writes one record per line, each exactly the API's JSON of
// the record. It has no header.
type NDJSONEncoder struct {
	buf  *bufio.Writer
	line []byte
}

// NewNDJSONEncoder returns an encoder writing to w.
func NewNDJSONEncoder(w io.Writer) *NDJSONEncoder {
	return &NDJSONEncoder{buf: bufio.NewWriterSize(w, 64<<10)}
}

// Encode writes one record and a newline.
func (e *NDJSONEncoder) Encode(r *audittrail.Record) error {
	e.line = append(r.AppendJSON(e.line[:0]), '\n')
	_, err := e.buf.Write(e.line)
	return err
}

// Close flushes the lines.
func (e *NDJSONEncoder) Close() error { return e.buf.Flush() }

// Flush pushes the lines written so far to the writer.
func (e *NDJSONEncoder) Flush() error { return e.buf.Flush() }
