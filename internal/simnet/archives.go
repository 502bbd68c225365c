package simnet

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Files is the file-hosting site: collections as archives.
//
//	/                    a page linking to every archive below
//	/pictures.zip|.rar|.7z|.tar.gz
//	                     four generated pictures and KnownPicture
//	/nested.zip          a ZIP holding a tar.gz holding a ZIP holding
//	                     pictures, and one level deeper still a ZIP
//	/encrypted.zip       one plain picture and two encrypted entries
//	/bomb.zip            one entry of Options.ZipBombSize zero bytes
//	/many.zip            Options.ManyEntries tiny entries
//	/set/N.zip?n=K       K bench pictures (seeds BenchSeedBase+N*K…), for
//	                     the benchmark and the SIGKILL test
//	/sets?n=K&count=C    a page linking /set/0.zip?n=K … /set/C-1.zip?n=K
//	/doc.pdf             a PDF showing PDFJPEGs and PDFRaw, with a link
//	                     to /from-pdf, a page showing PDFLinkedSeed
const Files = "files.example"

// KnownPicture is a generated picture (a PNG of seed 9001 at 64×48,
// committed so that its bytes never change with an encoder) that every
// archive on files.example holds; tests put its SHA-256 on a known list.
//
//go:embed testdata/known.png
var KnownPicture []byte

// pictures7z is /pictures.7z: no Go writer of 7z exists, so it is
// committed; see testdata/README.md for how it was made.
//
//go:embed testdata/pictures.7z
var pictures7z []byte

// Encrypted7z is a 7z archive whose names and contents are encrypted.
//
//go:embed testdata/encrypted.7z
var Encrypted7z []byte

// Pictures7z returns /pictures.7z.
func Pictures7z() []byte { return pictures7z }

// archiveTime is the modification time of generated entries.
var archiveTime = time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)

// ArchivePictures are the entries of the /pictures archives other than
// KnownPicture: generated JPEG seeds.
var ArchivePictures = []uint64{9101, 9102, 9103, 9104}

// ArchiveFile is one entry to pack.
type ArchiveFile struct {
	Name      string
	Data      []byte
	Encrypted bool
}

func (n *Net) pictureFiles() ([]ArchiveFile, error) {
	files := []ArchiveFile{{Name: "collection/known.png", Data: KnownPicture}}
	for _, s := range ArchivePictures {
		b, err := n.Images.Bytes(s, Variant{})
		if err != nil {
			return nil, err
		}
		files = append(files, ArchiveFile{Name: fmt.Sprintf("collection/%d.jpg", s), Data: b})
	}
	return files, nil
}

// serveFiles serves files.example; it reports whether it handled the path.
func (n *Net) serveFiles(w http.ResponseWriter, r *http.Request) bool {
	var (
		body []byte
		err  error
	)
	p := r.URL.Path
	if b, ok := n.cachedFile(p); ok {
		body = b
		p = "(cached)"
	}
	switch {
	case p == "(cached)":
	case p == "/":
		writeHTML(w, `<h1>Shared files</h1><ul>
<li><a href="/pictures.zip">pictures.zip</a> <li><a href="/pictures.rar">pictures.rar</a>
<li><a href="/pictures.7z">pictures.7z</a> <li><a href="/pictures.tar.gz">pictures.tar.gz</a>
<li><a href="/nested.zip">nested.zip</a> <li><a href="/encrypted.zip">encrypted.zip</a>
<li><a href="/bomb.zip">bomb.zip</a> <li><a href="/many.zip">many.zip</a> <li><a href="/doc.pdf">doc.pdf</a></ul>`)
		return true
	case p == "/sets":
		k, err1 := strconv.Atoi(r.URL.Query().Get("n"))
		c, err2 := strconv.Atoi(r.URL.Query().Get("count"))
		if err1 != nil || err2 != nil || k <= 0 || c <= 0 || c > 100000 {
			return false
		}
		var b strings.Builder
		for i := range c {
			fmt.Fprintf(&b, `<a href="/set/%d.zip?n=%d">set %d</a>`+"\n", i, k, i)
		}
		writeHTML(w, b.String())
		return true
	case p == "/doc.pdf":
		body, err = n.documentPDF()
	case p == "/from-pdf":
		writeHTML(w, fmt.Sprintf(`<p>Linked from the PDF</p><img src="%s">`, ImagePath(PDFLinkedSeed, Variant{})))
		return true
	case p == "/pictures.7z":
		body = pictures7z
	case p == "/pictures.zip" || p == "/pictures.rar" || p == "/pictures.tar.gz":
		var files []ArchiveFile
		if files, err = n.pictureFiles(); err == nil {
			switch {
			case strings.HasSuffix(p, ".zip"):
				body, err = ZIP(files)
			case strings.HasSuffix(p, ".rar"):
				body = RAR(files)
			default:
				body, err = TarGz(files)
			}
		}
	case p == "/nested.zip":
		body, err = n.nested()
	case p == "/encrypted.zip":
		var b []byte
		if b, err = n.Images.Bytes(9201, Variant{}); err == nil {
			body, err = ZIP([]ArchiveFile{{Name: "readme.jpg", Data: b},
				{Name: "private/1.jpg", Data: bytes.Repeat([]byte{0x5a}, 4096), Encrypted: true},
				{Name: "private/2.jpg", Data: bytes.Repeat([]byte{0xa5}, 4096), Encrypted: true}})
		}
	case p == "/bomb.zip":
		body, err = ZIP([]ArchiveFile{{Name: "zeros.jpg", Data: make([]byte, n.opts.ZipBombSize)}})
	case p == "/many.zip":
		files := make([]ArchiveFile, n.opts.ManyEntries)
		for i := range files {
			files[i] = ArchiveFile{Name: fmt.Sprintf("f/%05d.txt", i), Data: []byte{byte(i)}}
		}
		body, err = ZIP(files)
	case strings.HasPrefix(p, "/set/") && strings.HasSuffix(p, ".zip"):
		set, err1 := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(p, "/set/"), ".zip"), 10, 32)
		k, err2 := strconv.Atoi(r.URL.Query().Get("n"))
		if err1 != nil || err2 != nil || k <= 0 || k > 100000 {
			return false
		}
		files := make([]ArchiveFile, k)
		for i := range files {
			seed := BenchSeedBase + set*uint64(k) + uint64(i)
			if files[i].Data, err = n.Images.Bytes(seed, Variant{}); err != nil {
				break
			}
			files[i].Name = fmt.Sprintf("set%d/%d.jpg", set, seed)
		}
		if err == nil {
			body, err = ZIP(files)
		}
	default:
		return false
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return true
	}
	if !strings.HasPrefix(r.URL.Path, "/set/") {
		n.cacheFile(r.URL.Path, body)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
	return true
}

