package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"

	"github.com/vigil-hotline/vigil/internal/notify"
)

const packageUsage = `Usage: vigil package open FILE [--identity AGE_KEY_FILE] [--json]

Reads a package a hotline or the police received from a Vigil hotline by
e-mail (the attachment, encrypted or not): checks its manifest, decrypts
it and its media with the age identity, checks every medium against its
SHA-256, and prints the case: reference, sender, URLs, hosting, hashes and
classifications (--json: the manifest as it is). Media are never written
to disk.`

// runPackage reads packages received from other hotlines.
func runPackage(ctx context.Context, env *Env, args []string) error {
	return dispatch(ctx, env, "package", packageUsage, args, []subcommand{{"open", runPackageOpen}})
}

func runPackageOpen(_ context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "package open", packageUsage)
	identity := fs.String("identity", "", "age identity file that decrypts the package (AGE-SECRET-KEY-…)")
	asJSON := fs.Bool("json", false, "print the manifest as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("%s", packageUsage)
	}
	var ids []age.Identity
	if *identity != "" {
		b, err := os.ReadFile(*identity)
		if err != nil {
			return err
		}
		if ids, err = age.ParseIdentities(strings.NewReader(string(b))); err != nil || len(ids) == 0 {
			return fmt.Errorf("%s: not an age identity file", *identity)
		}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, notify.MaxPackageBytes+1))
	if err != nil {
		return err
	}
	if len(data) > notify.MaxPackageBytes {
		return fmt.Errorf("%s: larger than a package may be (%d MiB)", fs.Arg(0), notify.MaxPackageBytes>>20)
	}
	pkg, err := notify.ReadPackage(data, ids...)
	if err != nil {
		if strings.Contains(err.Error(), "decrypt") && len(ids) == 0 {
			return fmt.Errorf("%s: %w (give --identity)", fs.Arg(0), err)
		}
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	m := pkg.Manifest
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}
	fmt.Fprintf(env.Stdout, "case %s from %s to %s (%s), made %s\n", m.CaseRef, m.Sender.Name, m.Recipient.Name,
		m.Recipient.Kind, m.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	for _, it := range m.Items {
		fmt.Fprintf(env.Stdout, "\n%s\n  classification %s", it.URL, it.Classification)
		if it.Severity != "" {
			fmt.Fprintf(env.Stdout, ", severity %s", it.Severity)
		}
		fmt.Fprintln(env.Stdout)
		if h := it.Hosting; h != nil {
			fmt.Fprintf(env.Stdout, "  hosted %s AS%d %s at %s, traced %s\n", h.Country, h.ASN, h.Network,
				strings.Join(h.Addresses, " "), h.TracedAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		for _, md := range it.Media {
			fmt.Fprintf(env.Stdout, "  media sha256 %s md5 %s pdq %s\n", md.SHA256, orDash(md.MD5), orDash(md.PDQ))
		}
	}
	fmt.Fprintf(env.Stdout, "\n%d media included and checked against their SHA-256\n", len(pkg.Media))
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
