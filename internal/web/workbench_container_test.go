package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// TestWorkbenchContainer: an archive queued for an analyst shows, in
// place of a preview, why it was queued and what it held (each entry's
// path, size, and the item it became with where that stands, or why it
// became none), as text in the analyst's language; no picture of it and no
// reveal link.
func TestWorkbenchContainer(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	vault := testrig.Vault(t)
	e := newEnv(t, db, withWorkbench(db, vault))
	arc, _ := benignItem(t, vault, 301, simnet.Variant{})
	pic, _ := benignItem(t, vault, 302, simnet.Variant{})
	caseID, ids := storetest.SeedCase(t, db, "https://files.example/set.7z", []storetest.SeedItem{arc, pic})
	// The first item stands for the archive: what the extract task
	// records of an archive it could not wholly examine.
	storetest.Exec(t, db, `UPDATE media SET class = 'archive', mime = 'application/x-7z-compressed',
		hash_error = 'encrypted: 2 of 3 entries' WHERE id = $1`, ids[0])
	now := time.Now().Unix()
	storetest.Exec(t, db, `INSERT INTO archive_entries (parent_id, path, media_id, size, reason, recorded_at, seq)
		VALUES ($1, 'dir/a.jpg', $2, 12345, '', $3, 0)`, ids[0], ids[1], now)
	storetest.Exec(t, db, `INSERT INTO archive_entries (parent_id, path, size, reason, recorded_at, seq)
		VALUES ($1, 'secret/<b>.png', 77, 'encrypted', $2, 1)`, ids[0], now)
	storetest.Exec(t, db, `INSERT INTO archive_entries (parent_id, path, size, reason, recorded_at, seq)
		VALUES ($1, 'notes.txt', 5, 'not_media', $2, 2)`, ids[0], now)
	e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
	ann := e.login("ann", "ann-password-1")

	resp, body := e.get(ann, "/staff/queue")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("queue: %d", resp.StatusCode)
	}
	card := body[strings.Index(body, fmt.Sprintf(`id="item-%d"`, ids[0])):]
	card = card[:strings.Index(card, "</section>")]
	for _, want := range []string{
		"Queued because:", "encrypted", "(2 of 3 entries)", "3 entries",
		"<code>dir/a.jpg</code>", "12,345", fmt.Sprintf(`href="/staff/queue?item=%d#item-%d">Item %d</a>`, ids[1], ids[1], ids[1]),
		"for analysts", "<code>secret/&lt;b&gt;.png</code>", "not a picture or video",
	} {
		if !strings.Contains(card, want) {
			t.Errorf("the archive's card lacks %q:\n%s", want, card)
		}
	}
	if strings.Contains(card, "<img") || strings.Contains(card, "/original") {
		t.Errorf("the archive's card shows or reveals its bytes:\n%s", card)
	}
	// The picture beside it keeps its preview.
	if !strings.Contains(body, fmt.Sprintf(`src="/staff/media/%d/preview"`, ids[1])) {
		t.Error("the picture lost its preview")
	}
	// The case page names the container instead of a preview.
	resp, body = e.get(ann, fmt.Sprintf("/staff/cases/%d", caseID))
	if resp.StatusCode != http.StatusOK || strings.Contains(body, fmt.Sprintf("/staff/media/%d/preview", ids[0])) ||
		!strings.Contains(body, fmt.Sprintf("/staff/media/%d/preview", ids[1])) {
		t.Errorf("case page: %d, or it asks for a preview of the archive", resp.StatusCode)
	}
	// In Dutch, French and German, from the catalogue.
	for lang, want := range map[string]string{"nl": "In de wachtrij omdat:", "fr": "Mis en file parce que :", "de": "In der Warteschlange, weil:"} {
		if _, body := e.get(ann, "/staff/queue?lang="+lang); !strings.Contains(body, want) || !strings.Contains(body, "dir/a.jpg") {
			t.Errorf("%s: the archive's reason is not in the language", lang)
		}
	}
}
