package simnet

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
)

// PDF seeds: PDFJPEGs are embedded as JPEG (DCTDecode) streams, byte for
// byte what /img/SEED.jpg serves; PDFRaw as raw RGB pixels (FlateDecode).
// The PDF's link leads to /from-pdf on files.example, which shows
// PDFLinkedSeed.
var (
	PDFJPEGs      = []uint64{9501, 9502}
	PDFRaw        = uint64(9503)
	PDFLinkedSeed = uint64(9504)
)

// PDF writes a one-page PDF showing the given JPEGs and one raw RGB image,
// with a link annotation to link. Written from the PDF 1.7 reference
// (ISO 32000-1): objects, a cross-reference table and a trailer.
func PDF(jpegs [][]byte, raw *image.RGBA, link string) []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string, stream []byte) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s", len(offsets), body)
		if stream != nil {
			fmt.Fprintf(&b, "\nstream\n")
			b.Write(stream)
			b.WriteString("\nendstream")
		}
		b.WriteString("\nendobj\n")
	}
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	nImg := len(jpegs) + 1
	xobj, content := "", ""
	for i := range nImg {
		xobj += fmt.Sprintf("/Im%d %d 0 R ", i+1, 5+i)
		content += fmt.Sprintf("q 90 0 0 60 %d 10 cm /Im%d Do Q\n", 10+95*i, i+1)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", nil)
	obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d 100] /Resources << /XObject << %s>> >> /Contents 4 0 R /Annots [%d 0 R] >>",
		20+95*nImg, xobj, 5+nImg), nil)
	obj(fmt.Sprintf("<< /Length %d >>", len(content)), []byte(content))
	for _, j := range jpegs {
		cfg := jpegSize(j)
		obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>",
			cfg.X, cfg.Y, len(j)), j)
	}
	var pix bytes.Buffer
	zw := zlib.NewWriter(&pix)
	r := raw.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := raw.PixOffset(x, y)
			_, _ = zw.Write(raw.Pix[i : i+3])
		}
	}
	_ = zw.Close()
	obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>",
		r.Dx(), r.Dy(), pix.Len()), pix.Bytes())
	obj(fmt.Sprintf("<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /Border [0 0 0] /A << /S /URI /URI (%s) >> >>", link), nil)
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// jpegSize reads a JPEG's dimensions from its SOF marker.
func jpegSize(j []byte) image.Point {
	for i := 2; i+9 < len(j); {
		if j[i] != 0xff {
			return image.Point{}
		}
		marker, n := j[i+1], int(j[i+2])<<8|int(j[i+3])
		if marker >= 0xc0 && marker <= 0xc3 {
			return image.Point{X: int(j[i+7])<<8 | int(j[i+8]), Y: int(j[i+5])<<8 | int(j[i+6])}
		}
		i += 2 + n
	}
	return image.Point{}
}

func (n *Net) documentPDF() ([]byte, error) {
	var jpegs [][]byte
	for _, s := range PDFJPEGs {
		b, err := n.Images.Bytes(s, Variant{})
		if err != nil {
			return nil, err
		}
		jpegs = append(jpegs, b)
	}
	return PDF(jpegs, n.Images.Render(PDFRaw), n.URL(Files, "/from-pdf")), nil
}
