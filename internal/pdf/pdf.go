// Package pdf finds the pictures and links inside a PDF without rendering
// it: a scan for image streams (JPEG kept byte for byte, as pdfimages -all
// does, so that a known JPEG stays known; 8-bit grey and RGB pixels made
// PNG) and for URI actions, compressed object streams included. A PDF is
// hostile input: everything happens in memory, on the bytes already
// fetched, and every decompression is capped, so work and memory stay
// bounded whatever the file says.
package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Limits bound a scan. Zero fields take the defaults.
type Limits struct {
	MaxImages int   // default 5000
	MaxBytes  int64 // decompressed bytes of one stream; default 64 MiB
	MaxTotal  int64 // decompressed bytes of all streams; default 1 GiB
	MaxPixels int64 // pixels of one raw image; default 50 million
}

func (l Limits) withDefaults() Limits {
	if l.MaxImages <= 0 {
		l.MaxImages = 5000
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 64 << 20
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = 1 << 30
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = 50_000_000
	}
	return l
}

// Image is a picture found in a PDF: Data is a JPEG or a PNG, or nil with
// Reason saying why it could not be had (an encoding not supported, a
// limit).
type Image struct {
	Name   string // "obj-12.jpg": the object that holds it
	Data   []byte
	Reason string
}

// Result is what a scan found.
type Result struct {
	Images []Image
	Links  []string
	// Truncated says why the scan stopped early ("" when it did not).
	Truncated string
}

var (
	objRe   = regexp.MustCompile(`(\d+)\s+(\d+)\s+obj\b`)
	uriRe   = regexp.MustCompile(`/URI\s*\(((?:\\.|[^\\)])*)\)`)
	imageRe = regexp.MustCompile(`/Subtype\s*/Image\b`)
)

// ErrNotPDF is returned for data that does not start like a PDF.
var ErrNotPDF = errors.New("pdf: not a PDF")

// Scan finds the images and links in a PDF.
func Scan(data []byte, lim Limits) (res *Result, err error) {
	defer func() {
		// Bounded by construction; a parser bug on a hostile file must
		// still not take a worker down.
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("pdf: malformed: %v", r)
		}
	}()
	lim = lim.withDefaults()
	if !bytes.HasPrefix(bytes.TrimLeft(data[:min(len(data), 1024)], "\x00\t\r\n "), []byte("%PDF-")) {
		return nil, ErrNotPDF
	}
	res = &Result{}
	var total int64
	links := map[string]bool{}
	addLinks := func(b []byte) {
		for _, m := range uriRe.FindAllSubmatch(b, -1) {
			u := unescape(m[1])
			if len(links) < 10000 && !links[u] && (strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) {
				links[u] = true
				res.Links = append(res.Links, u)
			}
		}
	}
	addLinks(data)
	for _, loc := range objRe.FindAllSubmatchIndex(data, -1) {
		num := string(data[loc[2]:loc[3]])
		rest := skipSpace(data[loc[1]:])
		if !bytes.HasPrefix(rest, []byte("<<")) {
			continue
		}
		dictEnd := matchDict(rest)
		if dictEnd < 0 {
			continue
		}
		dict := rest[:dictEnd]
		body, ok := streamBody(rest[dictEnd:], dict)
		if !ok {
			continue
		}
		d := string(dict)
		filters := names(d, "/Filter")
		switch {
		case strings.Contains(d, "/ObjStm"):
			// Compressed objects: dictionaries with links hide here.
			if b, err := decode(body, filters, lim.MaxBytes); err == nil {
				total += int64(len(b))
				addLinks(b)
			}
		case imageRe.MatchString(d):
			if len(res.Images) >= lim.MaxImages {
				res.Truncated = fmt.Sprintf("too_many_entries: more than %d images", lim.MaxImages)
				return res, nil
			}
			img := image1(num, d, body, filters, lim)
			total += int64(len(img.Data))
			res.Images = append(res.Images, img)
		}
		if total > lim.MaxTotal {
			res.Truncated = fmt.Sprintf("too_large: streams decompress to more than %d bytes", lim.MaxTotal)
			return res, nil
		}
	}
	return res, nil
}

