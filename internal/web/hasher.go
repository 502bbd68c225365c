package web

// The victim's page hashes pictures in the browser with Vigil's own
// hashing compiled to WebAssembly. The module and Go's loader are
// committed and embedded (static/), so the binary builds without a wasm
// step; regenerate them after changing internal/hashing or internal/pdq:
//
//	go generate ./internal/web
//
// TestHasherWasmUpToDate fails when the committed module differs from a
// fresh build.

//go:generate env GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s -buildvcs=false -o static/hasher.wasm ./hasher
//go:generate sh -c "cp \"$(go env GOROOT)/lib/wasm/wasm_exec.js\" static/wasm_exec.js && chmod 644 static/wasm_exec.js static/hasher.wasm"
