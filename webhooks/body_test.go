package webhooks

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// TestReadBodyReadsWhatIoReadAllReads holds readBody to io.ReadAll's
// reading for bodies shorter, longer and as long as announced, arriving a
// byte at a time or failing (the error, then), and to one allocation of
// the announced size.
func TestReadBodyReadsWhatIoReadAllReads(t *testing.T) {
	body := bytes.Repeat([]byte(`{"a":"b"}`), 400) // 3,600 bytes
	for _, c := range []struct {
		name      string
		announced int64
		reader    func() io.Reader
	}{
		{"announced", int64(len(body)), func() io.Reader { return bytes.NewReader(body) }},
		{"announced, a byte at a time", int64(len(body)), func() io.Reader { return iotest.OneByteReader(bytes.NewReader(body)) }},
		{"shorter than announced", int64(len(body)) + 100, func() io.Reader { return bytes.NewReader(body) }},
		{"longer than announced", 10, func() io.Reader { return bytes.NewReader(body) }},
		{"not announced", -1, func() io.Reader { return bytes.NewReader(body) }},
		{"announced beyond the presized bound", presizedBody + 1, func() io.Reader { return bytes.NewReader(body) }},
		{"empty", 0, func() io.Reader { return bytes.NewReader(nil) }},
		{"failing", int64(len(body)), func() io.Reader { return iotest.TimeoutReader(bytes.NewReader(body)) }},
		{"failing at once", int64(len(body)), func() io.Reader { return iotest.ErrReader(io.ErrUnexpectedEOF) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			want, wantErr := io.ReadAll(c.reader())
			got, err := readBody(c.reader(), c.announced)
			// On an error the body is refused, whatever part of it was read.
			if !errors.Is(err, wantErr) || (err == nil && !bytes.Equal(got, want)) {
				t.Fatalf("readBody: %d bytes, %v; io.ReadAll: %d bytes, %v", len(got), err, len(want), wantErr)
			}
		})
	}
	got, err := readBody(bytes.NewReader(body), int64(len(body)))
	if err != nil || cap(got) != len(body)+1 {
		t.Fatalf("an announced body is read into one buffer of its length and one byte: cap %d for %d bytes (%v)", cap(got), len(body), err)
	}
	rd := bytes.NewReader(body)
	if n := testing.AllocsPerRun(20, func() { rd.Reset(body); _, _ = readBody(rd, int64(len(body))) }); n > 1 {
		t.Errorf("an announced body takes %v allocations, want 1", n)
	}
}
