package crawl

import (
	"bytes"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

func TestSniff(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	enc := func(f func(*bytes.Buffer) error) []byte {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	jpg := enc(func(b *bytes.Buffer) error { return jpeg.Encode(b, img, nil) })
	pngB := enc(func(b *bytes.Buffer) error { return png.Encode(b, img) })
	gifB := enc(func(b *bytes.Buffer) error { return gif.Encode(b, img, nil) })
	bmp := append([]byte("BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00"), make([]byte, 40)...)
	cases := []struct {
		name  string
		body  []byte
		mime  string
		class Class
	}{
		{"jpeg", jpg, "image/jpeg", ClassImage},
		{"png", pngB, "image/png", ClassImage},
		{"gif", gifB, "image/gif", ClassImage},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), "image/webp", ClassImage},
		{"bmp", bmp, "image/bmp", ClassImage},
		{"text BM", []byte("BMW drivers club, welcome to our page"), "text/plain", ClassOther},
		{"tiff le", []byte("II*\x00\x08\x00\x00\x00"), "image/tiff", ClassImage},
		{"tiff be", []byte("MM\x00*\x00\x00\x00\x08"), "image/tiff", ClassImage},
		{"avif", []byte("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00"), "image/avif", ClassImage},
		{"heic", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), "image/heic", ClassImage},
		{"mp4", []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41"), "video/mp4", ClassVideo},
		{"mov", []byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00"), "video/quicktime", ClassVideo},
		{"webm", []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm"), "video/webm", ClassVideo},
		{"mkv", []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska"), "video/x-matroska", ClassVideo},
		{"avi", []byte("RIFF\x00\x00\x00\x00AVI LIST"), "video/x-msvideo", ClassVideo},
		{"flv", []byte("FLV\x01\x05\x00\x00\x00\x09"), "video/x-flv", ClassVideo},
		{"html", []byte("<!DOCTYPE html><html><body>hi"), "text/html", ClassHTML},
		{"svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`), "image/svg+xml", ClassImage},
		{"text", []byte("just words"), "text/plain", ClassOther},
		{"zeros", make([]byte, 100), "application/octet-stream", ClassOther},
		{"empty", nil, "", ClassOther},
	}
	for _, c := range cases {
		mime, class := Sniff(c.body)
		if mime != c.mime || class != c.class {
			t.Errorf("%s: Sniff = %q %q, want %q %q", c.name, mime, class, c.mime, c.class)
		}
	}
}