// nested packs four levels: ZIP ⊃ tar.gz ⊃ ZIP ⊃ ZIP, each with a picture.
func (n *Net) nested() ([]byte, error) {
	pic := func(seed uint64) ArchiveFile {
		b, _ := n.Images.Bytes(seed, Variant{})
		return ArchiveFile{Name: fmt.Sprintf("%d.jpg", seed), Data: b}
	}
	l4, err := ZIP([]ArchiveFile{pic(9304)})
	if err != nil {
		return nil, err
	}
	l3, err := ZIP([]ArchiveFile{pic(9303), {Name: "deeper.zip", Data: l4}})
	if err != nil {
		return nil, err
	}
	l2, err := TarGz([]ArchiveFile{pic(9302), {Name: "inner/level3.zip", Data: l3}})
	if err != nil {
		return nil, err
	}
	return ZIP([]ArchiveFile{pic(9301), {Name: "level2.tar.gz", Data: l2}, {Name: "known.png", Data: KnownPicture}})
}

// ZIP packs files with deflate. An encrypted entry is flagged as such
// (general purpose bit 0) with its bytes as given: Go writes no ZipCrypto,
// and a reader must not need the password to see the flag.
func ZIP(files []ArchiveFile) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: archiveTime}
		if f.Encrypted {
			h.Flags |= 0x1
			h.Method = zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TarGz packs files as a gzipped tar.
func TarGz(files []ArchiveFile) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.Name, Mode: 0o644, Size: int64(len(f.Data)), ModTime: archiveTime,
			Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// RAR packs files as a RAR 5 archive with the "store" method (no
// compression), written from the RAR 5.0 archive format technote
// (rarlab.com/technote.htm): no RAR writer exists in Go, and storing is
// all a test of reading needs.
func RAR(files []ArchiveFile) []byte {
	var out bytes.Buffer
	out.WriteString("Rar!\x1a\x07\x01\x00")
	block := func(typ uint64, flags uint64, fields []byte, dataSize int) {
		var h []byte
		h = binary.AppendUvarint(h, typ)
		h = binary.AppendUvarint(h, flags)
		if flags&0x2 != 0 {
			h = binary.AppendUvarint(h, uint64(dataSize))
		}
		h = append(h, fields...)
		sized := binary.AppendUvarint(nil, uint64(len(h)))
		sized = append(sized, h...)
		_ = binary.Write(&out, binary.LittleEndian, crc32.ChecksumIEEE(sized))
		out.Write(sized)
	}
	block(1, 0, binary.AppendUvarint(nil, 0), 0) // main archive header
	for _, f := range files {
		var fl []byte
		fl = binary.AppendUvarint(fl, 0x2|0x4) // mtime and CRC32 present
		fl = binary.AppendUvarint(fl, uint64(len(f.Data)))
		fl = binary.AppendUvarint(fl, 0o644) // attributes
		fl = binary.LittleEndian.AppendUint32(fl, uint32(archiveTime.Unix()))
		fl = binary.LittleEndian.AppendUint32(fl, crc32.ChecksumIEEE(f.Data))
		fl = binary.AppendUvarint(fl, 0) // version 0, method 0 (store)
		fl = binary.AppendUvarint(fl, 1) // host OS: Unix
		fl = binary.AppendUvarint(fl, uint64(len(f.Name)))
		fl = append(fl, f.Name...)
		block(2, 0x2, fl, len(f.Data))
		out.Write(f.Data)
	}
	block(5, 0, binary.AppendUvarint(nil, 0), 0) // end of archive
	return out.Bytes()
}

// cachedFile returns a generated file of files.example made before: the
// bomb and the 10,000-entry archive take a while to make (much longer under
// the race detector), and a crawl fetches each twice.
func (n *Net) cachedFile(path string) ([]byte, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	b, ok := n.files[path]
	return b, ok
}

func (n *Net) cacheFile(path string, b []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.files == nil {
		n.files = map[string][]byte{}
	}
	n.files[path] = b
}
