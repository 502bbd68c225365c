package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vigil-hotline/vigil"
)

// insertVideoFrames stores the frame lists of the vpdq entries that were
// just added (those with an ID), in the same transaction.
func (db *DB) insertVideoFrames(ctx context.Context, tx Tx, entries []*vigil.BankEntry) error {
	for _, e := range entries {
		if e.Signal != vigil.SignalVPDQ || e.ID == 0 {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO bank_video_frames (entry_id, frames) VALUES ($1, $2)
			ON CONFLICT (entry_id) DO NOTHING`, e.ID, vigil.FormatVideoFrames(e.Frames)); err != nil {
			return fmt.Errorf("video frames of entry %d: %w", e.ID, err)
		}
	}
	return nil
}

// attachVideoFrames reads the frame lists of the vpdq entries among es.
func (db *DB) attachVideoFrames(ctx context.Context, es []*vigil.BankEntry) error {
	byID := map[int64]*vigil.BankEntry{}
	for _, e := range es {
		if e.Signal == vigil.SignalVPDQ {
			byID[e.ID] = e
		}
	}
	if len(byID) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		in, args := inList(ids[start:min(start+chunk, len(ids))])
		rows, err := db.drv.Reader().Query(ctx, `SELECT entry_id, frames FROM bank_video_frames WHERE entry_id IN (`+in+`)`, args...)
		if err != nil {
			return fmt.Errorf("video frames: %w", err)
		}
		for rows.Next() {
			var id int64
			var text string
			if err := rows.Scan(&id, &text); err != nil {
				rows.Close()
				return fmt.Errorf("video frames: %w", err)
			}
			fs, err := vigil.ParseVideoFrames(text)
			if err != nil {
				rows.Close()
				return fmt.Errorf("video frames of entry %d: %w", id, err)
			}
			byID[id].Frames = fs
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("video frames: %w", err)
		}
	}
	return nil
}

// saveMediaVideo records a video's vPDQ hash or why it has none, once.
func (db *DB) saveMediaVideo(ctx context.Context, tx Tx, mediaID int64, h *vigil.MediaHashes) error {
	if h.Video == nil && h.Duration == 0 && h.Format != "video" {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO media_video (media_id, frames, duration, reason) VALUES ($1, $2, $3, $4)
		ON CONFLICT (media_id) DO NOTHING`, mediaID, vigil.FormatVideoFrames(h.Video), h.Duration, h.Error)
	return err
}

// MediaVideo returns what was learnt of a video media item.
func (db *DB) MediaVideo(ctx context.Context, mediaID int64) (*vigil.MediaVideo, error) {
	v := &vigil.MediaVideo{MediaID: mediaID}
	var text string
	err := db.drv.Reader().QueryRow(ctx, `SELECT frames, duration, reason FROM media_video WHERE media_id = $1`, mediaID).
		Scan(&text, &v.Duration, &v.Reason)
	if err != nil {
		return nil, wrap(notFound(err, "media %d has no video hash", mediaID), "media video")
	}
	if strings.TrimSpace(text) != "" {
		if v.Frames, err = vigil.ParseVideoFrames(text); err != nil {
			return nil, fmt.Errorf("media video %d: %w", mediaID, err)
		}
	}
	return v, nil
}

// mediaVideoFrames reads a media item's vPDQ frames inside tx (none when
// it is not a hashed video).
func (db *DB) mediaVideoFrames(ctx context.Context, tx Tx, mediaID int64) ([]vigil.VideoFrame, error) {
	var text string
	err := tx.QueryRow(ctx, `SELECT frames FROM media_video WHERE media_id = $1`, mediaID).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) || err == nil && strings.TrimSpace(text) == "" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return vigil.ParseVideoFrames(text)
}

// inList returns the placeholders ($1,$2,…) and arguments of an IN list of
// IDs.
func inList(ids []int64) (string, []any) {
	var s strings.Builder
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			s.WriteByte(',')
		}
		s.WriteString("$" + strconv.Itoa(i+1))
		args[i] = id
	}
	return s.String(), args
}
