//go:build js && wasm

// Command hasher is Vigil's hashing compiled to WebAssembly for the
// victim's page (/remove): the very code `vigil hash` and the crawler run
// (internal/hashing, with the default build's pure-Go decoders), so that a
// picture hashed on a person's device matches the copies the crawler finds.
// It is built by `go generate ./internal/web` into static/hasher.wasm.
//
// It exposes three functions to the page:
//
//	vigilHashImage(Uint8Array) → {pdq, quality, md5, sha256, width, height} or {error}
//	vigilDigestNew() → id; vigilDigestWrite(id, Uint8Array); vigilDigestSum(id) → {md5, sha256}
//
// the latter for videos, read in chunks, which are matched by their exact
// digests only.
package main

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"syscall/js"

	"github.com/vigil-hotline/vigil/internal/hashing"
)

type digest struct{ md5, sha256 hash.Hash }

func main() {
	digests := map[int]*digest{}
	next := 0
	bytesOf := func(v js.Value) []byte {
		b := make([]byte, v.Get("length").Int())
		js.CopyBytesToGo(b, v)
		return b
	}
	js.Global().Set("vigilHashImage", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 1 {
			return map[string]any{"error": "want one Uint8Array"}
		}
		res, err := hashing.HashBytes(bytesOf(args[0]), hashing.Options{})
		out := map[string]any{"md5": hex.EncodeToString(res.MD5[:]), "sha256": hex.EncodeToString(res.SHA256[:])}
		if err != nil {
			out["error"] = err.Error()
			return out
		}
		out["pdq"], out["quality"] = res.PDQ.String(), res.Quality
		out["width"], out["height"] = res.Width, res.Height
		return out
	}))
	js.Global().Set("vigilDigestNew", js.FuncOf(func(js.Value, []js.Value) any {
		next++
		digests[next] = &digest{md5.New(), sha256.New()}
		return next
	}))
	js.Global().Set("vigilDigestWrite", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if d := digests[args[0].Int()]; d != nil {
			b := bytesOf(args[1])
			d.md5.Write(b)
			d.sha256.Write(b)
		}
		return nil
	}))
	js.Global().Set("vigilDigestSum", js.FuncOf(func(_ js.Value, args []js.Value) any {
		d := digests[args[0].Int()]
		if d == nil {
			return map[string]any{"error": "no such digest"}
		}
		delete(digests, args[0].Int())
		return map[string]any{"md5": hex.EncodeToString(d.md5.Sum(nil)), "sha256": hex.EncodeToString(d.sha256.Sum(nil))}
	}))
	js.Global().Call("dispatchEvent", js.Global().Get("Event").New("vigil-hasher-ready"))
	select {}
}
