//go:build !libjpeg || !cgo

package hashing

import "image/jpeg"

// JPEGDecoder names the JPEG decoder this build uses.
const JPEGDecoder = "go"

var jpegCodec = readerCodec(jpeg.DecodeConfig, jpeg.Decode)
