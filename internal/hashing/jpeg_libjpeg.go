//go:build libjpeg && cgo

package hashing

// JPEG through libjpeg-turbo (Debian: libjpeg62-turbo-dev), opt-in with
// -tags libjpeg. It is configured as the reference's decoder (ImageMagick
// 6.9.11 on Debian 12, running `convert FILE pnm:-`) evidently uses it: the
// accurate integer IDCT (JDCT_ISLOW; the float IDCT that some ImageMagick
// versions select moves bits on 5 of the conformance JPEGs, ISLOW on none),
// fancy upsampling and libjpeg's own YCbCr→RGB conversion. With the same
// library version (2.1.5) the pixels, and so the PDQ bits, are identical
// to the reference's on every conformance JPEG.
//
// Errors: libjpeg's default error handler calls exit(), so a handler that
// longjmps back into the C wrapper is installed. Warnings that mean missing
// data (premature end of file or of a data segment) are errors here, so a
// truncated file is refused rather than hashed with grey filling; other
// warnings are ignored, as ImageMagick and browsers ignore them.

/*
#cgo LDFLAGS: -ljpeg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX];
} vg_err;

static void vg_error_exit(j_common_ptr c) {
	vg_err *e = (vg_err *)c->err;
	(*c->err->format_message)(c, e->msg);
	longjmp(e->jb, 1);
}

static void vg_emit(j_common_ptr c, int level) {
	if (level >= 0) return; // trace messages
	int code = c->err->msg_code;
	if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER) {
		vg_error_exit(c);
	}
}

// vg_decode reads the header and, when out is not NULL, decodes into out
// (width*height*channels bytes: RGBA, grey or CMYK). kind: 1 grey, 3 RGBA,
// 4 CMYK; adobe: whether an Adobe marker was seen (CMYK stored inverted).
// Returns 0 on success, else 1 with msg set.
static int vg_decode(const unsigned char *buf, unsigned long len,
		unsigned char *out, size_t outlen,
		int *width, int *height, int *kind, int *adobe, char *msg) {
	struct jpeg_decompress_struct cinfo;
	vg_err err;
	JSAMPROW row;
	memset(&cinfo, 0, sizeof cinfo);
	cinfo.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = vg_error_exit;
	err.pub.emit_message = vg_emit;
	err.msg[0] = 0;
	if (setjmp(err.jb)) {
		strncpy(msg, err.msg, JMSG_LENGTH_MAX);
		jpeg_destroy_decompress(&cinfo);
		return 1;
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, buf, len);
	jpeg_read_header(&cinfo, TRUE);
	*width = cinfo.image_width;
	*height = cinfo.image_height;
	*adobe = cinfo.saw_Adobe_marker;
	switch (cinfo.jpeg_color_space) {
	case JCS_GRAYSCALE:
		cinfo.out_color_space = JCS_GRAYSCALE;
		*kind = 1;
		break;
	case JCS_CMYK:
	case JCS_YCCK:
		cinfo.out_color_space = JCS_CMYK;
		*kind = 4;
		break;
	default:
		cinfo.out_color_space = JCS_EXT_RGBA;
		*kind = 3;
	}
	if (out == NULL) {
		jpeg_destroy_decompress(&cinfo);
		return 0;
	}
	cinfo.dct_method = JDCT_ISLOW;
	jpeg_start_decompress(&cinfo);
	size_t stride = (size_t)cinfo.output_width * cinfo.output_components;
	if (stride * cinfo.output_height > outlen) {
		strcpy(msg, "output larger than the header said");
		jpeg_destroy_decompress(&cinfo);
		return 1;
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		row = out + stride * cinfo.output_scanline;
		jpeg_read_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	return 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"
)

// JPEGDecoder names the JPEG decoder this build uses.
const JPEGDecoder = "libjpeg-turbo"

// JPEGDecoderInfo describes it for `vigil version`.
func JPEGDecoderInfo() string {
	v := int(C.LIBJPEG_TURBO_VERSION_NUMBER)
	return fmt.Sprintf("%s %d.%d.%d (cgo, built with -tags libjpeg)", JPEGDecoder, v/1000000, v/1000%1000, v%1000)
}

var jpegCodec = codec{config: libjpegConfig, decode: libjpegDecode}

type jpegHeader struct{ w, h, kind, adobe int }

func libjpegCall(data []byte, out []byte) (jpegHeader, error) {
	if len(data) == 0 {
		return jpegHeader{}, errors.New("jpeg: empty")
	}
	var w, h, kind, adobe C.int
	var msg [C.JMSG_LENGTH_MAX + 1]C.char
	var op *C.uchar
	if len(out) > 0 {
		op = (*C.uchar)(unsafe.Pointer(&out[0]))
	}
	rc := C.vg_decode((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)),
		op, C.size_t(len(out)), &w, &h, &kind, &adobe, &msg[0])
	hd := jpegHeader{int(w), int(h), int(kind), int(adobe)}
	if rc != 0 {
		return hd, fmt.Errorf("libjpeg: %s", C.GoString(&msg[0]))
	}
	return hd, nil
}

func libjpegConfig(data []byte) (image.Config, error) {
	hd, err := libjpegCall(data, nil)
	if err != nil {
		return image.Config{}, err
	}
	return image.Config{Width: hd.w, Height: hd.h}, nil
}

func libjpegDecode(data []byte) (image.Image, error) {
	hd, err := libjpegCall(data, nil)
	if err != nil {
		return nil, err
	}
	r := image.Rect(0, 0, hd.w, hd.h)
	var img image.Image
	var pix []byte
	switch hd.kind {
	case 1:
		m := image.NewGray(r)
		img, pix = m, m.Pix
	case 4:
		m := image.NewCMYK(r)
		img, pix = m, m.Pix
	default:
		m := image.NewRGBA(r)
		img, pix = m, m.Pix
	}
	if len(pix) == 0 {
		return nil, errors.New("libjpeg: empty image")
	}
	if _, err := libjpegCall(data, pix); err != nil {
		return nil, err
	}
	if hd.kind == 4 && hd.adobe != 0 {
		// Adobe CMYK is stored inverted; image.CMYK is not (as image/jpeg).
		for i := range pix {
			pix[i] = 255 - pix[i]
		}
	}
	return img, nil
}

// hashJPEG decodes through libjpeg-turbo and hashes the pixels.
func hashJPEG(data []byte, opts Options, res *Result) error {
	img, _, err := decode(data, opts.maxPixels(), res)
	if err != nil {
		return err
	}
	hashPixels(img, opts, res)
	return nil
}
