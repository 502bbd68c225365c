// Vigil workbench: keyboard classification, one-at-a-time reveal and the
// exposure heartbeat. Progressive: every form and link works without it.
(function () {
  'use strict';
  var root = document.querySelector('.workbench');
  if (!root) { return; }
  var csrf = root.getAttribute('data-csrf');
  var cards = Array.prototype.slice.call(document.querySelectorAll('.wb-card'));
  // One classification panel serves the selected card, so that the grid
  // of previews stays short however many items the page holds.
  var form = document.getElementById('wb-form');
  var panelTitle = document.getElementById('wb-panel-title');
  var current = -1;
  // Texts in the page's language, from the page.
  function t(name, args) {
    var s = root.getAttribute('data-t-' + name) || '';
    (args || []).forEach(function (a, i) { s = s.split('{' + (i + 1) + '}').join(String(a)); });
    return s;
  }
  function verdictLabel(v) {
    var input = form && form.querySelector('input[name="verdict"][value="' + v + '"]');
    var label = input && input.closest('label');
    return (label && label.getAttribute('data-label')) || v;
  }
  // CLDR cardinal "one": 1 in English, Dutch and German; 0 and 1 in French.
  function one(n) { return root.getAttribute('data-lang') === 'fr' ? (n === 0 || n === 1) : n === 1; }
  var lastDecision = null; // {media, assessment, near: [ids]}

  function post(url, params) {
    params.set('csrf', csrf);
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/x-www-form-urlencoded', 'Accept': 'application/json'},
      body: params.toString()
    }).then(function (r) {
      return r.json().catch(function () { return {error: 'HTTP ' + r.status}; }).then(function (j) {
        if (!r.ok && !j.error) { j.error = 'HTTP ' + r.status; }
        return j;
      });
    });
  }

  // Reveal: the original replaces the preview of one item only; revealing
  // another hides the first again.
  function hide(media) {
    var orig = media.querySelector('.wb-original');
    if (orig) { orig.remove(); }
    var prev = media.querySelector('.wb-preview');
    if (prev) { prev.hidden = false; }
  }
  function reveal(link) {
    var media = link.closest('.wb-media');
    if (media.querySelector('.wb-original')) { hide(media); return; }
    Array.prototype.forEach.call(document.querySelectorAll('.wb-media'), function (m) { if (m !== media) { hide(m); } });
    var el;
    if (link.getAttribute('data-video') === 'true') {
      el = document.createElement('video');
      el.muted = true; el.controls = true; el.preload = 'metadata';
    } else {
      el = document.createElement('img');
      el.alt = t('revealed');
    }
    el.className = 'wb-original';
    el.src = link.getAttribute('data-src');
    var prev = media.querySelector('.wb-preview');
    if (prev) { prev.hidden = true; }
    media.insertBefore(el, link);
    watch(el);
  }
  document.addEventListener('click', function (e) {
    var link = e.target.closest && e.target.closest('.wb-reveal');
    if (link) { e.preventDefault(); reveal(link); }
  });

  function select(i) {
    if (i < 0 || i >= cards.length) { return; }
    if (current >= 0) { cards[current].classList.remove('wb-current'); }
    if (current !== i && form) {
      form.reset();
      form.action = cards[i].getAttribute('data-action');
      panelTitle.textContent = t('item', [cards[i].getAttribute('data-media')]);
    }
    current = i;
    cards[i].classList.add('wb-current');
    if (form) { form.querySelector('button[type="submit"]').disabled = cards[i].classList.contains('wb-decided'); }
    cards[i].focus({preventScroll: true});
    cards[i].scrollIntoView({block: 'nearest'});
  }
  function nextOpen(from, step) {
    for (var i = from; i >= 0 && i < cards.length; i += step) {
      if (!cards[i].classList.contains('wb-decided')) { return i; }
    }
    return -1;
  }
  function cardOf(id) { return document.getElementById('item-' + id); }

  function markDecided(card, text) {
    card.classList.add('wb-decided');
    hide(card.querySelector('.wb-media'));
    var done = card.querySelector('.wb-done');
    done.textContent = text;
    done.hidden = false;
    if (current >= 0 && cards[current] === card && form) { form.querySelector('button[type="submit"]').disabled = true; }
  }

  function showNear(j) {
    var panel = document.getElementById('wb-near');
    var list = document.getElementById('wb-near-list');
    list.textContent = '';
    lastDecision = null;
    if (!j.near || j.near.length === 0) { panel.hidden = true; return; }
    lastDecision = {media: j.media, assessment: j.assessment, near: j.near.map(function (n) { return n.id; })};
    document.getElementById('wb-near-title').textContent =
      t(one(j.near.length) ? 'near-one' : 'near-other', [j.media, verdictLabel(j.verdict), j.near.length]);
    j.near.forEach(function (n) {
      var img = document.createElement('img');
      img.src = '/staff/media/' + n.id + '/preview';
      img.alt = t('item', [n.id]) + ' (' + n.distance + ')';
      img.width = 96;
      list.appendChild(img);
    });
    panel.hidden = false;
  }
  function applyNear() {
    if (!lastDecision) { return; }
    var d = lastDecision;
    lastDecision = null;
    var p = new URLSearchParams();
    p.set('from', d.assessment);
    d.near.forEach(function (id) { p.append('ids', id); });
    post('/staff/media/' + d.media + '/apply', p).then(function (j) {
      document.getElementById('wb-near').hidden = true;
      (j.applied || []).forEach(function (id) {
        var c = cardOf(id);
        if (c) { markDecided(c, t('applied', [verdictLabel(j.verdict), d.media])); }
      });
      // Move on when the item in hand was among them.
      if (current >= 0 && cards[current].classList.contains('wb-decided')) {
        var n = nextOpen(current + 1, 1);
        if (n < 0) { n = nextOpen(0, 1); }
        if (n >= 0) { select(n); }
      }
    });
  }
  var applyButton = document.getElementById('wb-near-apply');
  if (applyButton) { applyButton.addEventListener('click', applyNear); }

  if (form) {
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var i = current;
      var card = cards[i];
      if (!card || card.classList.contains('wb-decided') || !form.reportValidity()) { return; }
      post(form.action, new URLSearchParams(new FormData(form))).then(function (j) {
        if (j.error) {
          card.querySelector('.wb-done').textContent = t('refused', [j.error]);
          card.querySelector('.wb-done').hidden = false;
          return;
        }
        markDecided(card, t('decided', [verdictLabel(j.verdict)]));
        showNear(j);
        var n = nextOpen(i + 1, 1);
        if (n < 0) { n = nextOpen(0, 1); }
        if (n >= 0) { select(n); }
      });
    });
  }
  cards.forEach(function (card, i) {
    card.addEventListener('click', function () { if (current !== i) { select(i); } });
    var classify = card.querySelector('.wb-classify');
    if (classify) {
      classify.addEventListener('click', function (e) { e.preventDefault(); select(i); form.querySelector('input').focus(); });
    }
  });

  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var t = e.target;
    if (t.tagName === 'TEXTAREA' || (t.tagName === 'INPUT' && t.type === 'text')) {
      if (e.key === 'Escape') { t.blur(); if (current >= 0) { cards[current].focus(); } }
      return;
    }
    if (cards.length === 0) { return; }
    if (current < 0) { select(Math.max(0, nextOpen(0, 1))); }
    var card = cards[current];
    var k = e.key;
    var handled = true;
    switch (k) {
      case 'j': select(Math.max(nextOpen(current + 1, 1), current)); break;
      case 'k': select(Math.max(nextOpen(current - 1, -1), 0)); break;
      case 'r': // a container (archive, PDF) has no reveal: its card is text
        if (card.querySelector('.wb-reveal')) { reveal(card.querySelector('.wb-reveal')); }
        break;
      case 'o': form.querySelector('textarea').focus(); break;
      case 'Enter': form.requestSubmit(); break;
      case 'y': applyNear(); break;
      case 'p': window.location.href = '/staff/queue'; break;
      default:
        var input = form.querySelector('[data-key="' + (k.length === 1 ? k.toLowerCase() : '') + '"]');
        if (!input || card.classList.contains('wb-decided')) { handled = false; break; }
        if (input.type === 'checkbox') { input.checked = !input.checked; } else { input.checked = true; }
    }
    if (handled) { e.preventDefault(); }
  });
  if (cards.length > 0) {
    var first = cards.findIndex(function (c) { return c.classList.contains('wb-selected'); });
    select(first < 0 ? 0 : first);
  }

  // Exposure: count only time when the page is visible and a media item
  // is in view; report it every heartbeat. The server caps each credit.
  var heartbeat = parseInt(root.getAttribute('data-heartbeat') || '0', 10);
  var inView = new Set();
  var observer = 'IntersectionObserver' in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (en) { if (en.isIntersecting) { inView.add(en.target); } else { inView.delete(en.target); } });
  }) : null;
  function watch(el) { if (observer) { observer.observe(el); } else { inView.add(el); } }
  Array.prototype.forEach.call(document.querySelectorAll('.wb-preview, .wb-original'), watch);
  if (heartbeat > 0) {
    var visibleMS = 0;
    var last = Date.now();
    setInterval(function () {
      var now = Date.now();
      var shown = false;
      inView.forEach(function (el) { if (el.isConnected && !el.hidden) { shown = true; } });
      if (document.visibilityState === 'visible' && shown) { visibleMS += now - last; }
      last = now;
    }, 1000);
    setInterval(function () {
      if (visibleMS <= 0) { return; }
      var p = new URLSearchParams();
      p.set('ms', String(visibleMS));
      visibleMS = 0;
      post('/staff/exposure', p).then(function (j) {
        if (j.error) { return; }
        document.getElementById('wb-visible').textContent = j.visible_min;
        document.getElementById('wb-budget').textContent = j.budget_min;
        if (j.remind) { document.getElementById('wb-break').hidden = false; }
        if (j.stop) { window.location.href = '/staff/queue'; }
      });
    }, heartbeat);
  }
})();
