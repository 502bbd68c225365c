package pdf_test

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image/png"
	"testing"

	"github.com/vigil-hotline/vigil/internal/pdf"
	"github.com/vigil-hotline/vigil/internal/simnet"
)

func TestScan(t *testing.T) {
	im := simnet.NewImages(96, 64)
	var jpegs [][]byte
	for _, s := range simnet.PDFJPEGs {
		b, err := im.Bytes(s, simnet.Variant{})
		if err != nil {
			t.Fatal(err)
		}
		jpegs = append(jpegs, b)
	}
	doc := simnet.PDF(jpegs, im.Render(simnet.PDFRaw), "https://files.example/from-pdf")
	res, err := pdf.Scan(doc, pdf.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 3 || res.Truncated != "" {
		t.Fatalf("images %d (%s)", len(res.Images), res.Truncated)
	}
	for i, j := range jpegs {
		if !bytes.Equal(res.Images[i].Data, j) {
			t.Errorf("JPEG %d not kept byte for byte (%s)", i, res.Images[i].Reason)
		}
	}
	m, err := png.Decode(bytes.NewReader(res.Images[2].Data))
	if err != nil || m.Bounds().Dx() != 96 || m.Bounds().Dy() != 64 {
		t.Errorf("raw image: %v, %v (%s)", m, err, res.Images[2].Reason)
	}
	if len(res.Links) != 1 || res.Links[0] != "https://files.example/from-pdf" {
		t.Errorf("links %v", res.Links)
	}
}

// TestHostile: a PDF's claims are bounded: a raw image too big, a flate
// bomb, an object stream with a link, not a PDF at all.
func TestHostile(t *testing.T) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(make([]byte, 32<<20))
	_ = zw.Close()
	var objs bytes.Buffer
	zw = zlib.NewWriter(&objs)
	_, _ = zw.Write([]byte("<< /A << /S /URI /URI (https://x.example/a\\)b) >> >>"))
	_ = zw.Close()
	doc := fmt.Sprintf("%%PDF-1.5\n1 0 obj\n<< /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n"+
		"2 0 obj\n<< /Subtype /Image /Width 4096 /Height 4096 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n"+
		"3 0 obj\n<< /Type /ObjStm /N 1 /First 0 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n"+
		"4 0 obj\n<< /Subtype /Image /Width 10 /Height 10 /Filter /JPXDecode /Length 3 >>\nstream\nabc\nendstream\nendobj\n",
		z.Len(), z.String(), z.Len(), z.String(), objs.Len(), objs.String())
	res, err := pdf.Scan([]byte(doc), pdf.Limits{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 3 || res.Images[0].Data != nil || res.Images[1].Data != nil || res.Images[2].Data != nil {
		t.Fatalf("images %+v", res.Images)
	}
	for _, im := range res.Images {
		t.Logf("%s: %s", im.Name, im.Reason)
		if im.Reason == "" {
			t.Errorf("%s without a reason", im.Name)
		}
	}
	if len(res.Links) != 1 || res.Links[0] != "https://x.example/a)b" {
		t.Errorf("links %v", res.Links)
	}
	if _, err := pdf.Scan([]byte("<html>"), pdf.Limits{}); err != pdf.ErrNotPDF {
		t.Errorf("not a PDF: %v", err)
	}
}