// image1 extracts one image stream.
func image1(num, d string, body []byte, filters []string, lim Limits) Image {
	img := Image{Name: "obj-" + num}
	last := ""
	if len(filters) > 0 {
		last = filters[len(filters)-1]
	}
	switch last {
	case "DCTDecode":
		img.Name += ".jpg"
		b, err := decode(body, filters[:len(filters)-1], lim.MaxBytes)
		if err != nil {
			img.Reason = err.Error()
			return img
		}
		img.Data = bytes.Clone(b)
		return img
	case "FlateDecode", "":
	default:
		img.Reason = "unsupported: image encoded with " + last
		return img
	}
	img.Name += ".png"
	w, h, bpc := number(d, "/Width"), number(d, "/Height"), number(d, "/BitsPerComponent")
	cs := names(d, "/ColorSpace")
	comps := map[string]int{"DeviceRGB": 3, "DeviceGray": 1}[strings.Join(cs, ",")]
	switch {
	case w <= 0 || h <= 0 || int64(w)*int64(h) > lim.MaxPixels:
		img.Reason = fmt.Sprintf("too_large: %d×%d pixels", w, h)
		return img
	case comps == 0 || bpc != 8 || strings.Contains(d, "/Predictor") || strings.Contains(d, "/Decode["):
		img.Reason = fmt.Sprintf("unsupported: raw image in %v, %d bits", cs, bpc)
		return img
	}
	want := int64(w) * int64(h) * int64(comps)
	if want > lim.MaxBytes {
		img.Reason = fmt.Sprintf("too_large: %d bytes of pixels, limit %d", want, lim.MaxBytes)
		return img
	}
	b, err := decode(body, filters, want)
	if err != nil || int64(len(b)) < want {
		img.Reason = fmt.Sprintf("malformed: image data short of %d bytes", want)
		return img
	}
	var m image.Image
	if comps == 1 {
		m = &image.Gray{Pix: b[:want], Stride: w, Rect: image.Rect(0, 0, w, h)}
	} else {
		rgba := image.NewNRGBA(image.Rect(0, 0, w, h))
		for i, j := 0, 0; i < int(want); i, j = i+3, j+4 {
			rgba.Pix[j], rgba.Pix[j+1], rgba.Pix[j+2], rgba.Pix[j+3] = b[i], b[i+1], b[i+2], 255
		}
		m = rgba
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		img.Reason = "malformed: " + err.Error()
		return img
	}
	img.Data = buf.Bytes()
	return img
}

// decode undoes filters (only FlateDecode is supported before the last),
// capped at max bytes.
func decode(b []byte, filters []string, max int64) ([]byte, error) {
	for _, f := range filters {
		if f != "FlateDecode" {
			return nil, fmt.Errorf("unsupported: filter %s", f)
		}
		zr, err := zlib.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("malformed: %w", err)
		}
		out, err := io.ReadAll(io.LimitReader(zr, max+1))
		if int64(len(out)) > max {
			return out[:max], nil // enough for what the caller expects
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("malformed: %w", err)
		}
		b = out
	}
	return b, nil
}

func skipSpace(b []byte) []byte { return bytes.TrimLeft(b, " \t\r\n\f\x00") }

// matchDict returns the length of the dictionary at the start of b (up to
// and including its closing >>), or -1; strings are skipped.
func matchDict(b []byte) int {
	depth := 0
	for i := 0; i < len(b) && i < 1<<16; i++ {
		switch {
		case b[i] == '(':
			lvl := 0
			for ; i < len(b); i++ {
				if b[i] == '\\' {
					i++
					continue
				}
				if b[i] == '(' {
					lvl++
				} else if b[i] == ')' {
					if lvl--; lvl == 0 {
						break
					}
				}
			}
		case i+1 < len(b) && b[i] == '<' && b[i+1] == '<':
			depth++
			i++
		case i+1 < len(b) && b[i] == '>' && b[i+1] == '>':
			depth--
			i++
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// streamBody returns the stream after a dictionary: its declared /Length
// when direct and plausible, else up to "endstream".
func streamBody(after []byte, dict []byte) ([]byte, bool) {
	a := skipSpace(after)
	if !bytes.HasPrefix(a, []byte("stream")) {
		return nil, false
	}
	a = a[len("stream"):]
	if bytes.HasPrefix(a, []byte("\r\n")) {
		a = a[2:]
	} else if bytes.HasPrefix(a, []byte("\n")) || bytes.HasPrefix(a, []byte("\r")) {
		a = a[1:]
	}
	if m := lengthRe.FindSubmatch(dict); m != nil {
		if n, err := strconv.Atoi(string(m[1])); err == nil && n >= 0 && n <= len(a) &&
			bytes.HasPrefix(skipSpace(a[n:]), []byte("endstream")) {
			return a[:n], true
		}
	}
	i := bytes.Index(a, []byte("endstream"))
	if i < 0 {
		return nil, false
	}
	return bytes.TrimRight(a[:i], "\r\n"), true
}

var lengthRe = regexp.MustCompile(`/Length\s+(\d+)(?:\s*[/>])`)

// names returns the name or array of names after key.
func names(d, key string) []string {
	i := strings.Index(d, key)
	if i < 0 {
		return nil
	}
	s := strings.TrimLeft(d[i+len(key):], " \t\r\n")
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return nil
		}
		var out []string
		for _, f := range strings.Fields(strings.ReplaceAll(s[1:end], "/", " /")) {
			out = append(out, strings.TrimPrefix(f, "/"))
		}
		return out
	}
	if !strings.HasPrefix(s, "/") {
		return []string{"?"} // indirect or otherwise unknown
	}
	s = s[1:]
	end := strings.IndexAny(s, " \t\r\n/[]<>()")
	if end < 0 {
		end = len(s)
	}
	return []string{s[:end]}
}

func number(d, key string) int {
	m := regexp.MustCompile(regexp.QuoteMeta(key) + `\s+(\d+)`).FindStringSubmatch(d)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// unescape undoes a PDF literal string's backslash escapes.
func unescape(b []byte) string {
	var out strings.Builder
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) {
			i++
			switch b[i] {
			case 'n', 'r', 't', 'b', 'f':
				continue
			}
		}
		out.WriteByte(b[i])
	}
	return strings.TrimSpace(out.String())
}
