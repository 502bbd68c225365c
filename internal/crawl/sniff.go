package crawl

import (
	"bytes"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/vigil-hotline/vigil/internal/archive"
)

// Class is the broad kind of a fetched body.
type Class string

// Classes of content.
const (
	ClassImage Class = "image"
	ClassVideo Class = "video"
	ClassHTML  Class = "html"
	ClassOther Class = "other"
	// ClassArchive (ZIP, RAR, 7z, tar, gzip) and ClassDocument (PDF) are
	// containers: what they hold is extracted and matched item by item.
	ClassArchive  Class = "archive"
	ClassDocument Class = "document"
)

// Sniff returns the media type and class of a body judged from its bytes
// alone: extensions and Content-Type headers lie, and a hotline must not
// miss an image served as text/plain.
func Sniff(b []byte) (mime string, class Class) {
	if len(b) == 0 {
		return "", ClassOther
	}
	mime = sniffExtra(b)
	if mime == "" {
		mime, _, _ = strings.Cut(http.DetectContentType(b), ";")
		root := ""
		if strings.HasPrefix(mime, "text/") {
			root = rootElement(b)
		}
		switch {
		case root == "svg":
			mime = "image/svg+xml"
		case root == "html" && mime != "text/html":
			mime = "text/html" // XHTML served with an XML declaration
		case mime == "image/bmp":
			// DetectContentType calls anything starting "BM" a
			// bitmap; sniffExtra has already accepted real ones.
			mime = "application/octet-stream"
			if head := b[:min(len(b), 512)]; utf8.Valid(head) && !bytes.ContainsFunc(head, isControl) {
				mime = "text/plain"
			}
		}
	}
	return mime, classOf(mime)
}

func classOf(mime string) Class {
	switch {
	case strings.HasPrefix(mime, "image/"):
		return ClassImage
	case strings.HasPrefix(mime, "video/"):
		return ClassVideo
	case mime == "text/html":
		return ClassHTML
	case mime == "application/pdf":
		return ClassDocument
	case archiveMIMEs[mime]:
		return ClassArchive
	}
	return ClassOther
}

// archiveMIMEs are the media types sniffExtra gives containers.
var archiveMIMEs = map[string]bool{
	archive.ZIP.MIME(): true, archive.RAR.MIME(): true, archive.SevenZip.MIME(): true,
	archive.Tar.MIME(): true, archive.Gzip.MIME(): true,
}

// sniffExtra recognises formats http.DetectContentType misses or reports
// too vaguely.
func sniffExtra(b []byte) string {
	if f := archive.Detect(b); f != "" {
		return f.MIME()
	}
	has := func(off int, sig string) bool {
		return len(b) >= off+len(sig) && string(b[off:off+len(sig)]) == sig
	}
	switch {
	case has(0, "RIFF") && has(8, "WEBP"):
		return "image/webp"
	case has(0, "RIFF") && has(8, "AVI "):
		return "video/x-msvideo"
	case has(0, "BM") && len(b) >= 26 && bmpPlausible(b):
		return "image/bmp"
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		return "image/tiff"
	case has(0, "\xff\x0a"), has(0, "\x00\x00\x00\x0cJXL \x0d\x0a\x87\x0a"):
		return "image/jxl"
	case has(4, "ftyp"):
		return ftypMIME(b)
	case has(0, "\x1a\x45\xdf\xa3"):
		// Matroska and WebM share the EBML header; the doctype says
		// which.
		if bytes.Contains(b[:min(len(b), 64)], []byte("webm")) {
			return "video/webm"
		}
		return "video/x-matroska"
	case has(0, "FLV\x01"):
		return "video/x-flv"
	case has(0, "\x00\x00\x01\xba"), has(0, "\x00\x00\x01\xb3"):
		return "video/mpeg"
	case has(0, "\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
		return "video/x-ms-asf"
	case has(0, "OggS") && bytes.Contains(b[:min(len(b), 64)], []byte("theora")):
		return "video/ogg"
	}
	return ""
}

// bmpPlausible checks the DIB header size, so that text starting with "BM"
// is not called an image.
func bmpPlausible(b []byte) bool {
	size := uint32(b[14]) | uint32(b[15])<<8 | uint32(b[16])<<16 | uint32(b[17])<<24
	switch size {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// ftypMIME classifies ISO base media files by their major brand: HEIF and
// AVIF are images, the rest video.
func ftypMIME(b []byte) string {
	if len(b) < 12 {
		return "video/mp4"
	}
	switch brand := string(b[8:12]); brand {
	case "avif", "avis":
		return "image/avif"
	case "heic", "heix", "heim", "heis", "mif1", "msf1":
		return "image/heic"
	case "qt  ":
		return "video/quicktime"
	case "3gp4", "3gp5", "3gp6", "3g2a":
		return "video/3gpp"
	}
	return "video/mp4"
}

func isControl(r rune) bool { return r < 0x20 && r != '\n' && r != '\r' && r != '\t' }

// rootElement returns the lower-cased local name of a markup document's
// first element, after any byte-order mark, XML declaration, processing
// instructions, comments and doctype; "" when the first kilobytes hold no
// element. Only the root decides: an HTML page with an inline <svg> icon is
// a page, whose links and pictures must be followed (a site could
// otherwise hide its gallery behind one icon), and an SVG document's root
// is svg.
func rootElement(b []byte) string {
	s := string(b[:min(len(b), 4096)])
	s = strings.TrimPrefix(s, "\ufeff")
	for {
		s = strings.TrimLeft(s, " \t\r\n\f")
		switch {
		case strings.HasPrefix(s, "<?"):
			_, s, _ = strings.Cut(s, "?>")
		case strings.HasPrefix(s, "<!--"):
			_, s, _ = strings.Cut(s, "-->")
		case strings.HasPrefix(s, "<!"):
			_, s, _ = strings.Cut(s, ">")
		case strings.HasPrefix(s, "<"):
			name := s[1:]
			if i := strings.IndexAny(name, " \t\r\n\f/>"); i >= 0 {
				name = name[:i]
			}
			if _, local, ok := strings.Cut(name, ":"); ok {
				name = local // svg:svg
			}
			return asciiLower(name)
		default:
			return ""
		}
	}
}
