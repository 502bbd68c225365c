package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"filippo.io/age"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/federation"
)

const partnerUsage = `Usage: vigil partner add NAME --countries NL,LU --public-key KEY [--url URL --api-key-file F]
                         [--accept-baseline=true] [--accept-national=false] [--send-media=false] [--age-recipient AGE_KEY]
       vigil partner list
       vigil partner remove NAME
       vigil partner key [--age]  print this hotline's public signing key, for partners to add us
                                  (--age: our age recipient, that partners encrypt media to)

A partner with --url runs Vigil: referrals go to URL/api/v1/referrals, signed,
with our API key at the partner read from --api-key-file (scope referral).
Without --url the partner gets the e-mail package of the routing rules.
The partner sends us referrals with an API key we issue it, bound to it:
vigil apikey create NAME --scopes referral --partner PARTNER.
--public-key is the partner's key as its "vigil partner key" prints it.
Trust: --accept-baseline applies the partner's baseline classifications
without our analyst (default yes), --accept-national its national-law ones
(default no); --send-media sends media, encrypted to --age-recipient
(default no: hashes only).`

// runPartner manages partner hotlines.
func runPartner(ctx context.Context, env *Env, args []string) error {
	return dispatch(ctx, env, "partner", partnerUsage, args, []subcommand{
		{"add", runPartnerAdd}, {"list", runPartnerList}, {"remove", runPartnerRemove}, {"key", runPartnerKey}})
}

// federationKeyFile holds the secret the federation signing key derives
// from, apart from the media, secrets and audit keys.
func (c *config) federationKeyFile() string {
	return filepath.Join(c.DataDir, "keys", "federation.key")
}

// federationAgeFile holds this hotline's age identity: what partners
// encrypt the media they send with referrals to (its recipient is what
// `vigil partner key --age` prints).
func (c *config) federationAgeFile() string {
	return filepath.Join(c.DataDir, "keys", "federation-age.key")
}

// federationAge loads this hotline's age identity, creating it on first
// use (mode 0600).
func federationAge(c *config) (*age.X25519Identity, error) {
	path := c.federationAgeFile()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		id, gerr := age.GenerateX25519Identity()
		if gerr != nil {
			return nil, fmt.Errorf("federation age identity: %w", gerr)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("federation age identity: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = fmt.Fprintln(f, id.String())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("federation age identity: %w", err)
			}
			return id, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("federation age identity: %w", err)
		}
		b, err = os.ReadFile(path) // made meanwhile by another process
	}
	if err != nil {
		return nil, fmt.Errorf("federation age identity: %w", err)
	}
	id, err := age.ParseX25519Identity(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("federation age identity %s: %w", path, err)
	}
	return id, nil
}

// federationKey loads the federation signing key, creating it on first use.
func federationKey(c *config) (ed25519.PrivateKey, error) {
	secret, err := blob.LoadOrCreateKey(c.federationKeyFile())
	if err != nil {
		return nil, fmt.Errorf("federation key: %w", err)
	}
	return federation.SigningKey(secret), nil
}

func runPartnerAdd(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "partner add", partnerUsage)
	cfg := storeFlags(fs, env)
	p := vigil.NewPartner("")
	countries := fs.String("countries", "", "hosting countries the partner serves, e.g. NL,LU")
	fs.StringVar(&p.BaseURL, "url", "", "the partner's Vigil (https://…); empty for a partner reached by e-mail")
	fs.StringVar(&p.PublicKey, "public-key", "", "the partner's public signing key (base64)")
	keyFile := fs.String("api-key-file", "", "file holding our API key at the partner")
	fs.BoolVar(&p.AcceptBaseline, "accept-baseline", true, "apply the partner's baseline classifications without our analyst")
	fs.BoolVar(&p.AcceptNational, "accept-national", false, "apply the partner's national-law classifications without our analyst")
	fs.BoolVar(&p.SendMedia, "send-media", false, "send media (age-encrypted) with referrals, not only hashes")
	fs.StringVar(&p.AgeRecipient, "age-recipient", "", "the partner's age public key (age1…), for media")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *countries == "" || p.PublicKey == "" {
		return usageError("%s", partnerUsage)
	}
	p.Name = fs.Arg(0)
	cs, err := vigil.ParseCountries(*countries)
	if err != nil {
		return usageError("--countries: %s", vigil.ErrorMessage(err))
	}
	p.Countries = cs
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("--api-key-file: %w", err)
		}
		p.APIKey = strings.TrimSpace(string(b))
	}
	if p.AgeRecipient != "" {
		if _, err := age.ParseX25519Recipient(strings.TrimSpace(p.AgeRecipient)); err != nil {
			return usageError("--age-recipient must be an age public key (age1…)")
		}
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CreatePartner(ctx, p); err != nil {
		return errors.New(vigil.ErrorMessage(err))
	}
	how := "e-mail package"
	if p.IsVigil() {
		how = "referrals to " + p.BaseURL
	}
	fmt.Fprintf(env.Stdout, "partner %q added: %s, %s\n", p.Name, strings.Join(p.Countries, ","), how)
	return nil
}

func runPartnerList(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "partner list", partnerUsage)
	cfg := storeFlags(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("%s", partnerUsage)
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	ps, err := db.ListPartners(ctx)
	if err != nil {
		return err
	}
	// The API keys each partner sends us referrals with (vigil apikey
	// --partner): a partner with none cannot refer to us.
	keys, err := db.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	keysOf := map[string][]string{}
	for _, k := range keys {
		if k.Partner != "" && !k.Revoked {
			keysOf[k.Partner] = append(keysOf[k.Partner], k.Name)
		}
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCOUNTRIES\tURL\tBASELINE\tNATIONAL\tMEDIA\tAPI KEYS\tPUBLIC KEY")
	for _, p := range ps {
		u := p.BaseURL
		if u == "" {
			u = "(e-mail)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, strings.Join(p.Countries, ","), u,
			yesNo(p.AcceptBaseline), yesNo(p.AcceptNational), yesNo(p.SendMedia), orNone(strings.Join(keysOf[p.Name], ",")), p.PublicKey)
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "accept"
	}
	return "no"
}

func runPartnerRemove(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "partner remove", partnerUsage)
	cfg := storeFlags(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("partner remove: give exactly one NAME")
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.RemovePartner(ctx, fs.Arg(0)); err != nil {
		return errors.New(vigil.ErrorMessage(err))
	}
	fmt.Fprintf(env.Stdout, "partner %q removed\n", fs.Arg(0))
	return nil
}

func runPartnerKey(_ context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "partner key", partnerUsage)
	cfg := storeFlags(fs, env)
	ageRecipient := fs.Bool("age", false, "print our age recipient (age1…), that partners encrypt media to")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *ageRecipient {
		id, err := federationAge(cfg)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, id.Recipient().String())
		return nil
	}
	key, err := federationKey(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, federation.PublicKey(key))
	return nil
}
