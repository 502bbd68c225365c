package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-hotline/vigil"
)

// Partners: the hotlines Vigil refers cases to (issue 16). Countries are
// stored as ",NL,LU," so that one LIKE finds the partner of a country on
// both databases; our API key at the partner is sealed like every secret.

const partnerColumns = `id, name, countries, base_url, public_key, api_key, age_recipient,
	accept_baseline, accept_national, send_media, created_at`

// partnerKeyColumn is the sealing context of partners' API keys.
const partnerKeyColumn = "partners.api_key"

func formatCountries(cs []string) string { return "," + strings.Join(cs, ",") + "," }

func (db *DB) scanPartner(row Row) (*vigil.Partner, error) {
	p := &vigil.Partner{}
	var countries, key string
	if err := row.Scan(&p.ID, &p.Name, &countries, &p.BaseURL, &p.PublicKey, &key, &p.AgeRecipient,
		&p.AcceptBaseline, &p.AcceptNational, &p.SendMedia, &p.CreatedAt); err != nil {
		return nil, err
	}
	p.Countries = strings.FieldsFunc(countries, func(r rune) bool { return r == ',' })
	plain, err := db.openValue(partnerKeyColumn, key)
	if err != nil {
		return nil, fmt.Errorf("partner %s: %w", p.Name, err)
	}
	p.APIKey = plain
	return p, nil
}

// CreatePartner validates and stores a partner. No two partners serve one
// country: routing must know where a case goes.
func (db *DB) CreatePartner(ctx context.Context, p *vigil.Partner) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = db.Now()
	}
	sealed, err := db.sealValue(partnerKeyColumn, p.APIKey)
	if err != nil {
		return err
	}
	err = db.write(ctx, func(tx Tx) error {
		if err := db.checkCountriesFree(ctx, tx, p); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO partners (name, countries, base_url, public_key, api_key, age_recipient,
			accept_baseline, accept_national, send_media, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			p.Name, formatCountries(p.Countries), p.BaseURL, p.PublicKey, sealed, p.AgeRecipient,
			p.AcceptBaseline, p.AcceptNational, p.SendMedia, p.CreatedAt).Scan(&p.ID)
	})
	if db.drv.IsUniqueViolation(err) {
		return vigil.Errorf(vigil.ECONFLICT, "a partner named %q exists already", p.Name)
	}
	return wrap(err, "create partner")
}

// checkCountriesFree refuses a country another partner serves already.
func (db *DB) checkCountriesFree(ctx context.Context, tx Tx, p *vigil.Partner) error {
	for _, c := range p.Countries {
		var other string
		err := tx.QueryRow(ctx, `SELECT name FROM partners WHERE countries LIKE $1 AND name <> $2`,
			"%,"+c+",%", p.Name).Scan(&other)
		if err == nil {
			return vigil.Errorf(vigil.ECONFLICT, "%s is served by the partner %q already", c, other)
		}
		if err := ignoreNoRows(err); err != nil {
			return err
		}
	}
	return nil
}

// UpdatePartner changes a partner, found by name.
func (db *DB) UpdatePartner(ctx context.Context, p *vigil.Partner) error {
	if err := p.Validate(); err != nil {
		return err
	}
	sealed, err := db.sealValue(partnerKeyColumn, p.APIKey)
	if err != nil {
		return err
	}
	var n int64
	err = db.write(ctx, func(tx Tx) error {
		if err := db.checkCountriesFree(ctx, tx, p); err != nil {
			return err
		}
		n, err = tx.Exec(ctx, `UPDATE partners SET countries = $2, base_url = $3, public_key = $4, api_key = $5,
			age_recipient = $6, accept_baseline = $7, accept_national = $8, send_media = $9 WHERE name = $1`,
			p.Name, formatCountries(p.Countries), p.BaseURL, p.PublicKey, sealed, p.AgeRecipient,
			p.AcceptBaseline, p.AcceptNational, p.SendMedia)
		return err
	})
	if err == nil && n == 0 {
		return vigil.Errorf(vigil.ENOTFOUND, "no partner named %q", p.Name)
	}
	return wrap(err, "update partner")
}

// FindPartner returns a partner by name.
func (db *DB) FindPartner(ctx context.Context, name string) (*vigil.Partner, error) {
	p, err := db.scanPartner(db.drv.Reader().QueryRow(ctx, `SELECT `+partnerColumns+` FROM partners WHERE name = $1`, name))
	return p, wrap(notFound(err, "no partner named %q", name), "find partner")
}

// FindPartnerByKey returns the partner whose public signing key is key
// (base64): how a signed request names its sender.
func (db *DB) FindPartnerByKey(ctx context.Context, key string) (*vigil.Partner, error) {
	p, err := db.scanPartner(db.drv.Reader().QueryRow(ctx, `SELECT `+partnerColumns+` FROM partners WHERE public_key = $1
		ORDER BY id LIMIT 1`, key))
	return p, wrap(notFound(err, "no partner has this public key"), "find partner by key")
}

// PartnerForCountry returns the partner serving a hosting country.
func (db *DB) PartnerForCountry(ctx context.Context, country string) (*vigil.Partner, error) {
	c := strings.ToUpper(strings.TrimSpace(country))
	if len(c) != 2 {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "no partner serves %q", country)
	}
	p, err := db.scanPartner(db.drv.Reader().QueryRow(ctx,
		`SELECT `+partnerColumns+` FROM partners WHERE countries LIKE $1 ORDER BY id LIMIT 1`, "%,"+c+",%"))
	return p, wrap(notFound(err, "no partner serves %s", c), "partner for country")
}

// ListPartners returns every partner by name.
func (db *DB) ListPartners(ctx context.Context) ([]*vigil.Partner, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+partnerColumns+` FROM partners ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	defer rows.Close()
	var out []*vigil.Partner
	for rows.Next() {
		p, err := db.scanPartner(rows)
		if err != nil {
			return nil, fmt.Errorf("list partners: %w", err)
		}
		out = append(out, p)
	}
	return out, wrap(rows.Err(), "list partners")
}

// RemovePartner removes a partner by name. Its referrals stay on the
// record (they name it); further ones from it are refused. Its API keys
// are unbound first, not left to a partner added later under its ID
// (SQLite may give the highest ID again).
func (db *DB) RemovePartner(ctx context.Context, name string) error {
	var n int64
	err := db.write(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE api_keys SET partner_id = NULL
			WHERE partner_id IN (SELECT id FROM partners WHERE name = $1)`, name); err != nil {
			return err
		}
		var err error
		n, err = tx.Exec(ctx, `DELETE FROM partners WHERE name = $1`, name)
		return err
	})
	if err == nil && n == 0 {
		return vigil.Errorf(vigil.ENOTFOUND, "no partner named %q", name)
	}
	return wrap(err, "remove partner")
}
