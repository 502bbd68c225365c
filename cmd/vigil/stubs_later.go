package main

import (
	"context"
	"errors"
)

// Commands of the banks and index issue, still to come.
func runBank(ctx context.Context, env *Env, args []string) error  { return errors.New("bank: not yet available") }
func runMatch(ctx context.Context, env *Env, args []string) error { return errors.New("match: not yet available") }
