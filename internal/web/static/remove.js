// The victim's page: pictures and videos are hashed on this device by
// Vigil's own hashing, compiled to WebAssembly (hasher.wasm). The files
// never leave the device: thumbnails are local object URLs, and the one
// request this page makes, once the person confirms, carries hashes and
// the optional description only (shown in full before it is sent).
(function () {
  "use strict";
  var form = document.getElementById("remove-form");
  if (!form) { return; }
  var files = document.getElementById("files");
  var state = document.getElementById("hasher-state");
  var items = document.getElementById("items");
  var preview = document.getElementById("preview");
  var payload = document.getElementById("payload");
  var description = document.getElementById("description");
  var confirmButton = document.getElementById("confirm");
  var errorBox = document.getElementById("remove-error");
  var maxHashes = 50;
  var maxImageBytes = 64 << 20;
  var chunk = 4 << 20;
  // hashes holds, per chosen file, what will be sent for it.
  var entries = [];
  var busy = false;

  function showError(msg) {
    errorBox.textContent = msg;
    errorBox.hidden = !msg;
  }

  function hashesToSend() {
    var out = [];
    entries.forEach(function (e) { out = out.concat(e.hashes); });
    return out;
  }

  function body() {
    return { hashes: hashesToSend(), description: description.value.trim() };
  }

  function refresh() {
    var b = body();
    payload.textContent = JSON.stringify(b, null, 1);
    var n = b.hashes.length;
    var msg = "";
    if (n > maxHashes) { msg = form.dataset.tooMany; }
    showError(msg);
    confirmButton.disabled = busy || n === 0 || n > maxHashes;
  }

  function text(tag, cls, s) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    el.textContent = s;
    return el;
  }

  // readChunks feeds a file to the digest in slices, so that a long
  // video needs little memory.
  async function digestFile(file) {
    var id = globalThis.vigilDigestNew();
    for (var off = 0; off < file.size; off += chunk) {
      var buf = await file.slice(off, off + chunk).arrayBuffer();
      globalThis.vigilDigestWrite(id, new Uint8Array(buf));
    }
    return globalThis.vigilDigestSum(id);
  }

  async function hashOne(file) {
    var li = document.createElement("li");
    var isImage = file.type.indexOf("image/") === 0;
    if (isImage) {
      var img = document.createElement("img");
      img.alt = "";
      img.src = URL.createObjectURL(file);
      li.appendChild(img);
    }
    var info = document.createElement("div");
    info.appendChild(text("strong", "", file.name));
    var status = text("p", "help", form.dataset.hashing);
    info.appendChild(status);
    li.appendChild(info);
    items.appendChild(li);
    preview.hidden = false;

    var entry = { hashes: [] };
    var start = performance.now();
    var r;
    if (isImage && file.size <= maxImageBytes) {
      r = globalThis.vigilHashImage(new Uint8Array(await file.arrayBuffer()));
    } else {
      r = await digestFile(file);
    }
    var ms = Math.round(performance.now() - start);
    li.dataset.ms = String(ms);
    li.dataset.name = file.name;
    if (r.error && !r.sha256) {
      status.textContent = form.dataset.failed;
      return;
    }
    if (r.pdq && r.quality >= 50) {
      entry.hashes.push({ type: "pdq", value: r.pdq, quality: r.quality });
    } else if (r.pdq) {
      info.appendChild(text("p", "help low-quality", form.dataset.lowQuality));
    }
    entry.hashes.push({ type: "md5", value: r.md5 });
    entry.hashes.push({ type: "sha256", value: r.sha256 });
    status.textContent = "";
    entry.hashes.forEach(function (h) { info.appendChild(text("code", "", h.type + " " + h.value + " ")); });
    li.dataset.hashes = JSON.stringify(entry.hashes);
    entries.push(entry);
  }

  files.addEventListener("change", async function () {
    busy = true;
    refresh();
    var chosen = Array.prototype.slice.call(files.files);
    for (var i = 0; i < chosen.length; i++) {
      // Yield between files, so the list is drawn as it grows.
      await new Promise(function (res) { setTimeout(res, 0); });
      await hashOne(chosen[i]);
      refresh();
    }
    busy = false;
    // The input is emptied: the files are not part of any form.
    files.value = "";
    refresh();
    form.dataset.hashed = String(entries.length);
  });

  description.addEventListener("input", refresh);

  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var b = body();
    if (b.hashes.length === 0) { showError(form.dataset.noHash); return; }
    confirmButton.disabled = true;
    try {
      var resp = await fetch("/remove?lang=" + encodeURIComponent(form.dataset.lang), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": document.getElementById("csrf").value },
        body: JSON.stringify(b)
      });
      var out = await resp.json();
      if (!resp.ok) {
        showError(out.error || form.dataset.failed);
        confirmButton.disabled = false;
        return;
      }
      document.getElementById("tracking-code").textContent = out.tracking_code;
      document.getElementById("sent").hidden = false;
      document.getElementById("nothing-sent").hidden = true;
      form.hidden = true;
    } catch (e) {
      showError(form.dataset.failed);
      confirmButton.disabled = false;
    }
  });

  async function start() {
    if (!globalThis.WebAssembly || !globalThis.Go) { state.textContent = ""; return; }
    var go = new Go();
    var ready = new Promise(function (res) { globalThis.addEventListener("vigil-hasher-ready", res, { once: true }); });
    var result = await WebAssembly.instantiateStreaming(fetch("/static/hasher.wasm"), go.importObject);
    go.run(result.instance);
    await ready;
    state.textContent = "";
    state.hidden = true;
    files.disabled = false;
    form.dataset.ready = "1";
    refresh();
  }
  start().catch(function () { showError(form.dataset.failed); });
})();
